#!/usr/bin/env bash
# Runs bench/sandbox_bench against berthd on the built-in network and with Debian's CNI plugins
# (bridge + host-local + portmap + loopback), each with a bench-only bridge, subnet and table,
# and removes everything afterwards.  Usage: sudo bench/sandbox_bench.sh [build-dir] [pods]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
pods=${2:-100}
work=$(mktemp -d /tmp/berth-sandbox-bench-XXXXXX)
berthd_pid=
cleanup() {
  set +e  # clean up as much as possible, whatever fails
  [ -n "$berthd_pid" ] && kill -TERM "$berthd_pid" 2>/dev/null && wait "$berthd_pid" || true
  ip link delete bbench0 2>/dev/null || true
  nft delete table ip berth_bench 2>/dev/null || true
  for tool in iptables ip6tables; do
    "$tool" -t nat -S 2>/dev/null | grep -- '-A .*CNI-' | sed 's/^-A/-D/' |
      while read -r rule; do eval "$tool -t nat $rule" || true; done
    for chain in $("$tool" -t nat -S 2>/dev/null | awk '/^-N CNI-/ {print $2}'); do
      "$tool" -t nat -F "$chain" || true; "$tool" -t nat -X "$chain" || true
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT

run_mode() {
  local mode=$1
  rm -rf "$work/root" "$work/state"
  mkdir -p "$work/net.d"
  cat >"$work/net.d/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench", "plugins": [
  {"type": "bridge", "bridge": "bbench0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$work/ipam",
            "ranges": [[{"subnet": "10.238.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
JSON
  cat >"$work/berth.yaml" <<YAML
network:
  mode: $mode
  bridge: bbench0
  subnet: 10.238.0.0/16
  nft_table: berth_bench
  cni_conf_dir: $work/net.d
YAML
  "$build/cmd/berthd/berthd" --config "$work/berth.yaml" --root "$work/root" \
    --state "$work/state" --listen "$work/berth.sock" --log-level warn 2>"$work/berthd-$mode.log" &
  berthd_pid=$!
  for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done
  echo "== network mode: $mode"
  "$build/bench/sandbox_bench" --endpoint "unix://$work/berth.sock" --pods "$pods" --concurrent 20
  kill -TERM "$berthd_pid"; wait "$berthd_pid" || true; berthd_pid=
  ip link delete bbench0 2>/dev/null || true
}

echo "sandbox benchmark $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
run_mode builtin
run_mode cni
