#!/usr/bin/env bash
# berth side by side with containerd + runc from Debian's packages: the same CRI clients
# (bench/sandbox_bench, container_bench, churn_bench) and the same memory probe against berthd,
# then against containerd, one after the other in one run, each with its own root, state, socket,
# bridge and subnet. Prints each side's numbers and the berth/containerd ratios (medians; p99
# beside them). containerd and runc are installed for the run where missing (no service started)
# and purged again afterwards; everything either runtime made is removed.
#   sudo bench/compare/compare.sh [build-dir] [pods] [containers] [cycles] [running]
# pods: sandbox_bench's pods; containers: container_bench's; cycles: churn cycles; running: pods
# with one sleeping container each for the memory probe.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
pods=${2:-50}
containers=${3:-50}
cycles=${4:-200}
running=${5:-20}
[ "$(id -u)" = 0 ] || { echo "compare: needs root" >&2; exit 77; }
for binary in cmd/berthd/berthd cmd/berthctl/berthctl bench/sandbox_bench bench/container_bench bench/churn_bench; do
  [ -x "$build/$binary" ] || { echo "compare: $build/$binary is missing (build first)" >&2; exit 1; }
done
# crictl from cri-tools (README: building critest and crictl); CRICTL overrides.
crictl=${CRICTL:-$(command -v crictl || echo /work/tools/bin/crictl)}
[ -x "$crictl" ] || { echo "compare: crictl not found (set CRICTL)" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-compare-XXXXXX)
results=$work/results
mkdir -p "$results"
installed=()
berthd_pid=
containerd_pid=
cni_bin=/usr/lib/cni
containerd_bridge=bcmpc0
# shellcheck source=bench/bench_berthd.sh
source bench/bench_berthd.sh

say() { echo "compare: $*" >&2; }

cleanup() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ]; then
    for log in "$work/berthd.log" "$work/containerd.log"; do
      [ -s "$log" ] && { say "the end of $log:"; tail -n 20 "$log" >&2; }
    done
  fi
  stop_berthd
  stop_containerd
  if [ ${#installed[@]} -gt 0 ]; then
    say "purging ${installed[*]} (installed for this run)"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${installed[@]}" >>"$work/apt.log" 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- containerd and runc, for this run only ---------------------------------------------------
for package in containerd runc; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    installed+=("$package")
done
if [ ${#installed[@]} -gt 0 ]; then
  say "installing ${installed[*]} for this run"
  # No service may start (policy-rc.d 101): the benchmark runs its own containerd.
  policy_saved=
  if [ -e /usr/sbin/policy-rc.d ]; then policy_saved=$work/policy-rc.d; cp -a /usr/sbin/policy-rc.d "$policy_saved"; fi
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${installed[@]}" \
    >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
  if [ -n "$policy_saved" ]; then cp -a "$policy_saved" /usr/sbin/policy-rc.d; else rm -f /usr/sbin/policy-rc.d; fi
fi
containerd --version >"$results/containerd.version"
runc --version | head -n 1 >"$results/runc.version"

# --- containerd's images: busybox, and a sandbox ("pause") image from the same layer ----------
python3 - "$work/containerd-images" <<'PY'
import os, sys
sys.path.insert(0, "test/fixtures")
import images
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, cfg in (("busybox", {"Cmd": ["sh"]}),
                  ("pause", {"Entrypoint": ["/bin/sleep", "2147483647"]})):
    spec = images.ImageSpec(layers=[images.rootfs_layer()], config=cfg)
    images.build_image(spec, f"{out}/{name}", ref="1")
    images.write_docker_archive(f"{out}/{name}", f"{out}/{name}.docker.tar", f"bench/{name}:1")
PY

# Runs the workloads against ENDPOINT; NAME is the side (berth, containerd), PID its daemon.
run_workloads() {
  local name=$1 endpoint=$2 pid=$3 image=$4
  say "$name: sandbox_bench ($pods pods)"
  "$build/bench/sandbox_bench" --endpoint "$endpoint" --pods "$pods" --concurrent 10 \
    >"$results/$name.sandbox" 2>&1 || { cat "$results/$name.sandbox" >&2; return 1; }
  say "$name: container_bench ($containers containers)"
  "$build/bench/container_bench" --endpoint "$endpoint" --image "$image" --containers "$containers" \
    >"$results/$name.container" 2>&1 || { cat "$results/$name.container" >&2; return 1; }
  say "$name: churn_bench ($cycles cycles)"
  "$build/bench/churn_bench" --endpoint "$endpoint" --image "$image" --berthd-pid "$pid" \
    --cycles "$cycles" --sample "$cycles" >"$results/$name.churn" 2>&1 ||
    { cat "$results/$name.churn" >&2; return 1; }
}

# $running pods with one sleeping container each, made with the CRI (bench/compare/memory.py),
# then the Pss of the runtime's processes; everything is removed again.
memory_probe() {
  local name=$1 endpoint=$2 image=$3
  shift 3
  say "$name: memory of $running running pods"
  python3 bench/compare/memory.py --crictl "$crictl" --endpoint "$endpoint" --image "$image" \
    --pods "$running" --work "$work/memory-$name" --report "$results/$name.memory" -- "$@"
}

# --- berth: bench/bench_berthd.sh's berthd, pods removed first -------------------------------
stop_berthd() {
  [ -n "$berthd_pid" ] || return 0
  "$crictl" -r "unix://$work/berth.sock" rmp -fa >/dev/null 2>&1 || true
  bench_berthd_stop || true
}

# --- containerd --------------------------------------------------------------------------------
start_containerd() {
  ip netns list | awk '{print $1}' | sort >"$work/netns.before"
  mkdir -p "$work/cni" "$work/containerd"
  cat >"$work/cni/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench-compare",
 "plugins": [{"type": "bridge", "bridge": "$containerd_bridge", "isGateway": true, "ipMasq": false,
              "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.239.0.0/24"}]],
                       "dataDir": "$work/cni-ipam"}}]}
