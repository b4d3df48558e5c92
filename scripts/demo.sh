#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts berthd on a temporary
# root/state/socket, shows berthctl version and status, imports a busybox image built locally from
# Debian's busybox-static (no registry, no internet), lists and inspects it, then cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"

work=$(mktemp -d /tmp/berth-demo-XXXXXX)
berthd_pid=
cleanup() {
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    kill -TERM "$berthd_pid"
    wait "$berthd_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

socket="$work/berth.sock"
build/cmd/berthd/berthd --root "$work/root" --state "$work/state" --listen "$socket" \
  --log-level debug 2>"$work/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "berthd did not start:"; cat "$work/berthd.log"; exit 1; }

ctl() { echo "\$ berthctl $*"; build/cmd/berthctl/berthctl --endpoint "unix://$socket" "$@"; echo; }
ctl version
ctl status
python3 test/fixtures/images.py build "$work/images" >/dev/null
ctl import "$work/images/busybox.oci.tar" --name demo/busybox:latest
ctl images
ctl inspecti demo/busybox:latest | head -n 25
ctl rmi demo/busybox:latest
echo "berthd log:"
cat "$work/berthd.log"
