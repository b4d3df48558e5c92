#!/usr/bin/env bash
# Installs the dependencies, checks the formatting (scripts/check-format.sh), builds berth (Release, build/) and runs every test with ctest: the
# host suite first (everything but label vm), then the VM lane (label vm: scripts/test-vm.sh, a
# Debian guest with systemd, pure cgroup v2 and AppArmor under QEMU; test/vm/README.md).
# Then every fuzz target for 20 s from its seed corpus (scripts/fuzz.sh, test/fuzz/README.md).
# BERTH_SKIP_VM=1 leaves the VM lane out, BERTH_SKIP_FUZZ=1 the fuzz run. Arguments go to both
# ctest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Formatting first: it takes seconds, and a change that is not formatted has not landed.
scripts/check-format.sh
launcher=()
if command -v ccache >/dev/null; then  # where a developer has it; a fresh CI machine does not
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}"
cmake --build build -j "$(nproc)"
status=0
ctest --test-dir build --output-on-failure --timeout 600 -LE vm "$@" || status=$?
if [ "${BERTH_SKIP_VM:-0}" != 1 ]; then
  # The lane's own timeouts (the image build, QEMU's hard limit) bound it; ctest's TIMEOUT
  # property (test/CMakeLists.txt) is the last resort.
  # --verbose: the lane's own report (every test, each KNOWN FAILURE) shows in the log.
  ctest --test-dir build --verbose -L vm "$@" || status=$?
fi
if [ "${BERTH_SKIP_FUZZ:-0}" != 1 ]; then
  scripts/fuzz.sh 20 || status=$?
fi
exit "$status"