JSON
  cat >"$work/containerd.toml" <<TOML
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[debug]
  level = "${CONTAINERD_LOG_LEVEL:-warn}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/bench/pause:1"
  # Where the host forbids lowering oom_score_adj (as here), runc fails the pause container's -998.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$work/cni"
TOML
  containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
  containerd_pid=$!
  for _ in $(seq 200); do [ -S "$work/containerd.sock" ] && break; sleep 0.05; done
  for image in busybox pause; do
    ctr --address "$work/containerd.sock" -n k8s.io images import "$work/containerd-images/$image.docker.tar" \
      >/dev/null
  done
}
stop_containerd() {
  [ -n "$containerd_pid" ] || return 0
  "$crictl" -r "unix://$work/containerd.sock" rmp -fa >/dev/null 2>&1 || true
  kill -TERM "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null || true
  containerd_pid=
  # Whatever a failed removal left running: the containers' processes (in containerd's cgroups,
  # /k8s.io/<id>), the shims of this containerd (they outlive it by design), its mounts, cgroups.
  local task id
  for task in "$work"/containerd/state/io.containerd.runtime.v2.task/k8s.io/*; do
    [ -d "$task" ] || continue
    id=$(basename "$task")
    cat /sys/fs/cgroup/*/k8s.io/"$id"/cgroup.procs /sys/fs/cgroup/k8s.io/"$id"/cgroup.procs \
      2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  pkill -f "containerd-shim-runc-v2 .*-address $work/containerd.sock" 2>/dev/null || true
  sleep 0.5
  for task in "$work"/containerd/state/io.containerd.runtime.v2.task/k8s.io/*; do
    [ -d "$task" ] && find /sys/fs/cgroup -depth -path "*/k8s.io/$(basename "$task")" -type d \
      -exec rmdir {} + 2>/dev/null || true
  done
  { grep -o " $work/[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done
  ip link delete "$containerd_bridge" 2>/dev/null || true
  # The pods' network namespaces (cni-<uuid>) containerd made and did not remove.
  ip netns list | awk '{print $1}' | sort | comm -13 "$work/netns.before" - | { grep '^cni-' || true; } |
    while read -r netns; do ip netns delete "$netns"; done
  return 0
}

say "berth"
bench_berthd_run bcmp0 10.238.0.0/24 berth_cmp
run_workloads berth "unix://$work/berth.sock" "$berthd_pid" bench/busybox:1
memory_probe berth "unix://$work/berth.sock" bench/busybox:1 \
  "berthd .*$work" "berth-monitor .*$work" "^berth-pod-init "
stop_berthd

say "containerd $(cut -d' ' -f3 "$results/containerd.version") + $(cut -d' ' -f3 "$results/runc.version")"
start_containerd
run_workloads containerd "unix://$work/containerd.sock" "$containerd_pid" docker.io/bench/busybox:1
memory_probe containerd "unix://$work/containerd.sock" docker.io/bench/busybox:1 \
  "^containerd --config $work" "containerd-shim-runc-v2 .*$work/containerd.sock" "^/bin/sleep 2147483647"
stop_containerd

python3 bench/compare/report.py "$results"
