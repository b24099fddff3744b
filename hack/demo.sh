#!/usr/bin/env bash
# The demo: the sample stateful app deployed on the src cluster, answering.
# make demo runs this after make clusters-up images.
set -euo pipefail
cd "$(dirname "$0")/.."
LC=.localclusters
KUBECTL=$LC/bin/kubectl
src() { "$KUBECTL" --kubeconfig "$LC/src/kubeconfig" "$@"; }

image=$(sed -n 's/^sampleapp=//p' "$LC/src/images")
[[ -n $image ]] || { echo "no sample app image: run make images" >&2; exit 1; }

echo "==> deploying the sample app on src ($image)"
sed "s|SAMPLEAPP_IMAGE|$image|" examples/sampleapp/app.yaml | src apply -f -
src -n demo rollout status deployment/web --timeout=120s

node_ip=$(cat "$LC/src/node-ip")
port=$(src -n demo get service web -o jsonpath='{.spec.ports[0].nodePort}')
url="http://$node_ip:$port"
echo "==> the app answers at $url"
for _ in $(seq 1 30); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS -X POST --data "order $(date +%s) placed by the demo" "$url/records"
curl -fsS "$url/"
echo
echo "==> records kept in its volume:"
curl -fsS "$url/records"

cat <<INFO

Two clusters run on this machine:
$(./$LC/bin/localclusters --repo "$PWD" status)

Use them with:
  export PATH=$PWD/$LC/bin:\$PATH
  kubectl --kubeconfig $LC/src/kubeconfig -n demo get all,pvc,cm,secret
  kubectl --kubeconfig $LC/dst/kubeconfig get nodes
  curl $url/

Stop them with: make clusters-down
INFO
