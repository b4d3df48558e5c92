#!/usr/bin/env bash
# The VM lane's in-guest suite, run by berth-vm-suite.service from the host's share (/mnt/host,
# laid out by scripts/test-vm.sh):
#   env.sh              HOST_SOURCE_DIR, HOST_BUILD_DIR, VM_GTEST_FILTER (replaces the filters
#                       of tests.txt), VM_RUN_KNOWN, VM_TEST_TIMEOUT
#   tests.txt           the binaries to run, in order: "[VAR=VALUE] NAME [GTEST_FILTER]" lines (a VAR
#                       is set for that run, reported as NAME[VALUE])
#   install/            berth's installed tree (DESTDIR of `cmake --install --prefix /usr/local`)
#   build/, source/     the parts of the host's build and source trees the tests use, bound here
#                       at the host's own absolute paths (the fixtures find berthd, berthctl and
#                       test/fixtures through paths compiled in)
#   known-failures.txt  tests that fail today and are being fixed (README.md)
#   results/            written here: results.txt, summary.txt, status, per-binary XML and logs,
#                       smoke.log, the journal, dmesg
# Every line meant for the host has "berth-vm: " (scripts/test-vm.sh shows those live; the
# console puts the kernel's time and the unit's name before it).
set -uo pipefail

share=/mnt/host
results=$share/results
# shellcheck source=/dev/null
. "$share/env.sh"
known_file=$share/known-failures.txt
report() { python3 "$share/report.py" "$@"; }
mkdir -p "$results"
: >"$results/results.txt"

