#!/usr/bin/env bash
# Streaming latency and port-forward throughput (bench/stream_bench) against a berthd with a
# bench-only root, bridge and table, the busybox fixture image imported; its streaming server on
# 127.0.0.1 (the default). Removes everything afterwards.
#   sudo bench/stream_bench.sh [build-dir] [runs] [transfer-mb]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-200}
megabytes=${3:-256}
work=$(mktemp -d /tmp/berth-stream-bench-XXXXXX)
berthd_pid=
cleanup() {
  set +e
  [ -n "$berthd_pid" ] && kill -TERM "$berthd_pid" 2>/dev/null && wait "$berthd_pid"
  ip link delete bsbench0 2>/dev/null
  nft delete table ip berth_sbench 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/berth.yaml" <<YAML
network: {bridge: bsbench0, subnet: 10.238.0.0/24, nft_table: berth_sbench}
YAML
"$build/cmd/berthd/berthd" --config "$work/berth.yaml" --root "$work/root" --state "$work/state" \
  --listen "$work/berth.sock" --log-level warn 2>"$work/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done
python3 test/fixtures/images.py build "$work/images" >/dev/null
ctl() { "$build/cmd/berthctl/berthctl" --endpoint "unix://$work/berth.sock" "$@"; }
ctl import "$work/images/busybox.oci.tar" --name bench/busybox:1 >/dev/null
echo "streaming benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
if ! "$build/bench/stream_bench" --endpoint "unix://$work/berth.sock" --image bench/busybox:1 \
  --runs "$runs" --transfer-mb "$megabytes"; then
  echo "--- berthd log" >&2
  tail -n 30 "$work/berthd.log" >&2
  exit 1
fi
