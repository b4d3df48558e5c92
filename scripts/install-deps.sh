#!/usr/bin/env bash
# Installs, from Debian's packages only, everything berth's build, tests, benchmarks and demo use.
# Idempotent: packages already present are left alone and nothing is downloaded twice.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # gRPC + Protobuf (CRI stubs are generated at build time)
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # daemon libraries
  libseccomp-dev libapparmor-dev libsystemd-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libcurl4-openssl-dev libssl-dev libarchive-dev libzstd-dev zlib1g-dev
  nlohmann-json3-dev libmnl-dev libnftables-dev libboost-dev
  # tests and benchmarks (clang-14 + libFuzzer: the fuzz targets, scripts/fuzz.sh;
  # clang-format-14: scripts/check-format.sh)
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libfuzzer-14-dev clang-format-14
  docker-registry busybox-static apache2-utils openssl zstd python3 python3-yaml yamllint curl
  iproute2 nftables iptables util-linux procps psmisc containernetworking-plugins iputils-ping
  # benchmarks: the tools berth is compared with
  skopeo umoci
  # the VM lane (scripts/test-vm.sh): the guest image and QEMU's software emulation
  qemu-system-x86 qemu-utils debootstrap e2fsprogs
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# docker-registry's package starts a system instance on :5000; the tests run their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
echo "install-deps: done"
