// The inventory the lab benches (bench:plan, bench:apply) generate: two LVS-DR directors and N-2
// real servers behind one DR service on one VIP, all on the bench's own lab bridge. Each bench
// passes its own bridge, /24 and names, so two benches never share a lab or its known_hosts.

/** What differs between the benches that build such an inventory. */
export interface BenchLab {
  /** The lab bridge, e.g. kaops-bplan0. */
  bridge: string
  /** The first three octets of the lab's /24 (inside 198.18.0.0/15). */
  net: string
  /** The bench's name, as in `npm run bench:NAME`: metadata.name is bench-NAME-N. */
  bench: string
  /** The two directors; the first is the preferred VRRP master. */
  directors: [string, string]
  /** Prefix of the real servers' names: prefix01, prefix02, ... */
  realPrefix: string
  vipName: string
  vrid: number
  /** The environment variable that may hold the VRRP password (default 'bench'). */
  secretEnv: string
  /** known_hosts of this bench's lab hosts. */
  knownHosts: string
}

/** The first address of the real servers: .101, .102, ... (directors are .11 and .12, the host .1, the VIP .250). */
const FIRST_REAL = 101

export const benchVip = (lab: BenchLab): string => `${lab.net}.250`

/** An inventory with two directors and n-2 real servers, all in the one lab block. */
export function benchLabInventory(lab: BenchLab, n: number): unknown {
  const vip = benchVip(lab)
  const reals = Array.from({length: n - 2}, (_, i) => ({
    name: `${lab.realPrefix}${String(i + 1).padStart(2, '0')}`,
    address: `${lab.net}.${FIRST_REAL + i}/24`,
  }))
  const [master, backup] = lab.directors
  return {
    apiVersion: 'kaops/v1',
    kind: 'Inventory',
    metadata: {name: `bench-${lab.bench}-${n}`, description: `bench:${lab.bench}, ${n} hosts`},
    ssh: {user: 'root', port: 22, identityFile: '~/.cache/kaops/lab/id_ed25519', knownHosts: lab.knownHosts},
    directors: lab.directors.map((name, i) => ({name, address: `${lab.net}.${11 + i}/24`, interface: 'eth0'})),
    ...(reals.length ? {realServers: reals} : {}),
    vips: [
      {
        name: lab.vipName,
        vrid: lab.vrid,
        interface: 'eth0',
        addresses: [`${vip}/24`],
        version: 2,
        advertInterval: 1,
        priorities: {[master]: 150, [backup]: 100},
        authentication: {type: 'PASS', secret: {env: lab.secretEnv, default: 'bench'}},
      },
    ],
    // With no real server there is nothing to balance: a VIP alone is still a valid inventory.
    ...(reals.length
      ? {
          services: [
            {
              name: 'web',
              vip: lab.vipName,
              address: vip,
              port: 80,
              protocol: 'TCP',
              scheduler: 'rr',
              forwarding: 'DR',
              delayLoop: 3,
              healthCheck: {type: 'HTTP_GET', path: '/', statusCode: 200, connectTimeout: 2, retry: 1, delayBeforeRetry: 1},
              realServers: reals.map((r) => ({name: r.name, port: 80, weight: 1})),
            },
          ],
        }
      : {}),
    lab: {
      bridge: lab.bridge,
      hostAddress: `${lab.net}.1/24`,
      suite: 'bookworm',
      // The same package list as inventories/lab.yaml, so the cached base image is reused.
      packages: ['iproute2', 'nftables', 'curl', 'python3', 'tcpdump', 'iputils-ping', 'iputils-arping', 'procps', 'keepalived'],
    },
  }
}
