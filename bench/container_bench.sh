#!/usr/bin/env bash
# CreateContainer+StartContainer latency (bench/container_bench) against a berthd with a
# bench-only root, bridge and table, the busybox fixture image imported; and the resident memory
# of a running container's berth-monitor. Removes everything afterwards.
#   sudo bench/container_bench.sh [build-dir] [containers]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
count=${2:-100}
work=$(mktemp -d /tmp/berth-container-bench-XXXXXX)
berthd_pid=
cleanup() {
  set +e
  [ -n "$berthd_pid" ] && kill -TERM "$berthd_pid" 2>/dev/null && wait "$berthd_pid"
  ip link delete bcbench0 2>/dev/null
  nft delete table ip berth_cbench 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/berth.yaml" <<YAML
network: {bridge: bcbench0, subnet: 10.237.0.0/24, nft_table: berth_cbench}
YAML
"$build/cmd/berthd/berthd" --config "$work/berth.yaml" --root "$work/root" --state "$work/state" \
  --listen "$work/berth.sock" --log-level warn 2>"$work/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done
python3 test/fixtures/images.py build "$work/images" >/dev/null
ctl() { "$build/cmd/berthctl/berthctl" --endpoint "unix://$work/berth.sock" "$@"; }
ctl import "$work/images/busybox.oci.tar" --name bench/busybox:1 >/dev/null
echo "container benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
"$build/bench/container_bench" --endpoint "unix://$work/berth.sock" --image bench/busybox:1 \
  --containers "$count"

# One running container: the private memory (Pss of its own pages) of its monitor.
cat >"$work/pod.yaml" <<YAML
metadata: {name: rss, namespace: bench, uid: rss-uid}
YAML
cat >"$work/ctr.yaml" <<YAML
metadata: {name: sleeper}
image: {image: bench/busybox:1}
command: [/bin/sleep, "300"]
YAML
pod=$(ctl runp "$work/pod.yaml")
ctr=$(ctl create "$pod" "$work/ctr.yaml")
ctl start "$ctr" >/dev/null
monitor=$(ctl -o json inspect "$ctr" | python3 -c 'import json,sys; print(json.load(sys.stdin)["info"]["monitorPid"])')
awk '/^Private_(Clean|Dirty)/ {kb += $2} END {printf "berth-monitor private memory: %d KiB\n", kb}' \
  "/proc/$monitor/smaps_rollup"
ctl rmp "$pod" >/dev/null
