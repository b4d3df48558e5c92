#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts berthd on a temporary
# root/state/socket (with a demo-only bridge, subnet and nftables table), shows berthctl version
# and status, imports a busybox image built locally from Debian's busybox-static (no registry, no
# internet), runs a pod with two containers (busybox httpd and a client that fetches from it over
# localhost every second), shows pods, containers, logs, the pod IP and a hostPort reached from
# the host, then removes everything it made.
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
  ip link delete berthdemo0 2>/dev/null || true
  nft delete table ip berth_demo 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

socket="$work/berth.sock"
cat >"$work/berth.yaml" <<YAML
network:
  bridge: berthdemo0
  subnet: 10.251.0.0/24
  nft_table: berth_demo
YAML
build/cmd/berthd/berthd --config "$work/berth.yaml" --root "$work/root" --state "$work/state" \
  --listen "$socket" --log-level debug 2>"$work/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "berthd did not start:"; cat "$work/berthd.log"; exit 1; }

ctl() { echo "\$ berthctl $*"; build/cmd/berthctl/berthctl --endpoint "unix://$socket" "$@"; echo; }
ctl version
ctl status
python3 test/fixtures/images.py build "$work/images" >/dev/null
ctl import "$work/images/busybox.oci.tar" --name demo/busybox:latest
ctl images
ctl inspecti demo/busybox:latest >"$work/inspecti.json"
head -n 25 "$work/inspecti.json"; echo "  ..."
cat >"$work/pod.yaml" <<YAML
metadata: {name: demo, namespace: default, uid: demo-uid-1, attempt: 0}
hostname: demo
log_directory: $work/logs/demo
dns_config: {servers: [10.96.0.10], searches: [default.svc.cluster.local]}
port_mappings: [{protocol: TCP, container_port: 8080, host_port: 18080, host_ip: 127.0.0.1}]
labels: {app: demo}
linux:
  security_context:
    namespace_options: {network: POD, pid: CONTAINER, ipc: POD}
YAML
cat >"$work/web.yaml" <<'YAML'
metadata: {name: web}
image: {image: demo/busybox:latest}
command: [/bin/sh, -c, "mkdir -p /www && echo hello from berth > /www/index.html && exec /bin/busybox httpd -f -v -p 8080 -h /www"]
log_path: web.log
YAML
cat >"$work/client.yaml" <<'YAML'
metadata: {name: client}
image: {image: demo/busybox:latest}
command: [/bin/sh, -c, "while true; do /bin/busybox wget -q -O - http://localhost:8080/; sleep 1; done"]
log_path: client.log
YAML
bctl() { build/cmd/berthctl/berthctl --endpoint "unix://$socket" "$@"; }
echo "\$ berthctl runp pod.yaml"
pod=$(bctl runp "$work/pod.yaml"); echo "$pod"; echo
echo "\$ berthctl create/start web and client"
web=$(bctl create "$pod" "$work/web.yaml"); bctl start "$web" >/dev/null
client=$(bctl create "$pod" "$work/client.yaml"); bctl start "$client" >/dev/null
echo "web=$web"; echo "client=$client"; echo
sleep 3
ctl pods
ctl ps
ctl logs "$client"
# Exec goes through berthd's streaming server (SPDY), as crictl exec does.
ctl exec "$web" /bin/busybox ps
ctl exec "$web" /bin/sh -c 'echo "in the web container: $(hostname), $(id)"'
ip=$(bctl -o json inspectp "$pod" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["network"]["ip"])')
echo "\$ curl http://$ip:8080/   (the pod IP, from the host)"
curl -s --max-time 5 "http://$ip:8080/"
echo "\$ curl http://127.0.0.1:18080/   (the hostPort)"
curl -s --max-time 5 "http://127.0.0.1:18080/"
echo
ctl stop -T 2 "$client" "$web"
ctl rmp "$pod"
ctl rmi demo/busybox:latest
echo "berthd log:"
cat "$work/berthd.log"
