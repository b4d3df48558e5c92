# Sourced by the benchmark scripts that need a running berthd with the busybox fixture image:
#   bench_berthd KIND BRIDGE SUBNET TABLE
# makes a scratch directory ($work), starts "$build/cmd/berthd/berthd" there with a bench-only
# bridge, subnet and nftables table ($berthd_pid), defines ctl (berthctl against it), imports the
# busybox image as bench/busybox:1, and on exit stops berthd and removes all of it. Needs $build.
# A script with a scratch directory and exit trap of its own (bench/compare) calls
# bench_berthd_run BRIDGE SUBNET TABLE and bench_berthd_stop instead.
bench_berthd() {
  work=$(mktemp -d "/tmp/berth-$1-bench-XXXXXX")
  berthd_pid=
  trap bench_berthd_cleanup EXIT
  bench_berthd_run "$2" "$3" "$4"
}

# Starts berthd in $work (root, state, socket, berthd.log there) and imports busybox.
bench_berthd_run() {
  bench_bridge=$1
  bench_table=$3
  cat >"$work/berth.yaml" <<YAML
network: {bridge: $bench_bridge, subnet: $2, nft_table: $bench_table}
YAML
  "$build/cmd/berthd/berthd" --config "$work/berth.yaml" --root "$work/root" --state "$work/state" \
    --listen "$work/berth.sock" --log-level warn 2>"$work/berthd.log" &
  berthd_pid=$!
  for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done
  python3 test/fixtures/images.py build "$work/images" >/dev/null
  ctl import "$work/images/busybox.oci.tar" --name bench/busybox:1 >/dev/null
}

ctl() { "$build/cmd/berthctl/berthctl" --endpoint "unix://$work/berth.sock" "$@"; }

# Stops berthd and removes its bridge and table; safe to call again.
bench_berthd_stop() {
  [ -n "${berthd_pid:-}" ] && kill -TERM "$berthd_pid" 2>/dev/null && wait "$berthd_pid"
  berthd_pid=
  ip link delete "$bench_bridge" 2>/dev/null
  nft delete table ip "$bench_table" 2>/dev/null
  return 0
}

bench_berthd_cleanup() {
  set +e
  bench_berthd_stop
  rm -rf "$work"
}

# "<name> benchmark <date>, <cores>, <cpu>, kernel <release>": the machine line of each result.
bench_machine() {
  echo "$1 benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
}
