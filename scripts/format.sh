#!/usr/bin/env bash
# clang-format over our own C and C++ (the repository's .clang-format, Debian's clang-format-14).
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  list the files that differ and fail (CI)
# Vendored files (server/web/vendor) and generated tables (api/num_pow10.h, written by
# scripts/num-tables.py) keep their own layout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-packages.sh clang-format-14
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' | grep -v -E '^(server/web/vendor/|api/num_pow10\.h$)')
if [ "${1:-}" = --check ]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format-14 --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if [ ${#bad[@]} -ne 0 ]; then
    printf 'not clang-formatted (run `make format`):\n' >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "clang-format: ${#files[@]} files clean"
else
  clang-format-14 -i "${files[@]}"
fi
