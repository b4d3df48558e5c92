#!/usr/bin/env bash
# Runs the Kubernetes CRI validation suite (critest, from cri-tools) against berthd.
#
#   test/critest/run-critest.sh                 run critest, when it is on PATH or in $CRITEST
#   test/critest/run-critest.sh --check-setup   no critest: prepare everything it needs, check it
#                                               with berthctl (pulls through the mirrors, a pod on
#                                               the test network), clean up
#
# What it does (as root, on 127.0.0.1 only):
#   1. builds the images critest v1.36 pulls (registry.k8s.io/e2e-test-images/busybox:1.29-2,
#      nginx, httpd, nonewprivs, pause, gcr.io/k8s-staging-cri-tools/test-image-*, ...) from
#      busybox-static under the same names and tags (critest_images.py) and pushes them to a local
#      docker-registry (test/fixtures/registry.py);
#   2. starts berthd (build/cmd/berthd/berthd) on a temporary root, state and socket, at log level
#      debug, with registries.mirrors sending registry.k8s.io, k8s.gcr.io, gcr.io and docker.io to
#      that registry, the builtin network on a test-only bridge, subnet and nftables table, and
#      https_proxy/http_proxy set to a closed port on 127.0.0.1 (no_proxy=127.0.0.1,localhost), so
#      that a pull the mirror cannot serve fails instead of leaving the machine;
#   3. asks berthd whether it implements containers and exec (one probe spec each, then berthd's
#      log says whether CreateContainer / Exec answered UNIMPLEMENTED) and skips the specs that
#      cannot pass here: AppArmor where the kernel has none, the pull by upstream digest (no
#      rebuild has that digest), NoNewPrivs without a C compiler, and everything that needs
#      containers or streaming while berthd answers UNIMPLEMENTED for them;
#   4. runs critest with --runtime-endpoint/--image-endpoint on berthd's socket and writes
#      `critest: N passed, N failed, N skipped` and the failures (critest_report.py);
#   5. cleans up: removes pods left behind, stops berthd and the registry, unmounts what is left
#      under the temporary directories, deletes the test bridge, its veths and the nftables table,
#      and removes the 1 MiB SysV shm segments critest's HostIpc specs made on the host (ipcmk).
#
# Results (kept): $CRITEST_RESULTS (default build/critest/): summary.txt, report.json,
# critest.log, berthd.log, probe-*.log, images.json, berth.yaml.
#
# Environment: CRITEST (critest binary), BUILD_DIR (default build), BERTHD, BERTHCTL,
# CRITEST_RESULTS, CRITEST_FOCUS (a --ginkgo.focus regex), CRITEST_SKIP (one more --ginkgo.skip
# regex), CRITEST_ARGS (more critest arguments, split on spaces), CRITEST_NO_PROBE=1 (do not
# probe, skip only AppArmor/digest/NoNewPrivs), KEEP_WORKDIR=1 (keep the temporary directory).
#
# Exit status: 0 when critest ran and nothing failed, or when it did not run because critest is
# absent or this is not root (it says so); 1 when a spec failed or the set-up broke. With
# --check-setup: 0 all checks passed, 1 one failed, 77 not root or a tool is missing.
# shellcheck disable=SC2317  # cleanup() and the check functions are called indirectly
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
fixtures=$src/test/fixtures
build_dir=${BUILD_DIR:-$src/build}
berthd_bin=${BERTHD:-$build_dir/cmd/berthd/berthd}
berthctl_bin=${BERTHCTL:-$build_dir/cmd/berthctl/berthctl}
results=${CRITEST_RESULTS:-$build_dir/critest}

mode=run
case "${1:-}" in
  "") ;;
  --check-setup) mode=check ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--check-setup]" >&2; exit 2 ;;
esac

log() { echo "run-critest: $*"; }