say() { echo "berth-vm: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
say "runner started at guest uptime $(uptime_s) s"
echo "suite_start $(uptime_s)" >"$results/timing.txt"

# --- The node, as the tests will see it -----------------------------------------------------
{
  echo "kernel: $(uname -r)"
  echo "init: $(ps -o comm= -p 1) ($(systemctl --version | head -n 1))"
  echo "cgroup fs: $(stat -f -c %T /sys/fs/cgroup)"
  echo "cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
  echo "cgroup subtree_control (root): $(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)"
  echo "apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)"
  echo "lsm: $(cat /sys/kernel/security/lsm 2>/dev/null)"
  echo "cpus: $(nproc), memory: $(free -m | awk '/Mem:/ {print $2}') MiB"
} >"$results/node.txt" 2>&1
while read -r line; do say "node: $line"; done <"$results/node.txt"

# --- The host's trees at the host's paths ---------------------------------------------------
# Shorter path first: a build tree inside the source tree is bound over the bound source tree.
while read -r target from; do
  mkdir -p "$target" && mount --bind "$share/$from" "$target" ||
    say "cannot bind $share/$from at $target"
done < <(printf '%s source\n%s build\n' "$HOST_SOURCE_DIR" "$HOST_BUILD_DIR" |
  awk '{ print length($1), $0 }' | sort -n | cut -d' ' -f2-)

# --- berth installed as an operator would -----------------------------------------------------
record() {  # STATUS NAME SECONDS DETAIL
  printf '%s\tsmoke\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results/results.txt"
}
smoke_known_reason() {  # NAME: the reason when the step is on the known-failures list
  awk -v n="$1" '$1 == "smoke" && $2 == n { sub(/^[^#]*#? */, ""); print; found = 1; exit }
                 END { exit !found }' "$known_file"
}
smoke_log=$results/smoke.log
: >"$smoke_log"
failed_steps=" "
# step NAME NEEDS COMMAND...: runs COMMAND (output to smoke.log and $step_output) unless a step
# in NEEDS failed.
step_output=
step() {
  local name=$1 needs=$2; shift 2
  local need
  for need in $needs; do
    if [[ $failed_steps == *" $need "* ]]; then
      record SKIP "$name" 0 "not run: $need failed"
      failed_steps+="$name "
      say "SKIP smoke $name (needs $need)"
      return 1
    fi
  done
  echo "== $name: $*" >>"$smoke_log"
  local start=$SECONDS output status
  output=$("$@" 2>&1); status=$?
  step_output=$output
  printf '%s\n' "$output" >>"$smoke_log"
  local took=$((SECONDS - start)) reason
  if reason=$(smoke_known_reason "$name"); then
    if [ $status -eq 0 ]; then
      record FIXED "$name" $took "passes now: take it off test/vm/known-failures.txt"
      say "KNOWN FAILURE FIXED: smoke $name passes now (take it off test/vm/known-failures.txt)"
    else
      record KNOWN "$name" $took "$reason | $(printf '%s' "$output" | tail -n 1)"
      say "KNOWN FAILURE (not yet fixed): smoke $name: $reason"
      failed_steps+="$name "
      return 1
    fi
  elif [ $status -eq 0 ]; then
    record PASS "$name" $took ""
    say "PASS smoke $name (${took} s)"
  else
    record FAIL "$name" $took "exit $status: $(printf '%s' "$output" | tail -n 1)"
    say "FAIL smoke $name: $(printf '%s' "$output" | tail -n 3 | tr '\n' ' ')"
    failed_steps+="$name "
    return 1
  fi
}

ctl() { /usr/local/bin/berthctl "$@"; }
wait_socket() {
  local _
  for _ in $(seq 120); do
    ctl version >/dev/null 2>&1 && return 0
    sleep 1
  done
  systemctl status --no-pager berthd
  return 1
}
install_berth() {
  cp -a "$share/install/usr/local/." /usr/local/ &&
    install -D -m 0644 /usr/local/share/berth/berth.example.yaml /etc/berth/berth.yaml &&
    systemctl daemon-reload && systemctl enable --now berthd && wait_socket
}
contains() {  # PATTERN COMMAND...: runs COMMAND and checks that its output has PATTERN
  local pattern=$1; shift
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
  printf '%s\n' "$out"
  grep -q -- "$pattern" <<<"$out" || { echo "output lacks \"$pattern\""; return 1; }
}
eventually() {  # PATTERN COMMAND...: contains, retried for up to 20 s (a log written meanwhile)
  local _
  for _ in $(seq 20); do
    contains "$@" >/dev/null 2>&1 && break
    sleep 1
  done
  contains "$@"
}
stop_berthd() {  # the node's berthd stops on SIGTERM, cleanly, as systemd asks
  systemctl disable --now berthd || return 1
  local state
  state=$(systemctl show -p ActiveState -p Result berthd)
  echo "$state"
  grep -qx 'ActiveState=inactive' <<<"$state" && grep -qx 'Result=success' <<<"$state"
}
restart_berthd() {
  systemctl restart berthd && wait_socket
}
no_left_over() {  # systemd's "Found left-over process N (berth-monitor) in control group"
  local found
  found=$(journalctl -b --no-pager -o cat | grep -i 'left-over process') || true
  [[ -z $found ]] || { printf '%s\n' "$found"; return 1; }
  echo "no left-over process in berthd.service"
}
node_ready() {  # berthctl status: both conditions true
  local out
  out=$(ctl status 2>&1) || { printf '%s\n' "$out"; return 1; }
  printf '%s\n' "$out"
  grep -Eq '^RuntimeReady +true' <<<"$out" && grep -Eq '^NetworkReady +true' <<<"$out" ||
    { echo "RuntimeReady and NetworkReady are not both true"; return 1; }
}
smoke_dir=$(mktemp -d /tmp/berth-smoke-XXXXXX)
cat >"$smoke_dir/pod.yaml" <<YAML
metadata: {name: smoke, namespace: default, uid: smoke-uid-1, attempt: 0}
hostname: smoke
log_directory: /var/log/pods/default_smoke_smoke-uid-1
linux:
  security_context:
    namespace_options: {network: POD, pid: CONTAINER, ipc: POD}
YAML
cat >"$smoke_dir/sleeper.yaml" <<'YAML'
metadata: {name: sleeper}
image: {image: vm/busybox:latest}
command: [/bin/sh, -c, "echo started; exec /bin/busybox sleep 3600"]
log_path: sleeper.log
YAML
smoke() {
  say "berthctl smoke test against the systemd-managed berthd"
  step install "" install_berth
  step version "install" contains "berth" ctl version
  step status "install" node_ready
  step info "install" ctl info
  step image "install" python3 "$HOST_SOURCE_DIR/test/fixtures/images.py" build "$smoke_dir/images"
  step import "image" ctl import "$smoke_dir/images/busybox.oci.tar" --name vm/busybox:latest
  local pod="" container=""
  step runp "import" ctl runp "$smoke_dir/pod.yaml" && pod=$(tail -n 1 <<<"$step_output")
  step create "runp" ctl create "$pod" "$smoke_dir/sleeper.yaml" &&
    container=$(tail -n 1 <<<"$step_output")
  step start "create" ctl start "$container"
  step exec "start" contains "hello from the vm" \
    ctl exec "$container" /bin/busybox echo "hello from the vm"
  step logs "start" eventually "started" ctl logs "$container"
  # AppArmor: the container (and what exec starts in it) runs under berth-default.
  step apparmor "start" contains "berth-default" \
    ctl exec "$container" /bin/busybox cat /proc/self/attr/current
  # A restart of the unit keeps the container (KillMode=process) and, with berthd's helpers out of
  # its cgroup, systemd finds no left-over process in it.
  step restart "start" restart_berthd
  step restart-keeps-container "restart" contains "still here" \
    ctl exec "$container" /bin/busybox echo "still here"
  step no-left-over "restart" no_left_over
  step stop "start" ctl stop -T 2 "$container"
  step rm "create" ctl rm "$container"
  step rmp "runp" ctl rmp "$pod"
  step rmi "import" ctl rmi vm/busybox:latest
  # The tests below start their own berthd processes: the node's one stops, cleanly.
  step systemd-stop "install" stop_berthd
  step journal "install" journalctl -u berthd --no-pager -o cat
}
smoke
echo "smoke_end $(uptime_s)" >>"$results/timing.txt"

# --- The integration test binaries -------------------------------------------------------------
run_binary() {  # NAME GTEST_FILTER [VAR=VALUE]: with a VAR, the run is reported as NAME[VALUE]
  local program=$1 name=$1 binary setting=${3:-}
  local -a environment=()
  if [ -n "$setting" ]; then
    environment=("$setting")
    name+="[${setting#*=}]"
  fi
  binary=$(find "$HOST_BUILD_DIR/test" -name "$program" -type f -perm -u+x -print -quit)
  if [ -z "$binary" ]; then
    printf 'FAIL\t%s\t(binary)\t0\tnot in the build tree\n' "$name" >>"$results/results.txt"
    say "FAIL $name: not in the build tree"
    return
  fi
  "$binary" --gtest_list_tests >"$results/$name.list" 2>&1
  local known negative=""
  mapfile -t known < <(report known "$known_file" "$name")
  local stale
  while read -r stale; do
    [ -n "$stale" ] && say "WARNING: known failure $name $stale matches no test (stale entry?)"
  done < <(report check-known "$known_file" "$name" "$results/$name.list")
  local entry
  # Reported with their reasons once the binary has run (report left-out).
  for entry in "${known[@]}"; do negative+="${negative:+:}$entry"; done
  local filter=${VM_GTEST_FILTER:-${2:-*}}
  if [ -n "$negative" ]; then
    if [[ $filter == *-* ]]; then filter+=":$negative"; else filter+="-$negative"; fi
  fi
  say "running $name --gtest_filter='$filter'"
  local start=$SECONDS status
  (cd /tmp && env "${environment[@]}" timeout --kill-after=10 "$VM_TEST_TIMEOUT" "$binary" --gtest_color=no \
    --gtest_filter="$filter" --gtest_output="xml:$results/$name.xml") >"$results/$name.log" 2>&1
  status=$?
  say "$name exited $status after $((SECONDS - start)) s"
  local lines_before
  lines_before=$(wc -l <"$results/results.txt")
  if [ -s "$results/$name.xml" ]; then
    report gtest "$results/$name.xml" "$name" "$known_file" "$results/results.txt"
  else
    # Killed (timeout, crash): gtest wrote no XML, its log still tells each test's fate.
    report gtest-log "$results/$name.log" "$name" "$known_file" "$results/results.txt"
  fi
  # A crash or a timeout leaves no XML, or one without the test that was running.
  if [ "$status" -ne 0 ] && ! tail -n +"$((lines_before + 1))" "$results/results.txt" | grep -q '^FAIL'; then
    local why="exit status $status"
    [ "$status" -eq 124 ] && why="timed out after $VM_TEST_TIMEOUT s"
    printf 'FAIL\t%s\t(binary)\t%s\t%s: %s\n' "$name" "$((SECONDS - start))" "$why" \
      "$(grep -v '^\s*$' "$results/$name.log" | tail -n 1)" >>"$results/results.txt"
  fi
  if [ -n "$negative" ] && [ "${VM_RUN_KNOWN:-0}" != 1 ]; then
    report left-out "$known_file" "$name" "$results/$name.list" "$results/results.txt"
  fi
  if [ -n "$negative" ] && [ "${VM_RUN_KNOWN:-0}" = 1 ]; then
    say "running the known failures of $name (--run-known; they do not count)"
    (cd /tmp && env "${environment[@]}" timeout --kill-after=10 "$VM_TEST_TIMEOUT" "$binary" --gtest_color=no \
      --gtest_filter="$negative" --gtest_output="xml:$results/$name.known.xml") \
      >"$results/$name.known.log" 2>&1
    [ -s "$results/$name.known.xml" ] &&
      report gtest "$results/$name.known.xml" "$name" "$known_file" "$results/results.txt"
  fi
  tail -n +"$((lines_before + 1))" "$results/results.txt" |
    while IFS=$'\t' read -r st bin test secs detail; do
      [ "$st" = KNOWN ] && st="KNOWN FAILURE (not yet fixed):"
      [ "$st" = FIXED ] && st="KNOWN FAILURE FIXED:"
      say "$st $bin $test ($secs s)${detail:+: $detail}"
    done
}
while read -r -u 3 name filter; do
  setting=""
  if [[ $name == *=* ]]; then  # "VAR=VALUE NAME [FILTER]"
    setting=$name
    read -r name filter <<<"$filter"
  fi
  run_binary "$name" "$filter" "$setting" </dev/null
  echo "${name}${setting:+[${setting#*=}]}_end $(uptime_s)" >>"$results/timing.txt"
done 3<"$share/tests.txt"

# --- Diagnostics and the verdict ---------------------------------------------------------------
journalctl -b --no-pager >"$results/journal.txt" 2>&1
dmesg >"$results/dmesg.txt" 2>&1
rm -rf "$smoke_dir"
summary=$(report summary "$results/results.txt"); status=$?
echo "$summary" >"$results/summary.txt"
echo "suite_end $(uptime_s)" >>"$results/timing.txt"
echo "$status" >"$results/status"
sync
say "summary: $summary"
say "done (status $status) at guest uptime $(uptime_s) s"
exit 0
