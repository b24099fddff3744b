#!/usr/bin/env bash
# The demo: the sample stateful app deployed on the src cluster, then
# migrated to dst with `ferry migrate`, answering there.
# make demo runs this after make clusters-up images.
set -euo pipefail
cd "$(dirname "$0")/.."
LC=.localclusters
KUBECTL=$LC/bin/kubectl
FERRY=bin/ferry
export KUBECONFIG=$PWD/$LC/dst/kubeconfig # the host cluster: dst
src() { "$KUBECTL" --kubeconfig "$LC/src/kubeconfig" "$@"; }
dst() { "$KUBECTL" --kubeconfig "$LC/dst/kubeconfig" "$@"; }

answer() { # wait until the app answers at $1, then show its summary
  for _ in $(seq 1 60); do curl -fsS "$1/healthz" >/dev/null 2>&1 && break; sleep 1; done
  curl -fsS "$1/"
}

image=$(sed -n 's/^sampleapp=//p' "$LC/src/images")
# The data movers' image is the host's mover-image setting, which
# make images stored (ferry config get mover-image shows it).
[[ -n $image ]] || { echo "no sample app image: run make images" >&2; exit 1; }

# A second run starts from scratch: undo the previous demo's migration.
if dst get plans.ferry.dev demo -n ferry-system >/dev/null 2>&1; then
  echo "==> rolling back the previous demo migration"
  "$FERRY" rollback demo --wait
fi

echo "==> deploying the sample app on src ($image)"
sed "s|SAMPLEAPP_IMAGE|$image|" examples/sampleapp/app.yaml | src apply -f -
src -n demo rollout status deployment/web --timeout=120s
src_url="http://$(cat $LC/src/node-ip):$(src -n demo get service web -o jsonpath='{.spec.ports[0].nodePort}')"
echo "==> the app answers on src at $src_url"
answer "$src_url"
curl -fsS -X POST --data "order $(date +%s) placed on src" "$src_url/records"

echo
echo "==> registering the clusters with their internal registries"
# The sample app's image lives in src's registry: the migration copies it
# into dst's registry (step CopyImages) and rewrites the reference, so
# nothing on dst pulls from src.
"$FERRY" cluster add src --kubeconfig "$LC/src/kubeconfig" --registry "$(cat $LC/src/registry)" --registry-insecure
"$FERRY" cluster add dst --kubeconfig "$LC/dst/kubeconfig" --registry "$(cat $LC/dst/registry)" --registry-insecure

echo "==> migrating namespace demo from src to dst"
start=$(date +%s.%N)
"$FERRY" migrate --from src --to dst -n demo
printf '==> migrate took %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"

dst_url="http://$(cat $LC/dst/node-ip):$(dst -n demo get service web -o jsonpath='{.spec.ports[0].nodePort}')"
echo "==> the app answers on dst at $dst_url"
answer "$dst_url"
echo "==> its records came along with its volume:"
curl -fsS "$dst_url/records"
echo "==> the source is quiesced:"
src -n demo get deployment web

# The web console, for the demo's host (dst), in the background until
# make clusters-down.
if [[ -f $LC/console.pid ]] && kill -0 "$(cat $LC/console.pid)" 2>/dev/null; then
  kill "$(cat $LC/console.pid)" 2>/dev/null || true
fi
"$FERRY" console > "$LC/console.log" 2>&1 &
echo $! > "$LC/console.pid"
console_url=""
for _ in $(seq 1 100); do
  console_url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/?key=[A-Za-z0-9_-]*' "$LC/console.log" | head -1 || true)
  [[ -n $console_url ]] && break
  sleep 0.2
done
[[ -n $console_url ]] || { echo "the console did not start:" >&2; cat "$LC/console.log" >&2; exit 1; }

cat <<INFO

The web console: $console_url
(signs in once; its log: $LC/console.log)

Two clusters run on this machine:
$(./$LC/bin/localclusters --repo "$PWD" status)

Use them with:
  export PATH=$PWD/$LC/bin:$PWD/bin:\$PATH KUBECONFIG=$PWD/$LC/dst/kubeconfig
  kubectl get ferry -n ferry-system            # clusters, plans, migrations
  ferry status                                 # migrations and their steps
  kubectl --kubeconfig $LC/src/kubeconfig -n demo get all,pvc,cm,secret
  curl $dst_url/
  ferry rollback demo --wait                   # undo: remove from dst, restart on src

Stop them with: make clusters-down
INFO
