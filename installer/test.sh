#!/usr/bin/env bash
# Every test: installs what is missing, builds with warnings as errors and runs the whole
# suite with ctest; then builds again with AddressSanitizer and UndefinedBehaviorSanitizer
# in a second build folder and runs the same suite there; clang-tidy checks the product's
# sources (.clang-tidy, zero findings); the ci build is packaged with cpack and the .deb
# files checked, installed, upgraded, removed and purged (tests/installer/packages_test.sh;
# the install part needs root); then runs each libFuzzer target
# (clang, ASan + UBSan) for a bounded time and fails on any crash. The PostgreSQL backend's
# tests run against a throwaway cluster started here (installer/pg-cluster.sh) and deleted
# at exit; REGULARS_TEST_PG, when already set, names a server to use instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/deps.sh
regulars_install_browser_test

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

FUZZ_SECONDS="${REGULARS_FUZZ_SECONDS:-45}"

run_fuzz() {
  echo "=== fuzz: configure and build (clang) ==="
  cmake --preset fuzz >/dev/null || return 1
  if ! cmake --build --preset fuzz -j "$jobs"; then
    summary+=("fuzz: BUILD FAILED")
    return 1
  fi
  # The targets run side by side, one a core: each still gets its whole time on a core
  # of its own, and the run takes a fraction of the time one after another would.
  local targets=(scan_text qr_payload basket_json till_calls sync_messages poslog http_requests)
  local failed=0 running=0 work_of=() target
  fuzz_one() {
    local name="$1" work="$2"
    # New inputs go to the temporary folder; the seeds in the repository stay as they are.
    if ./build/fuzz/tests/fuzz/${name}_fuzz -max_total_time="$FUZZ_SECONDS" \
        -print_final_stats=1 -rss_limit_mb=4096 -artifact_prefix="$work/" "$work" \
        "tests/fuzz/corpus/$name" 2>"$work/log"; then
      echo 0 >"$work/status"
    else
      echo 1 >"$work/status"
    fi
  }
  echo "=== fuzz: ${#targets[@]} targets for ${FUZZ_SECONDS} s each, ${jobs} at a time ==="
  for target in "${targets[@]}"; do
    local work
    work="$(mktemp -d)"
    work_of+=("$work")
    fuzz_one "$target" "$work" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
  wait || true
  local i=0
  for target in "${targets[@]}"; do
    local work="${work_of[$i]}"
    i=$((i + 1))
    if [ "$(cat "$work/status" 2>/dev/null)" = 0 ]; then
      summary+=("fuzz ${target}: $(grep -o 'Done [0-9]* runs' "$work/log" || echo 'ran'), no crash")
      rm -rf "$work"
    else
      echo "=== fuzz: ${target} failed ==="
      tail -40 "$work/log"
      summary+=("fuzz ${target}: CRASH (input kept in $work)")
      failed=1
    fi
  done
  return $failed
}

status=0

# The cluster lives as long as this script: stopped and deleted however it ends.
pg_dir=""
stop_pg() {
  if [ -n "$pg_dir" ]; then installer/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true; fi
}
trap stop_pg EXIT
trap 'exit 130' INT TERM
if [ -n "${REGULARS_TEST_PG:-}" ]; then
  summary+=("PostgreSQL: the server given in REGULARS_TEST_PG")
else
  pg_dir="$(mktemp -d)"
  echo "=== PostgreSQL: starting a throwaway cluster in $pg_dir ==="
  if REGULARS_TEST_PG="$(installer/pg-cluster.sh start "$pg_dir")"; then
    export REGULARS_TEST_PG
    summary+=("PostgreSQL: throwaway cluster ($REGULARS_TEST_PG)")
  else
    # The PostgreSQL tests then fail, saying REGULARS_TEST_PG is not set; the run fails.
    unset REGULARS_TEST_PG
    summary+=("PostgreSQL: COULD NOT START, PostgreSQL tests did not run")
    status=1
  fi
fi

run_suite ci || status=1
echo "=== clang-tidy (.clang-tidy) over the ci build's product sources ==="
if tests/clang_tidy.sh build/ci; then
  summary+=("clang-tidy: no findings")
else
  summary+=("clang-tidy: FINDINGS (see above)")
  status=1
fi
echo "=== Debian packages (tests/installer/packages_test.sh) from the ci build ==="
pkg_started=$SECONDS
pkg_rc=0
tests/installer/packages_test.sh build/ci || pkg_rc=$?
pkg_time=$((SECONDS - pkg_started))
case "$pkg_rc" in
  0) summary+=("packages: built, lintian clean, units verified, installed, upgraded, downgrade refused, removed, purged (${pkg_time} s)") ;;
  77) summary+=("packages: built and checked; install, upgrade and removal SKIPPED (not root) (${pkg_time} s)") ;;
  *) summary+=("packages: FAILED (see above)"); status=1 ;;
esac
UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 run_suite asan || status=1
run_fuzz || status=1

echo
echo "=== Summary ($((SECONDS - started)) s) ==="
for line in "${summary[@]}"; do echo "  $line"; done
exit $status
