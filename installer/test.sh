#!/usr/bin/env bash
# Every test: installs what is missing, builds with warnings as errors and runs the whole
# suite with ctest; then builds again with AddressSanitizer and UndefinedBehaviorSanitizer
# in a second build folder and runs the same suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/deps.sh

jobs="$(nproc)"
started=$SECONDS
summary=()

run_suite() {
  local preset="$1"
  echo "=== ${preset}: configure and build ==="
  cmake --preset "$preset" >/dev/null || return 1
  if ! cmake --build --preset "$preset" -j "$jobs"; then
    summary+=("${preset}: BUILD FAILED")
    return 1
  fi
  echo "=== ${preset}: ctest ==="
  if ctest --preset "$preset" -j "$jobs"; then
    summary+=("${preset}: all tests passed")
  else
    summary+=("${preset}: FAILURES (see above)")
    return 1
  fi
}

status=0
run_suite ci || status=1
UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 run_suite asan || status=1

echo
echo "=== Summary ($((SECONDS - started)) s) ==="
for line in "${summary[@]}"; do echo "  $line"; done
exit $status