# --- Should we run at all? -------------------------------------------------------------------
critest_bin=
if [ "$mode" = run ]; then
  critest_bin=${CRITEST:-$(command -v critest || true)}
  if [ -z "$critest_bin" ]; then
    log "critest not found (put it on PATH or set CRITEST=/path/to/critest): did not run"
    log "(test/critest/run-critest.sh --check-setup prepares and checks everything else)"
    exit 0
  fi
  if [ ! -x "$critest_bin" ]; then
    log "CRITEST=$critest_bin is not an executable file"
    exit 1
  fi
fi
not_run_status=0
[ "$mode" = check ] && not_run_status=77
if [ "$(id -u)" -ne 0 ]; then
  log "needs root (berthd makes namespaces, mounts, a bridge and nftables rules): did not run"
  exit "$not_run_status"
fi
missing=()
for tool in python3 ip nft findmnt /usr/bin/docker-registry /bin/busybox; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "missing ${missing[*]} (scripts/install-deps.sh installs them): did not run"
  if [ "$mode" = check ]; then exit 77; fi
  exit 1
fi
for binary in "$berthd_bin" "$berthctl_bin"; do
  if [ ! -x "$binary" ]; then
    log "$binary is not built (cmake --build build, or set BERTHD / BERTHCTL)"
    exit 1
  fi
done

# --- Work directories and names --------------------------------------------------------------
mkdir -p "$results"
rm -f "$results"/{summary.txt,report.json,critest.log,berthd.log,probe-*.log,probe-*.json}
work=$(mktemp -d /tmp/berth-critest.XXXXXX)
# berthd's root and state live below: pods with a user namespace need o+x on the way (mktemp
# makes it 0700).
chmod 0711 "$work"
hex=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
bridge=bcr$hex
table=berth_cr$hex
subnet=
for _ in $(seq 1 50); do
  a=$((200 + RANDOM % 50)) b=$((RANDOM % 250))
  if ! ip -4 route show | grep -q "^10\.$a\.$b\."; then subnet=10.$a.$b.0/24; break; fi
done
[ -n "$subnet" ] || { log "found no free 10.x.y.0/24 for the test network"; exit 1; }
endpoint=unix://$work/state/berth.sock
berthd_pid=
registry_started=
shm_before=  # SysV shm IDs on the host before critest: its HostIpc specs ipcmk 1 MiB segments

berthctl() { "$berthctl_bin" --endpoint "$endpoint" "$@"; }

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    local pods
    pods=$(berthctl --timeout 30 pods -q 2>/dev/null)
    if [ -n "$pods" ]; then
      log "removing $(echo "$pods" | wc -l) pod(s) left behind"
      # shellcheck disable=SC2086  # one ID per word
      berthctl --timeout 60 rmp $pods >/dev/null || log "could not remove every pod: $pods"
    fi
    kill -TERM "$berthd_pid"
    for _ in $(seq 1 200); do kill -0 "$berthd_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$berthd_pid" 2>/dev/null; then
      log "berthd did not stop within 20 s: SIGKILL"
      kill -KILL "$berthd_pid"
    fi
    wait "$berthd_pid" 2>/dev/null
  fi
  if [ -n "$registry_started" ]; then
    python3 "$fixtures/registry.py" stop --dir "$work/registry" ||
      log "registry processes survived; see $work/registry"
    cp "$work/registry/registry.log" "$results/registry.log" 2>/dev/null
  fi
  # Mounts berthd left under its root and state (a crash, a pod it could not remove).
  local mounts
  mounts=$(findmnt -rn -o TARGET | grep "^$work/" | sort -r)
  if [ -n "$mounts" ]; then
    log "unmounting $(echo "$mounts" | wc -l) mount(s) left under $work"
    echo "$mounts" | while read -r target; do umount -l "$target"; done
  fi
  if ip link show "$bridge" >/dev/null 2>&1; then
    ip -o link show master "$bridge" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 |
      while read -r veth; do ip link delete "$veth" 2>/dev/null; done
    ip link delete "$bridge"
  fi
  # The segments critest's HostIpc specs made on the host (ipcmk -M 1048576) and left: new since
  # critest started, 1 MiB, attached nowhere.
  if [ -n "$shm_before" ] && [ -r /proc/sysvipc/shm ]; then
    awk 'NR > 1 && $4 == 1048576 && $7 == 0 {print $2}' /proc/sysvipc/shm | while read -r id; do
      case " $shm_before " in *" $id "*) ;; *) ipcrm -m "$id" 2>/dev/null ;; esac
    done
  fi
  nft delete table ip "$table" 2>/dev/null
  nft delete table ip6 "$table" 2>/dev/null
  if [ "${KEEP_WORKDIR:-0}" = 1 ]; then
    log "kept $work"
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Images and registry ---------------------------------------------------------------------
log "work directory $work; results in $results"
registry_json=$(python3 "$fixtures/registry.py" start --dir "$work/registry" --mode anonymous)
registry_started=1
registry_host=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["host"])' <<<"$registry_json")
log "docker-registry on $registry_host"
python3 "$here/critest_images.py" build-push --out "$work/images" --registry-dir "$work/registry"
cp "$work/images/images.json" "$results/images.json"

