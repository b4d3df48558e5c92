# Sourced by the benchmark scripts that need a running berthd with the busybox fixture image:
#   bench_berthd KIND BRIDGE SUBNET TABLE
# makes a scratch directory ($work), starts "$build/cmd/berthd/berthd" there with a bench-only
# bridge, subnet and nftables table ($berthd_pid), defines ctl (berthctl against it), imports the
# busybox image as bench/busybox:1, and on exit stops berthd and removes all of it. Needs $build.
bench_berthd() {
  local kind=$1
  bench_bridge=$2
  bench_table=$4
  work=$(mktemp -d "/tmp/berth-$kind-bench-XXXXXX")
  berthd_pid=
  trap bench_berthd_cleanup EXIT
  cat >"$work/berth.yaml" <<YAML
network: {bridge: $bench_bridge, subnet: $3, nft_table: $bench_table}
YAML
  "$build/cmd/berthd/berthd" --config "$work/berth.yaml" --root "$work/root" --state "$work/state" \
    --listen "$work/berth.sock" --log-level warn 2>"$work/berthd.log" &
  berthd_pid=$!
  for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done
  python3 test/fixtures/images.py build "$work/images" >/dev/null
  ctl import "$work/images/busybox.oci.tar" --name bench/busybox:1 >/dev/null
}

ctl() { "$build/cmd/berthctl/berthctl" --endpoint "unix://$work/berth.sock" "$@"; }

bench_berthd_cleanup() {
  set +e
  [ -n "$berthd_pid" ] && kill -TERM "$berthd_pid" 2>/dev/null && wait "$berthd_pid"
  ip link delete "$bench_bridge" 2>/dev/null
  nft delete table ip "$bench_table" 2>/dev/null
  rm -rf "$work"
}

# "<name> benchmark <date>, <cores>, <cpu>, kernel <release>": the machine line of each result.
bench_machine() {
  echo "$1 benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
}
