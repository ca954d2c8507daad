#!/usr/bin/env bash
# Installs what kaops' build and tests need on a Debian machine, only what is missing.
# Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi

[[ "$which" == unit ]] && exit 0

# Debian packages the lab and the interop tests use: command -> package.
declare -A need=(
  [debootstrap]=debootstrap
  [systemd-nspawn]=systemd-container
  [ip]=iproute2
  [nft]=nftables
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [sshd]=openssh-server
  [keepalived]=keepalived
  [tcpdump]=tcpdump
  [curl]=curl
  [ping]=iputils-ping
)
# Only the benchmarks compare against Ansible (npm run bench:plan installs it this way);
# npm test never needs it.
[[ "$which" == bench ]] && need[ansible-playbook]=ansible
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing Debian packages (${missing[*]}); run as root or: apt-get install ${missing[*]}" >&2
    exit 3
  fi
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "install-deps: apt-get install ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # Packages such as keepalived and openssh-server would start their daemons on this machine;
  # the tests start their own in network namespaces, so forbid service starts while installing.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; own_policy=1; fi
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 || { ((own_policy)) && rm -f "$policy"; exit 1; }
  ((own_policy)) && rm -f "$policy"
  # The Debian keepalived package enables its service; the tests run their own instances.
  if [[ " ${pkgs[*]} " == *" keepalived "* ]]; then
    systemctl disable --now keepalived >/dev/null 2>&1 || true
  fi
fi
