#!/usr/bin/env bash
# The VM lane: runs berth on a real node's setup (Debian bookworm guest: systemd as PID 1, pure
# cgroup v2, AppArmor) under QEMU, from the binaries built on this host. See test/vm/README.md.
#
#   scripts/test-vm.sh [--keep] [--out DIR] [--filter GTEST_FILTER] [--tests "NAME..."]
#                      [--run-known] [--accel auto|kvm|tcg] [--timeout SECONDS] [--rebuild-image]
#
#   --keep            keep the VM output dir (share, console.log, results); printed at the end
#   --out DIR         use DIR as the VM output dir (implies --keep)
#   --filter F        gtest filter for the integration binaries (known failures are still left out)
#   --tests "A B"     the integration binaries to run (default: those of test/vm/tests.txt, with
#                     the filters there)
#   --run-known       also run the known failures, reporting those that pass now (never fails)
#   --accel A         auto (default: KVM only where a bounded probe boots the guest kernel), kvm, tcg
#   --timeout S       hard limit on the guest's whole run (default 1800); QEMU is killed after it
#   --rebuild-image   build the guest image again even when the cached one is current
#
# Environment: BUILD_DIR (default build; must be built), BERTH_VM_CACHE (image cache, default
# /var/cache/berth-vm). Results (JUnit XML per binary, results.txt, summary.txt, console.log)
# end up in BUILD_DIR/vm-results/. Exit status: the in-guest suite's (0: everything passed but the
# known failures), 77 where the lane cannot run here (not root, or QEMU or debootstrap missing
# outside CI).
set -euo pipefail
# The whole script is one block: bash reads it all before running, so editing or checking out
# another version during a run (which takes half an hour) cannot change what runs.
{
# A signal (ctest's timeout, ^C) still runs the EXIT traps: QEMU stopped, temporary files gone.
trap 'exit 143' TERM INT HUP
cd "$(dirname "$0")/.."
source_dir=$(pwd)
vm_dir=$source_dir/test/vm

keep=0 out="" filter="" tests="" run_known=0 accel=auto timeout_s=1800 rebuild=0
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --out) out=$2; keep=1; shift ;;
    --filter) filter=$2; shift ;;
    --tests) tests=$2; shift ;;
    --run-known) run_known=1 ;;
    --accel) accel=$2; shift ;;
    --timeout) timeout_s=$2; shift ;;
    --rebuild-image) rebuild=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-vm: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done
case $accel in auto|kvm|tcg) ;; *) echo "test-vm: --accel auto|kvm|tcg" >&2; exit 2 ;; esac

say() { echo "test-vm: $*"; }
skip() {  # where the lane cannot run: a skip (77) for a developer, a failure in CI
  say "$*"
  if [ "${CI:-}" = true ]; then say "CI=true: failing instead of skipping"; exit 1; fi
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, the image cache, the guest's share): skipped"
for tool in qemu-system-x86_64 debootstrap mkfs.ext4 timeout flock readelf; do
  command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps.sh installs it): skipped"
done

build_dir=$(realpath -m "${BUILD_DIR:-build}")
[ -x "$build_dir/cmd/berthd/berthd" ] ||
  { say "no berthd in $build_dir (build first: cmake --build ${BUILD_DIR:-build})"; exit 1; }
# "[VAR=VALUE] NAME [GTEST_FILTER]" lines: test/vm/tests.txt's, or --tests without filters.
if [ -z "$tests" ]; then
  test_lines=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$vm_dir/tests.txt")
else
  test_lines=$(printf '%s\n' $tests)
fi
tests=$(awk '{ print ($1 ~ /=/) ? $2 : $1 }' <<<"$test_lines" | sort -u | xargs)
test_binaries=()
for name in $tests; do
  binary=$(find "$build_dir/test" -name "$name" -type f -perm -u+x -print -quit)
  [ -n "$binary" ] || { say "no test binary $name under $build_dir/test"; exit 1; }
  test_binaries+=("$binary")
done
mapfile -t berth_binaries < <(find "$build_dir/cmd" -path '*/CMakeFiles' -prune -o \
  -type f -perm -u+x -print)

