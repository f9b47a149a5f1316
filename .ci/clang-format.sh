#!/usr/bin/env bash
# Formats native/ with clang-format (.clang-format); with --check, fails instead of rewriting.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'native/*.cc' 'native/*.h' 'native/*.inc')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
else
  clang-format -i "${files[@]}"
fi
