#!/usr/bin/env bash
# Installs the Debian packages the test bed and the tests need, when missing.
#
#   hack/deps.sh          everything: the test bed, Node.js and Chromium
#   hack/deps.sh node     only Node.js and npm (the console's build, `make build`)
#   hack/deps.sh browser  Node.js, npm and Chromium (the console's browser test)
set -euo pipefail

group=${1:-all}

# command:package pairs; a package is installed when its command is missing.
node=(
  node:nodejs
  npm:npm
)
browser=(
  /usr/bin/chromium:chromium # driven by playwright-core in web/tests; never a downloaded browser
)
testbed=(
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
case $group in
  node) need=("${node[@]}") ;;
  browser) need=("${node[@]}" "${browser[@]}") ;;
  all) need=("${testbed[@]}" "${node[@]}" "${browser[@]}") ;;
  *) echo "hack/deps.sh: unknown group $group: use node, browser or none for all" >&2; exit 2 ;;
esac
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if [[ $cmd == /* ]]; then [[ -e $cmd ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
# busybox must be the static build: the dynamic one cannot run in a scratch image.
if [[ $group == all ]] && command -v busybox >/dev/null 2>&1 && ! dpkg -s busybox-static >/dev/null 2>&1; then
  missing+=(busybox-static)
fi
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Vite 8 needs Node.js 20.19 or later (Debian 12's own nodejs is 18).
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "hack/deps.sh: Node.js $(node --version) is too old for the console's build (Vite 8 needs 20.19 or later): install a newer nodejs package, then run make build again" >&2
  exit 1
fi