# --- The guest image, cached by its recipe -------------------------------------------------------
# The packages that hold the libraries the binaries link directly (their NEEDED entries, found
# where ldd finds them): the guest needs the same runtime libraries. What those libraries need
# in turn their packages depend on.
linked_packages() {
  local needed lib pkg
  needed=$(for binary; do readelf -d "$binary"; done |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
  ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
    while read -r soname lib; do
      grep -qxF "$soname" <<<"$needed" || continue
      pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
            dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null || true)
      [ -n "$pkg" ] || { echo "test-vm: no package holds $lib" >&2; continue; }
      echo "${pkg%%:*}"
    done | sort -u
}
listed=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$vm_dir/image-packages.txt" | grep -v '^$' | sort -u)
linked=$(linked_packages "${berth_binaries[@]}" "${test_binaries[@]}")
extra=$(comm -13 <(echo "$listed") <(echo "$linked"))
[ -z "$extra" ] || say "adding to the image what the binaries link but test/vm/image-packages.txt lacks: $(echo $extra)"
cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
mkdir -p "$cache"
package_list=$(mktemp "$cache/.packages-XXXXXX")
trap 'rm -f "$package_list"' EXIT
printf '%s\n' $listed $extra | sort -u >"$package_list"
key=$({ cat "$package_list"; cat "$vm_dir/build-image.sh" "$vm_dir/boot.sh" \
  "$vm_dir/berth-vm-suite.service"; } | sha256sum | cut -c1-16)
image=$cache/$key
t_image=0
image_start=$(date +%s)
(
  flock 9
  if [ "$rebuild" = 1 ] || [ ! -f "$image/disk.img" ]; then
    say "building the guest image $image (debootstrap: a few minutes)"
    start=$SECONDS
    rm -rf "$image" "$cache"/*.tmp  # (a .tmp is what a killed build left behind)
    cp "$package_list" "$cache/.packages-$key"
    nice -n 10 "$vm_dir/build-image.sh" "$cache/.packages-$key" "$image.tmp"
    mv "$cache/.packages-$key" "$image.tmp/packages.txt"
    mv "$image.tmp" "$image"
    echo $((SECONDS - start)) >"$image/build-seconds"
    # Keep this image and the one before it; older ones only take disk.
    ls -1dt "$cache"/*/ 2>/dev/null | grep -v '\.tmp/$' | tail -n +3 | xargs -r rm -rf
  fi
) 9>"$cache/.lock"
rm -f "$package_list"; trap - EXIT
[ -f "$image/disk.img" ] || { say "no guest image"; exit 1; }
# Built by this run (not found in the cache): its build time counts.
if [ -f "$image/build-seconds" ] && [ "$(stat -c %Y "$image/build-seconds")" -ge "$image_start" ]; then
  t_image=$(cat "$image/build-seconds")
fi
say "guest image $image"

# --- The share: berth's installed tree, the tests and what they read ---------------------------
if [ -z "$out" ]; then out=$(mktemp -d /var/tmp/berth-vm-XXXXXX); else mkdir -p "$out"; fi
out=$(realpath "$out")
qemu_pid=""
results_dir=$build_dir/vm-results
cleanup() {
  # qemu_pid is timeout's: it passes SIGTERM on to QEMU, which quits.
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill -TERM "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then say "kept the VM output dir $out"; else rm -rf "$out"; fi
}
trap cleanup EXIT
share=$out/share
rm -rf "$share" "$out/console.log"
mkdir -p "$share/results" "$share/build" "$share/source/test"
# Hard links where the share is on the build tree's filesystem (no copy), copies otherwise.
link_or_copy() { cp -al "$@" 2>/dev/null || cp -a "$@"; }
DESTDIR=$share/install cmake --install "$build_dir" --prefix /usr/local >"$out/install.log" ||
  { cat "$out/install.log"; exit 1; }
