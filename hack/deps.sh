#!/usr/bin/env bash
# Installs the Debian packages the test bed and the tests need, when missing.
set -euo pipefail

# command:package pairs; a package is installed when its command is missing.
need=(
  containerd:containerd
  runc:runc
  /usr/lib/cni/bridge:containernetworking-plugins
  iptables:iptables
  conntrack:conntrack
  etcd:etcd-server
  busybox:busybox-static
  docker-registry:docker-registry
  ip:iproute2
  nsenter:util-linux
  rsync:rsync
  stunnel4:stunnel4
  curl:curl
  restic:restic # the repository benchmark's baseline (what MTC uses)
)
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if [[ $cmd == /* ]]; then [[ -e $cmd ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
# busybox must be the static build: the dynamic one cannot run in a scratch image.
if command -v busybox >/dev/null 2>&1 && ! dpkg -s busybox-static >/dev/null 2>&1; then
  missing+=(busybox-static)
fi
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
