#!/usr/bin/env bash
# Launcher-only latency (bench/launcher_bench): the same busybox /bin/true bundle run to its exit
# and deleted by berth's launcher in process, through berth-monitor, by runc and, if installed, by
# crun. Installs runc (Debian's, bench-only) when missing; builds nothing. The monitors' state dirs
# and the runtimes' --root go on a tmpfs of its own, as /run is on a node (state=disk keeps them
# in the temp dir instead). Removes the tmpfs, temp dir and bench cgroups afterwards.
#   sudo bench/launcher_bench.sh [build-dir] [runs] [tmpfs|disk]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-200}
state_on=${3:-tmpfs}
for binary in "$build/bench/launcher_bench" "$build/cmd/berthd/berth-monitor"; do
  [ -x "$binary" ] || { echo "$binary missing: ninja -C $build launcher_bench berth-monitor" >&2; exit 1; }
done
if ! command -v runc >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null
fi
work=$(mktemp -d /tmp/berth-launcher-bench-XXXXXX)
cgroup=berth-lbench-$$  # parent of the containers' cgroup, in every hierarchy
cleanup() {
  set +e
  # Normally gone already; a run that failed halfway may leave a container's cgroup behind.
  for dir in /sys/fs/cgroup/*/"$cgroup"; do
    [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} \;
  done
  mountpoint -q "$work/state" && umount "$work/state"
  if grep -q "$work" /proc/self/mountinfo; then
    echo "mounts left under $work:" >&2
    grep "$work" /proc/self/mountinfo >&2
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
mkdir "$work/state"
[ "$state_on" = tmpfs ] && mount -t tmpfs -o mode=0700,size=64m berth-lbench "$work/state"
echo "launcher benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "$(runc --version | head -1), $(command -v crun >/dev/null && crun --version | head -1 || echo 'crun not installed');" \
  "state on $(stat -f -c %T "$work/state"), $runs containers per variant"
"$build/bench/launcher_bench" --work "$work" --state "$work/state" --runs "$runs" --cgroup "/$cgroup" \
  --monitor "$(realpath "$build/cmd/berthd/berth-monitor")" --runc "$(command -v runc)" --crun "$(command -v crun || true)"
