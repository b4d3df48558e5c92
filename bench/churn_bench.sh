#!/usr/bin/env bash
# Pod churn (bench/churn_bench): CYCLES cycles of runp + create + start + stopp + rmp against a
# berthd with a bench-only root, bridge and table and the busybox fixture image, with berthd's
# RSS, anonymous RSS, fds and threads at 0/250/500/750/1000 cycles; then what is left: mounts, pinned
# namespaces, veths on the bridge, per-pod nftables chains, IPAM allocations, container cgroups
# and berth processes (each must be 0). Removes everything afterwards.
#   sudo bench/churn_bench.sh [build-dir] [cycles]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cycles=${2:-1000}
# shellcheck source=bench/bench_berthd.sh
source bench/bench_berthd.sh
bench_berthd churn bchurn0 10.236.0.0/24 berth_churn
# Counts of berth's things on the whole host: the baseline is taken first, so that what other
# berthd instances own does not count.
host_counts() {
  echo "$(find /sys/fs/cgroup -path '*/berth/*' -mindepth 1 -type d 2>/dev/null | wc -l)" \
    "$(pgrep -c -x berth-monitor || true)" "$(pgrep -c -x berth-pod-init || true)" \
    "$(ps -eo stat= | grep -c '^Z' || true)"
}
read -r cgroups0 monitors0 inits0 zombies0 < <(host_counts)
bench_machine churn
status=0
"$build/bench/churn_bench" --endpoint "unix://$work/berth.sock" --image bench/busybox:1 \
  --berthd-pid "$berthd_pid" --cycles "$cycles" --sample 250 || status=$?

count() { printf '  %-34s %s\n' "$1" "$2"; }
read -r cgroups1 monitors1 inits1 zombies1 < <(host_counts)
echo "left behind after $cycles cycles (berthd still running; every count should be 0):"
count "mounts under the bench's root/state" "$(grep -c -e " $work/" /proc/self/mountinfo || true)"
count "veths on the bridge" "$(ip -o link show master bchurn0 2>/dev/null | wc -l)"
count "per-pod nftables chains" "$(nft list table ip berth_churn 2>/dev/null | grep -c 'chain pod-' || true)"
count "IP allocations in the store" "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute("select count(*) from objects where kind=\"ip_allocation\"").fetchone()[0])' "$work/root/metadata.db")"
count "container cgroups under /berth" "$((cgroups1 - cgroups0))"
count "berth-monitor processes" "$((monitors1 - monitors0))"
count "berth-pod-init processes" "$((inits1 - inits0))"
count "zombie processes" "$((zombies1 - zombies0))"
count "pods listed" "$(ctl pods -q 2>/dev/null | wc -l)"
ps -eo pid=,ppid=,stat=,comm= | awk -v berthd="$berthd_pid" '$3 ~ /^Z/ && $2 == berthd {n++} END {printf "  %-34s %d\n", "of them zombies of berthd", n}'
exit "$status"
