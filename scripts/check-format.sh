#!/usr/bin/env bash
# Fails when a C++ file of the repository is not formatted as .clang-format says (clang-format-14,
# the version scripts/install-deps.sh installs). `scripts/check-format.sh --fix` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
format=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$format" >/dev/null; then
  echo "check-format: $format not found (scripts/install-deps.sh installs clang-format-14)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = --fix ]; then
  "$format" -i "${files[@]}"
  exit 0
fi
if ! "$format" --dry-run -Werror "${files[@]}" 2>/tmp/berth-format.$$; then
  grep -oE '^[^: ]+\.(cc|h):[0-9]+:[0-9]+: ' /tmp/berth-format.$$ | cut -d: -f1 | sort -u |
    sed 's/^/not formatted: /' | head -50
  rm -f /tmp/berth-format.$$
  echo "check-format: run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/berth-format.$$
echo "check-format: ${#files[@]} files formatted"