# --- berthd ----------------------------------------------------------------------------------
# A closed port on 127.0.0.1 as the proxy: an origin registry the mirror cannot stand in for is
# "reached" through it, which fails at once and never leaves the machine.
dead_proxy=http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mirror="[\"http://$registry_host\"]"
cat >"$work/berth.yaml" <<EOF
# berthd for run-critest.sh (test only)
root: $work/root
state: $work/state
listen: $work/state/berth.sock
log_level: debug
network:
  mode: builtin
  bridge: $bridge
  subnet: $subnet
  nft_table: $table
registries:
  mirrors:
    registry.k8s.io: $mirror
    k8s.gcr.io: $mirror
    gcr.io: $mirror
    docker.io: $mirror
  insecure: ["$registry_host"]
EOF
cp "$work/berth.yaml" "$results/berth.yaml"
env -u HTTPS_PROXY -u HTTP_PROXY -u ALL_PROXY -u all_proxy -u NO_PROXY \
  https_proxy="$dead_proxy" http_proxy="$dead_proxy" no_proxy=127.0.0.1,localhost \
  "$berthd_bin" --config "$work/berth.yaml" >"$results/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 1 200); do
  berthctl --timeout 1 version >/dev/null 2>&1 && break
  kill -0 "$berthd_pid" 2>/dev/null || { log "berthd exited; see $results/berthd.log"; exit 1; }
  sleep 0.1
done
berthctl version >/dev/null || { log "berthd does not answer on $endpoint"; exit 1; }
log "berthd $(berthctl version | awk '/RuntimeVersion/ {print $2}') on $endpoint (bridge $bridge, subnet $subnet, nft table $table)"

