#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts berthd on a temporary
# root/state/socket (with a demo-only bridge, subnet and nftables table), shows berthctl version
# and status, imports a busybox image built locally from Debian's busybox-static (no registry, no
# internet), runs a pod sandbox and shows its address, then removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"

work=$(mktemp -d /tmp/berth-demo-XXXXXX)
berthd_pid=
cleanup() {
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    kill -TERM "$berthd_pid"
    wait "$berthd_pid" || true
  fi
  ip link delete berthdemo0 2>/dev/null || true
  nft delete table ip berth_demo 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

socket="$work/berth.sock"
cat >"$work/berth.yaml" <<YAML
network:
  bridge: berthdemo0
  subnet: 10.251.0.0/24
  nft_table: berth_demo
YAML
build/cmd/berthd/berthd --config "$work/berth.yaml" --root "$work/root" --state "$work/state" \
  --listen "$socket" --log-level debug 2>"$work/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "berthd did not start:"; cat "$work/berthd.log"; exit 1; }

ctl() { echo "\$ berthctl $*"; build/cmd/berthctl/berthctl --endpoint "unix://$socket" "$@"; echo; }
ctl version
ctl status
python3 test/fixtures/images.py build "$work/images" >/dev/null
ctl import "$work/images/busybox.oci.tar" --name demo/busybox:latest
ctl images
ctl inspecti demo/busybox:latest >"$work/inspecti.json"
head -n 25 "$work/inspecti.json"; echo "  ..."
cat >"$work/pod.yaml" <<YAML
metadata: {name: demo, namespace: default, uid: demo-uid-1, attempt: 0}
hostname: demo
log_directory: $work/logs/demo
dns_config: {servers: [10.96.0.10], searches: [default.svc.cluster.local]}
labels: {app: demo}
linux:
  security_context:
    namespace_options: {network: POD, pid: CONTAINER, ipc: POD}
YAML
echo "\$ berthctl runp pod.yaml"
pod=$(build/cmd/berthctl/berthctl --endpoint "unix://$socket" runp "$work/pod.yaml")
echo "$pod"; echo
ctl pods
ip=$(build/cmd/berthctl/berthctl --endpoint "unix://$socket" -o json inspectp "$pod" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["network"]["ip"])')
echo "pod IP: $ip (inside its own network namespace, behind bridge berthdemo0)"
ping -c 1 -W 2 "$ip" >/dev/null 2>&1 && echo "the host reaches the pod at $ip" ||
  echo "the host could not reach the pod at $ip"
echo
ctl stopp "$pod"
ctl rmp "$pod"
ctl rmi demo/busybox:latest
echo "berthd log:"
cat "$work/berthd.log"