for binary in "${berth_binaries[@]}" "${test_binaries[@]}"; do
  relative=${binary#"$build_dir"/}
  mkdir -p "$share/build/$(dirname "$relative")"
  link_or_copy "$binary" "$share/build/$relative"
done
link_or_copy "$source_dir/test/fixtures" "$share/source/test/fixtures"
for file in guest-run.sh report.py known-failures.txt; do cp "$vm_dir/$file" "$share/$file"; done
echo "$test_lines" >"$share/tests.txt"
cat >"$share/env.sh" <<EOF
HOST_SOURCE_DIR='$source_dir'
HOST_BUILD_DIR='$build_dir'
VM_GTEST_FILTER='$filter'
VM_RUN_KNOWN='$run_known'
VM_TEST_TIMEOUT='${BERTH_VM_TEST_TIMEOUT:-600}'
EOF

# --- KVM only where it really runs this guest ---------------------------------------------------
# /dev/kvm may be a back-end that cannot run a stock kernel (QEMU aborts or stalls): boot the
# guest's kernel with no root under KVM, bounded, and take KVM only if it gets to its panic.
kvm_works() {
  [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  local probe_log=$out/kvm-probe.log
  # In a subshell that cannot exec QEMU in its place (the "|| true"), so that the shell's
  # "Aborted" note goes to /dev/null; QEMU's own words are in kvm-probe.qemu.log.
  (timeout --kill-after=5 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 \
    -display none -monitor none -serial "file:$probe_log" -no-reboot \
    -kernel "$image/vmlinuz" -append "console=ttyS0 panic=-1 root=/dev/nonexistent" \
    </dev/null >"$out/kvm-probe.qemu.log" 2>&1 || true) >/dev/null 2>&1
  grep -q "Kernel panic" "$probe_log" 2>/dev/null
}
if [ "$accel" = auto ]; then
  start=$SECONDS
  if kvm_works; then accel=kvm; else accel=tcg; fi
  say "KVM probe: $accel ($((SECONDS - start)) s)"
fi
if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi

# --- Boot, run, power off ------------------------------------------------------------------------
say "booting the guest ($accel, timeout ${timeout_s} s); its console: $out/console.log"
: >"$out/console.log"
start=$SECONDS
# restrict=on: the guest's network reaches neither the host nor anything beyond.
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 2 -m 4096 \
  -display none -monitor none -serial "file:$out/console.log" -no-reboot \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 apparmor=1 security=apparmor net.ifnames=0 panic=-1 mitigations=off" \
  -drive "file=$image/disk.img,format=raw,if=virtio,snapshot=on" \
  -virtfs "local,path=$share,mount_tag=host,security_model=passthrough,id=host" \
  -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 \
  </dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!
# The runner's progress, live (tail ends with QEMU).
tail --pid="$qemu_pid" -n +1 -F "$out/console.log" 2>/dev/null | grep --line-buffered -o 'berth-vm: .*' &
tail_pid=$!
qemu_status=0
wait "$qemu_pid" || qemu_status=$?
qemu_pid=""
t_guest=$((SECONDS - start))
wait "$tail_pid" 2>/dev/null || true

rm -rf "$results_dir"
mkdir -p "$results_dir"
cp -a "$share/results/." "$results_dir/"
cp "$out/console.log" "$out/qemu.log" "$results_dir/"

timing=$share/results/timing.txt
guest_time() { awk -v k="$1" '$1 == k { print int($2) }' "$timing" 2>/dev/null || true; }
boot=$(guest_time suite_start) smoke_end=$(guest_time smoke_end) suite_end=$(guest_time suite_end)
since() { if [ -n "$1" ] && [ -n "$2" ]; then echo "$(($1 - $2)) s"; else echo "?"; fi; }
say "times: image build ${t_image} s (0: cached), boot to the suite ${boot:-?} s," \
  "smoke $(since "$smoke_end" "$boot"), smoke + tests $(since "$suite_end" "$boot")," \
  "poweroff $(since "$t_guest" "$suite_end"), guest total ${t_guest} s"

if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
  say "FAILED: the guest did not finish within ${timeout_s} s (killed). Console tail:"
  tail -n 60 "$out/console.log"
  exit 1
fi
if [ ! -f "$share/results/status" ]; then
  say "FAILED: the guest ended (QEMU status $qemu_status) without a verdict. QEMU said:"
  tail -n 20 "$out/qemu.log"
  say "console tail:"
  tail -n 60 "$out/console.log"
  exit 1
fi
status=$(cat "$share/results/status")
echo
say "results (BUILD_DIR/vm-results/results.txt):"
awk -F'\t' '{ st = ($1 == "KNOWN" ? "KNOWN FAILURE (not yet fixed)" : $1)
               printf "  %-6s %s %s%s\n", st, $2, $3, ($5 == "" ? "" : ": " $5) }' \
  "$share/results/results.txt"
say "vm: $(cat "$share/results/summary.txt")"
if [ "$status" != 0 ]; then
  say "FAILED: see $results_dir (the *.log of each binary, smoke.log, journal.txt). Console tail:"
  tail -n 40 "$out/console.log"
fi
exit "$status"
}
