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
# shellcheck source=bench/bench_berthd.sh
source bench/bench_berthd.sh
bench_berthd stream bsbench0 10.238.0.0/24 berth_sbench
bench_machine streaming
if ! "$build/bench/stream_bench" --endpoint "unix://$work/berth.sock" --image bench/busybox:1 \
  --runs "$runs" --transfer-mb "$megabytes"; then
  echo "--- berthd log" >&2
  tail -n 30 "$work/berthd.log" >&2
  exit 1
fi
