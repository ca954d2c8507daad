/**
 * keepalived.conf setups from the seeds' common shapes, one text per director, for the import
 * round-trip tests. Addresses are rewritten into 198.18.0.0/15 (the project's lab range).
 */

export interface Setup {
  name: string
  /** file path -> keepalived.conf text; one main file per director. */
  files: Record<string, string>
  /** VIP name -> auth_pass, fed to the secret env the inventory references. */
  passwords: Record<string, string>
}

const lvsDr = (state: string, prio: number, src: string): string => `! Configuration File for keepalived (LVS-DR, seed 001)
global_defs {
   notification_email {
     ops@example.org
   }
   notification_email_from lvs@example.org
   smtp_server 198.18.9.25
   smtp_connect_timeout 30
   router_id ${state === 'MASTER' ? 'LVS_MASTER' : 'LVS_BACKUP'}
}

vrrp_instance VI_1 {
    state ${state}
    interface eth0
    mcast_src_ip ${src}
    virtual_router_id 51
    priority ${prio}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        198.18.2.100
    }
}

virtual_server 198.18.2.100 80 {
    delay_loop 6
    lb_algo wrr
    lb_kind DR
    persistence_timeout 50
    protocol TCP

    real_server 198.18.2.30 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 10
            nb_get_retry 3
            delay_before_retry 3
            connect_port 80
        }
    }
    real_server 198.18.2.40 80 {
        weight 2
        TCP_CHECK {
            connect_timeout 10
            nb_get_retry 3
            delay_before_retry 3
            connect_port 80
        }
    }
}
`

const nginx = (state: string, prio: number, src: string): string => `global_defs {
   router_id nginx_${state === 'MASTER' ? 'a' : 'b'}
   script_user root
   enable_script_security
}

vrrp_script chk_nginx {
    script "/usr/bin/killall -0 nginx"
    interval 2
    weight -20
    fall 3
    rise 2
}

vrrp_instance VI_1 {
    state ${state}
    interface ens33
    mcast_src_ip ${src}
    virtual_router_id 51
    priority ${prio}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass nginxpw
    }
    virtual_ipaddress {
        198.18.3.200/24 dev ens33 label ens33:1
    }
    track_script {
        chk_nginx
    }
    notify_master "/etc/keepalived/notify.sh master"
    notify_backup "/etc/keepalived/notify.sh backup"
    notify_fault "/etc/keepalived/notify.sh fault"
}
`

const dual = (me: 'a' | 'b', src: string): string => `global_defs {
   router_id web_${me}
}

vrrp_instance VI_1 {
    state ${me === 'a' ? 'MASTER' : 'BACKUP'}
    interface eth0
    mcast_src_ip ${src}
    virtual_router_id 51
    priority ${me === 'a' ? 150 : 100}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass one1
    }
    virtual_ipaddress {
        198.18.4.101
    }
}

vrrp_instance VI_2 {
    state ${me === 'b' ? 'MASTER' : 'BACKUP'}
    interface eth0
    mcast_src_ip ${src}
    virtual_router_id 52
    priority ${me === 'b' ? 150 : 100}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass two2
    }
    virtual_ipaddress {
        198.18.4.102
    }
}
`

const unicast = (me: string, peer: string, prio: number): string => `global_defs {
   router_id lb_${me.split('.').pop()}
}

vrrp_instance VI_1 {
    state BACKUP
    nopreempt
    interface eth1
    virtual_router_id 60
    priority ${prio}
    advert_int 2
    unicast_src_ip ${me}
    unicast_peer {
        ${peer}
    }
    authentication {
        auth_type PASS
        auth_pass uni
    }
    virtual_ipaddress {
        198.18.5.10/24
    }
}

virtual_server 198.18.5.10 80 {
    delay_loop 3
    lb_algo rr
    lb_kind NAT
    protocol TCP

    real_server 198.18.6.11 8080 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 3
            retry 2
            delay_before_retry 2
        }
    }
    real_server 198.18.6.12 8080 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 3
            retry 2
            delay_before_retry 2
        }
    }
}
`

export const SETUPS: Setup[] = [
  {name: 'LVS-DR pair', files: {'/imp/lvs/master.conf': lvsDr('MASTER', 100, '198.18.2.11'), '/imp/lvs/backup.conf': lvsDr('BACKUP', 90, '198.18.2.12')}, passwords: {VI_1: '1111'}},
  {name: 'nginx pair with a check script', files: {'/imp/nginx/a.conf': nginx('MASTER', 100, '198.18.3.11'), '/imp/nginx/b.conf': nginx('BACKUP', 90, '198.18.3.12')}, passwords: {VI_1: 'nginxpw'}},
  {name: 'dual master', files: {'/imp/dual/a.conf': dual('a', '198.18.4.11'), '/imp/dual/b.conf': dual('b', '198.18.4.12')}, passwords: {VI_1: 'one1', VI_2: 'two2'}},
  {name: 'unicast pair', files: {'/imp/uni/a.conf': unicast('198.18.5.11', '198.18.5.12', 100), '/imp/uni/b.conf': unicast('198.18.5.12', '198.18.5.11', 90)}, passwords: {VI_1: 'uni'}},
]

/** Things with no inventory field: each must come out as a WARNING and a raw line. */
export const UNMAPPED = `global_defs {
   router_id odd
   vrrp_strict
   vrrp_garp_interval 0.001
}
static_ipaddress {
    198.18.7.5/24 dev eth0
}
vrrp_instance VI_9 {
    interface eth0
    unicast_src_ip 198.18.7.11
    virtual_router_id 9
    priority 100
    use_vmac
    virtual_ipaddress {
        198.18.7.100
    }
}
virtual_server fwmark 7 {
    lb_algo rr
    lb_kind DR
    real_server 198.18.7.21 80 {
        weight 1
    }
}
`
