#!/usr/bin/env bash
# CreateContainer+StartContainer latency (bench/container_bench) against a berthd with a
# bench-only root, bridge and table, the busybox fixture image imported; and the resident memory
# of a running container's berth-monitor. Removes everything afterwards.
#   sudo bench/container_bench.sh [build-dir] [containers]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
count=${2:-100}
# shellcheck source=bench/bench_berthd.sh
source bench/bench_berthd.sh
bench_berthd container bcbench0 10.237.0.0/24 berth_cbench
bench_machine container
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