# --- --check-setup ---------------------------------------------------------------------------
if [ "$mode" = check ]; then
  passed=0 failed=0
  check() {  # check NAME COMMAND...
    local name=$1
    shift
    if "$@" >"$work/check.out" 2>&1; then
      passed=$((passed + 1)); echo "ok   $name"
    else
      failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/check.out" | head -20
    fi
  }
  pull_all() {
    local ref
    while read -r ref; do berthctl --timeout 120 pull "$ref" || return 1; done < <(
      python3 -c 'import json,sys; [print(i["ref"]) for i in json.load(open(sys.argv[1]))["images"]]' \
        "$work/images/images.json")
  }
  same_ids() {  # every reference resolves to the image ID it was built with
    local ref want got
    while read -r ref want; do
      got=$(berthctl -o json images 2>/dev/null | python3 -c '
import json, sys
ref = sys.argv[1]
for image in json.load(sys.stdin).get("images", []):
    if ref in image.get("repoTags", []):
        print(image["id"])' "$ref")
      [ "$got" = "$want" ] || { echo "$ref: image ID ${got:-none}, built as $want"; return 1; }
    done < <(python3 -c 'import json,sys; [print(i["ref"], i["image_id"]) for i in json.load(open(sys.argv[1]))["images"]]' \
      "$work/images/images.json")
  }
  unmirrored_pull_fails_locally() {
    local start=$SECONDS
    if berthctl --timeout 60 pull registry.k8s.io/e2e-test-images/not-built-here:1.0; then
      echo "a pull of an image the local registry does not have succeeded"; return 1
    fi
    [ $((SECONDS - start)) -lt 30 ] || { echo "the failing pull took $((SECONDS - start)) s"; return 1; }
    # berthd logs libcurl's error for the origin: it went to the dead proxy, not to the internet.
    grep -q "Failed to connect to 127.0.0.1 port ${dead_proxy##*:}" "$results/berthd.log" ||
      { echo "berthd's log does not show the origin request failing at the proxy"; return 1; }
  }
  pod_on_test_network() {
    local config=$work/pod.yaml id ip
    mkdir -p "$work/podlogs"
    printf 'metadata: {name: critest-setup, uid: critest-setup-uid, namespace: berth-critest}\nlogDirectory: %s\nlinux: {}\n' \
      "$work/podlogs" >"$config"
    id=$(berthctl --timeout 120 runp "$config") || return 1
    ip=$(berthctl inspectp "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["network"]["ip"])')
    echo "pod $id has IP $ip"
    ip -o link show master "$bridge" | grep -q . || { echo "no veth on $bridge"; return 1; }
    case "$ip" in "${subnet%.0/24}".*) ;; *) echo "IP $ip is not in $subnet"; return 1 ;; esac
    berthctl rmp "$id" || return 1
    [ -z "$(berthctl pods -q)" ] || { echo "pod still listed after rmp"; return 1; }
  }
  remove_all() {
    # shellcheck disable=SC2046  # one ID per word
    berthctl rmi $(berthctl images -q) && [ -z "$(berthctl images -q)" ]
  }
  check "berthctl status answers" berthctl status
  check "pull all $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["images"]))' "$work/images/images.json") critest references through the mirrors" pull_all
  check "every reference has the image ID it was built with (pause from two registries: one ID)" same_ids
  check "a pull the local registry cannot serve fails at once (the origin only via the dead proxy)" unmirrored_pull_fails_locally
  check "a pod sandbox on the test bridge $bridge ($subnet), then removed" pod_on_test_network
  check "rmi removes every image" remove_all
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
  exit 0
fi

# --- What to skip --------------------------------------------------------------------------
skips=() reasons=()
skip() { skips+=("$1"); reasons+=("$2"); }
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
  skip '\[k8s\.io\] AppArmor' "AppArmor is not enabled in this kernel"
fi
skip 'runtime should support MaskedPaths' \
  "masks /bin/ls and expects sh -c ls to fail, but Debian's busybox-static sh runs ls as a built-in applet without exec'ing /bin/ls (berth's own security_context_test checks masked paths)"
skip 'public image with digest should be pulled and removed' \
  "pulls gcr.io/k8s-staging-cri-tools/test-image-digest by its upstream digest, which no local rebuild has"
if ! python3 -c 'import json,sys; sys.exit(0 if any(i["ref"].endswith("/nonewprivs:1.3") for i in json.load(open(sys.argv[1]))["images"]) else 1)' \
     "$work/images/images.json"; then
  skip 'NoNewPrivs' "the nonewprivs image was not built (no C compiler)"
fi

shm_before=" $(awk 'NR > 1 {printf "%s ", $2}' /proc/sysvipc/shm 2>/dev/null) "
critest_env=(env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u all_proxy)
base_args=(--runtime-endpoint "$endpoint" --image-endpoint "$endpoint" --ginkgo.no-color)

