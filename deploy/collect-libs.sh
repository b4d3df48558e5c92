#!/usr/bin/env bash
# collect-libs.sh DEST BINARY...
#
# Copies the shared libraries the given binaries load (their whole ldd closure) into DEST, except
# the C and C++ runtime (glibc's libraries, the dynamic loader, libstdc++, libgcc_s), which the
# target system provides; a newer glibc and libstdc++ run binaries built against older ones.
#
# Used by the image builds in deploy/ (deploy/build-berth.sh): berth is built on Debian 12, and
# its binaries, linked with DT_RPATH=/usr/local/lib/berth, then run on another distribution (the
# kind node image is Debian 13) with exactly the libraries they were built and tested with.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DEST BINARY..." >&2
  exit 2
fi
dest=$1
shift
mkdir -p "$dest"

# Provided by the target system; never bundled.
is_runtime_lib() {
  case "$1" in
    ld-linux*|linux-vdso*|libc.so.*|libm.so.*|libmvec.so.*|libpthread.so.*|libdl.so.*|\
    librt.so.*|libresolv.so.*|libutil.so.*|libanl.so.*|libnss_*|libthread_db.so.*|\
    libc_malloc_debug.so.*|libBrokenLocale.so.*|libstdc++.so.*|libgcc_s.so.*)
      return 0 ;;
  esac
  return 1
}

count=0
for binary in "$@"; do
  [ -f "$binary" ] || continue
  # Static or non-ELF files (scripts) have nothing to collect.
  if ! ldd "$binary" >/dev/null 2>&1; then
    continue
  fi
  # Lines look like "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)".
  while read -r soname arrow path _; do
    [ "$arrow" = "=>" ] || continue
    if [ "$path" = "not" ]; then
      echo "collect-libs: $binary needs $soname, which is not found" >&2
      exit 1
    fi
    is_runtime_lib "$soname" && continue
    if [ ! -e "$dest/$soname" ]; then
      cp -L "$path" "$dest/$soname"
      count=$((count + 1))
    fi
  done < <(ldd "$binary")
done
echo "collect-libs: $count libraries in $dest"
