#!/usr/bin/env bash
# Quick start 2 (and CI): install what is needed, build, and run the whole test suite:
#   1. the release build's GoogleTest suites (every kernel ISA path included),
#   2. the same suites under AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. the concurrency tests under ThreadSanitizer,
#   4. every libFuzzer target for a short budget (FUZZ_SECONDS, default 30 s each).
# Stages can be chosen with STAGES="release asan tsan fuzz". Designed to fit in ~30 minutes
# on a 2-core machine.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stages="${STAGES:-release asan tsan fuzz}"
jobs="${JOBS:-$(nproc)}"
passed=0
failed=0
failed_stages=()

"$root/scripts/setup.sh" || { echo "setup failed"; exit 1; }

# Runs ctest in $1 with extra args; adds its counts to the totals.
run_ctest() {
  local dir="$1"; shift
  local log="$dir/ctest.log"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900 "$@" 2>&1 | tee "$log"
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$line" ]; then
    failed=$((failed + 1)); return 1
  fi
  local total fail
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - fail))
  failed=$((failed + fail))
  [ "$fail" -eq 0 ]
}

stage() {
  echo
  echo "=== stage: $1 ==="
}

for s in $stages; do
  case "$s" in
    release)
      stage release
      if BUILD_DIR="$root/build" JOBS="$jobs" "$root/scripts/build.sh"; then
        run_ctest "$root/build" || failed_stages+=(release)
      else
        failed=$((failed + 1)); failed_stages+=("release-build")
      fi
      ;;
    asan)
      stage "asan+ubsan"
      # clang tree shared with the fuzz stage: ASan+UBSan everywhere, fuzz targets too.
      if BUILD_DIR="$root/build-sanitize" JOBS="$jobs" "$root/scripts/build.sh" -DCMAKE_C_COMPILER=clang-14 \
           -DCMAKE_CXX_COMPILER=clang++-14 -DEMBER_BUILD_FUZZERS=ON -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=OFF; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          run_ctest "$root/build-sanitize" || failed_stages+=(asan)
      else
        failed=$((failed + 1)); failed_stages+=("asan-build")
      fi
      ;;
    tsan)
      stage tsan
      if BUILD_DIR="$root/build-tsan" JOBS="$jobs" TARGETS="concurrency_test" "$root/scripts/build.sh" -DEMBER_TSAN=ON -DEMBER_BUILD_BENCH=OFF; then
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
          run_ctest "$root/build-tsan" -L concurrency || failed_stages+=(tsan)
      else
        failed=$((failed + 1)); failed_stages+=("tsan-build")
      fi
      ;;
    fuzz)
      stage fuzz
      if FUZZ_BUILD_DIR="$root/build-sanitize" FUZZ_WITH_TESTS=ON "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1)); failed_stages+=(fuzz)
      fi
      ;;
    *) echo "unknown stage $s"; exit 2 ;;
  esac
done

echo
if [ ${#failed_stages[@]} -gt 0 ]; then echo "failed stages: ${failed_stages[*]}"; fi
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