# probe NAME FOCUS RPC: runs the one spec FOCUS, then prints what berthd's log says about RPC
# during it: unimplemented (it answered UNIMPLEMENTED), implemented, or unknown (never called).
probe() {
  local name=$1 focus=$2 rpc=$3 from
  from=$(($(wc -l <"$results/berthd.log") + 1))
  (cd "$work" && "${critest_env[@]}" "$critest_bin" "${base_args[@]}" --ginkgo.focus "$focus" \
     --ginkgo.json-report "$results/probe-$name.json") >"$results/probe-$name.log" 2>&1 || true
  if tail -n "+$from" "$results/berthd.log" | grep -q "rpc=/runtime.v1.RuntimeService/$rpc code=12 "; then
    echo unimplemented
  elif tail -n "+$from" "$results/berthd.log" | grep -q "rpc=/runtime.v1.RuntimeService/$rpc "; then
    echo implemented
  else
    echo unknown
  fi
}

if [ "${CRITEST_NO_PROBE:-0}" != 1 ]; then
  containers=$(probe containers 'runtime should support creating container \[Conformance\]' CreateContainer)
  log "probe: CreateContainer is $containers"
  if [ "$containers" = unimplemented ]; then
    why="berthd answers CreateContainer with UNIMPLEMENTED (README: Containers)"
    skip '\[k8s\.io\] Container ' "$why"
    skip '\[k8s\.io\] Multiple Containers' "$why"
    skip '\[k8s\.io\] Security Context' "$why"
    skip '\[k8s\.io\] Networking' "$why"
    skip '\[k8s\.io\] Streaming' "$why"
    skip '\[k8s\.io\] PodSandbox runtime should support sysctls' "$why (the sysctl specs read them in a container)"
    skip '\[k8s\.io\] Idempotence (StopContainer|RemoveContainer)' "$why"
  elif [ "$containers" = implemented ]; then
    streaming=$(probe streaming 'runtime should support exec with tty=false and stdin=false' Exec)
    log "probe: Exec is $streaming"
    if [ "$streaming" = unimplemented ]; then
      skip '\[k8s\.io\] Streaming' "berthd answers Exec with UNIMPLEMENTED (README: Streaming)"
    fi
  else
    log "probe: the container probe never reached CreateContainer; see $results/probe-containers.log (nothing skipped for it)"
  fi
fi
if [ -n "${CRITEST_SKIP:-}" ]; then skip "$CRITEST_SKIP" "CRITEST_SKIP"; fi

{
  echo "critest $("$critest_bin" --version 2>/dev/null | awk '/version/ {print $NF; exit}') against berthd on $endpoint"
  echo "skipped on purpose (--ginkgo.skip):"
  for i in "${!skips[@]}"; do echo "  ${skips[$i]}    # ${reasons[$i]}"; done
} | tee "$results/summary.txt"

# --- critest ---------------------------------------------------------------------------------
args=("${base_args[@]}" --ginkgo.v --ginkgo.json-report "$results/report.json")
for s in "${skips[@]}"; do args+=(--ginkgo.skip "$s"); done
[ -n "${CRITEST_FOCUS:-}" ] && args+=(--ginkgo.focus "$CRITEST_FOCUS")
if [ -n "${CRITEST_ARGS:-}" ]; then
  read -r -a extra <<<"$CRITEST_ARGS"
  args+=("${extra[@]}")
fi
log "running critest (log: $results/critest.log)"
critest_status=0
(cd "$work" && "${critest_env[@]}" "$critest_bin" "${args[@]}") >"$results/critest.log" 2>&1 ||
  critest_status=$?
log "critest exited with status $critest_status"

report_status=0
python3 "$here/critest_report.py" "$results/report.json" --berthd-log "$results/berthd.log" \
  --out "$results/summary.txt" || report_status=$?
[ "$report_status" -eq 0 ] || exit 1
exit 0
