#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz/, clang-14, build tree build-fuzz/) when needed and runs
# each of them for SECONDS (default 20) from its committed seed corpus. Fails when any target
# crashes; the crashing input is kept and the command that reproduces it is printed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 layer spdy
#
# Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_OUT (<build dir>/fuzz-out: per target the working
# corpus, crashes/ and the log), FUZZ_BUILD_JOBS (nproc), FUZZ_NICE (0: niceness of build and runs).
# The committed corpus is copied into FUZZ_OUT, never written to; inputs found in earlier runs
# stay in FUZZ_OUT/<target>/corpus and are used again.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
out=${FUZZ_OUT:-$build_dir/fuzz-out}
jobs=${FUZZ_BUILD_JOBS:-$(nproc)}
nice_cmd=(nice -n "${FUZZ_NICE:-0}")

for tool in clang++-14 clang-14 cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz: $tool not found (scripts/install-deps.sh installs clang-14 and libfuzzer-14-dev)" >&2
    exit 1
  fi
done

if [ ! -f "$build_dir/build.ninja" ]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S . -B "$build_dir" -G Ninja -DBERTH_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 "${launcher[@]}" >/dev/null
fi
build_start=$SECONDS
"${nice_cmd[@]}" cmake --build "$build_dir" -j "$jobs"
echo "fuzz: build took $((SECONDS - build_start)) s"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < "$build_dir/fuzz_targets.txt"
fi

failed=()
printf '%-14s %12s %8s %10s %8s\n' target executions seconds "execs/s" corpus
for target in "${targets[@]}"; do
  binary="$build_dir/test/fuzz/fuzz_$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz: no target \"$target\" (targets: $(tr '\n' ' ' < "$build_dir/fuzz_targets.txt"))" >&2
    exit 2
  fi
  work="$out/$target"
  mkdir -p "$work/corpus" "$work/crashes"
  cp -r "test/fuzz/corpus/$target/." "$work/corpus/"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$(realpath "$work")/crashes/")
  if [ -f "test/fuzz/dict/$target.dict" ]; then options+=(-dict="test/fuzz/dict/$target.dict"); fi
  touch "$work/.started"
  start=$SECONDS
  status=0
  # The outer timeout only guards against a hang libFuzzer's own watchdog does not catch.
  "${nice_cmd[@]}" timeout --signal=KILL $((seconds + 300)) "$binary" "${options[@]}" "$work/corpus" \
    >"$work/log" 2>&1 || status=$?
  elapsed=$((SECONDS - start))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  executions=${executions:-0}
  rate=$((executions / (elapsed > 0 ? elapsed : 1)))
  printf '%-14s %12s %8s %10s %8s\n' "$target" "$executions" "$elapsed" "$rate" \
    "$(find "$work/corpus" -type f | wc -l)"
  new_inputs=$(find "$work/crashes" -type f -newer "$work/.started")
  if [ "$status" -ne 0 ] || [ -n "$new_inputs" ]; then
    failed+=("$target")
    echo "---- fuzz_$target failed (exit $status); from $work/log:"
    # The report from its first line (sanitizer, exception, failed check), else the log's end.
    report=$(awk '/ERROR: |runtime error|check failed|terminate called|ESCAPE/ {p = 1} p' "$work/log")
    if [ -n "$report" ]; then head -60 <<<"$report"; else grep -v '^#[0-9]' "$work/log" | tail -40; fi
    for input in $new_inputs; do echo "reproduce: $binary $input"; done
    echo "----"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs kept in $out/<target>/crashes/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds} s each without a crash"
