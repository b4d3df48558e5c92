#!/usr/bin/env bash
# build-berth.sh SRC OUT
#
# The build stage of the images in deploy/ (deploy/image/Dockerfile, deploy/kind/Dockerfile), on
# Debian 12 after scripts/install-deps.sh: a Release build of the berth tree SRC without tests and
# benchmarks, installed under OUT/usr/local (bin/berthd, bin/berthctl, bin/berth-pod-init and
# whatever else the tree installs), with the shared libraries it needs, except the C/C++ runtime,
# in OUT/usr/local/lib/berth. The binaries carry DT_RPATH=/usr/local/lib/berth (DT_RPATH, unlike
# DT_RUNPATH, also applies to the libraries' own dependencies), so `COPY --from=build
# /out/usr/local/ /usr/local/` gives a berth that runs on Debian 12 and on newer glibc systems.
#
# Where ../shared/cri-api/v0.36.3/api.proto is not beside SRC (as in a container build), the
# CMake build downloads that file and checks its sha256.
set -euo pipefail

src=$(cd "${1:?usage: $0 SRC OUT}" && pwd)
out=${2:?usage: $0 SRC OUT}
prefix=/usr/local
libdir=$prefix/lib/berth
build=${BERTH_IMAGE_BUILD_DIR:-/tmp/berth-image-build}

cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_BENCH=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_INSTALL_RPATH="$libdir" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags"
cmake --build "$build"
DESTDIR="$out" cmake --install "$build"

for required in berthd berthctl berth-pod-init; do
  if [ ! -x "$out$prefix/bin/$required" ]; then
    echo "build-berth: $prefix/bin/$required was not installed" >&2
    exit 1
  fi
done
"$src/deploy/collect-libs.sh" "$out$libdir" "$out$prefix"/bin/*
