#!/usr/bin/env bash
# Quick start 2 (and CI): install what is needed, build, and run the whole test suite:
#   1. the release build's GoogleTest suites (every kernel ISA path included),
#   2. the same suites under AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. the concurrency tests under ThreadSanitizer,
#   4. every libFuzzer target for a short budget (FUZZ_SECONDS, default 30 s each),
#   5. fresh: scripts/fresh-check.sh --quick — a clean Debian 12 root, the setup script, and
#      CMake configure of every configuration above (proves the install path). It is mostly
#      downloads and package unpacking, so it starts in the background at the beginning and
#      runs alongside the compile-bound stages (its log is printed when the stage is reached);
#      alone it takes 10-15 min, which would not fit the budget in series.
#      Skipped inside fresh-check.sh's own root (EMBER_IN_FRESH_ROOT=1).
#   6. windows: ember.dll, libember.dll.a and libember.a cross-compiled with MinGW-w64
#      (cmake/toolchains/mingw-w64.cmake) against a dependency prefix that
#      scripts/windows-deps.sh builds once per machine from Debian's sources (cached outside
#      the checkout); ember.dll's export table checked against lib/api/ember.map; every
#      GoogleTest program of the library and the C examples run under Wine. Skipped, saying
#      so, where Wine or MinGW-w64 is missing (scripts/setup.sh installs both).
#   7. arm64: the aarch64 cross build (cmake/toolchains/aarch64-linux-gnu.cmake) of every
#      kernels and model test (the golden logits and reference cases among them), run under
#      qemu-aarch64 on every ARM ISA path (scalar, neon, dotprod; detected on two emulated
#      CPUs, and forced by EMBER_ISA).
# Stages can be chosen with STAGES="release asan tsan fuzz windows arm64 fresh"; that is also
# the default (CI) list. Each stage prints its time, and the run ends with all of them.
# Every tree compiles through ccache where it is installed (scripts/build.sh), so a run
# recompiles what changed since the machine's last run (EMBER_CCACHE=0 compiles everything).
# Measured on the 2-core AMD EPYC VM, idle, a fresh clone with the cache emptied (cold): 71.6
# min in all: release 19.7, asan+ubsan 23.2, tsan 5.1, fuzz 3.8, windows 11.9 (build 10.8,
# Wine 1.0; the dependency prefix already cached, else ~26 min more once per machine), arm64
# 7.9 (build ~6, qemu 2), fresh 13.7 alongside the others. With the cache of an earlier run
# (what CI meets on this machine), another fresh clone: 23.2 min: release 4.1, asan+ubsan
# 10.3, tsan 0.3, fuzz 3.7, windows 2.2, arm64 2.5, fresh 12.3 alongside.
# Every configuration passes all the options it depends on, so trees configured earlier
# with other options (e.g. by demo.sh) are reconfigured, never silently reused.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stages="${STAGES:-release asan tsan fuzz windows arm64 fresh}"
jobs="${JOBS:-$(nproc)}"
passed=0
failed=0
failed_stages=()

"$root/scripts/setup.sh" || { echo "setup failed"; exit 1; }

# CONFIGURE_ONLY=1 configures every tree and runs nothing (fresh-check.sh --quick).
configure_only() {
  if [ "${CONFIGURE_ONLY:-0}" = 1 ]; then passed=$((passed + 1)); return 0; fi
  return 1
}

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

stage_started=0
stage_times=()
stage() {
  echo
  echo "=== stage: $1 ==="
  stage_started=$SECONDS
}
stage_done() {
  local t=$((SECONDS - stage_started))
  echo "=== stage $1: $((t / 60)) min $((t % 60)) s ==="
  stage_times+=("$1 ${t}s")
}
# Options shared by the configurations: each states every switch it depends on.
common_opts=(-DEMBER_BUILD_FUZZERS=OFF -DEMBER_ASAN=OFF -DEMBER_TSAN=OFF)
# setup.sh has installed every tool by now: a binding test that cannot run is a failure, and
# so is a skipped Chromium or nginx test (they exit 77 only where those are not installed).
export EMBER_REQUIRE_CHROMIUM=1 EMBER_REQUIRE_NGINX=1

fresh_pid=""
mkdir -p "$root/build-fresh"; fresh_log="$root/build-fresh/fresh-check-quick.log"
if [[ " $stages " == *" fresh "* ]] && [ "${EMBER_IN_FRESH_ROOT:-0}" != 1 ] && [ "${CONFIGURE_ONLY:-0}" != 1 ]; then
  echo "fresh: scripts/fresh-check.sh --quick started in the background (log: $fresh_log)"
  "$root/scripts/fresh-check.sh" --quick >"$fresh_log" 2>&1 &
  fresh_pid=$!
fi

for s in $stages; do
  case "$s" in
    release)
      stage release
      if BUILD_DIR="$root/build" JOBS="$jobs" "$root/scripts/build.sh" "${common_opts[@]}" \
           -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=ON -DEMBER_REQUIRE_TOOLS=ON; then
        configure_only || run_ctest "$root/build" || failed_stages+=(release)
      else
        failed=$((failed + 1)); failed_stages+=("release-build")
      fi
      ;;
    asan)
      stage "asan+ubsan"
      # clang tree shared with the fuzz stage: ASan+UBSan everywhere, fuzz targets too.
      if BUILD_DIR="$root/build-sanitize" JOBS="$jobs" "$root/scripts/build.sh" -DCMAKE_C_COMPILER=clang-14 \
           -DCMAKE_CXX_COMPILER=clang++-14 -DEMBER_BUILD_FUZZERS=ON -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=OFF \
           -DEMBER_ASAN=OFF -DEMBER_TSAN=OFF; then
        configure_only || ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          run_ctest "$root/build-sanitize" || failed_stages+=(asan)
      else
        failed=$((failed + 1)); failed_stages+=("asan-build")
      fi
      ;;
    tsan)
      stage tsan
      if BUILD_DIR="$root/build-tsan" JOBS="$jobs" TARGETS="concurrency_test" "$root/scripts/build.sh" -DEMBER_TSAN=ON -DEMBER_ASAN=OFF \
           -DEMBER_BUILD_FUZZERS=OFF -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=OFF; then
        configure_only || TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
          run_ctest "$root/build-tsan" -L concurrency || failed_stages+=(tsan)
      else
        failed=$((failed + 1)); failed_stages+=("tsan-build")
      fi
      ;;
    fuzz)
      stage fuzz
      if [ "${CONFIGURE_ONLY:-0}" = 1 ]; then
        echo "fuzz: configured with the asan+ubsan tree"
      elif FUZZ_BUILD_DIR="$root/build-sanitize" FUZZ_WITH_TESTS=ON "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1)); failed_stages+=(fuzz)
      fi
      ;;
    arm64)
      stage arm64
      # Only the targets run here (build-arm64 is a cross tree: its other tests would need
      # qemu for host tools too). Runs, each through ctest's CMAKE_CROSSCOMPILING_EMULATOR:
      #   1. qemu's default CPU ("max": NEON and the dot product): every kernels and model
      #      test built; the kernel tests and isa_golden_test walk scalar, neon and dotprod
      #      themselves, golden_test runs the detected path (dotprod).
      #   2. QEMU_CPU=cortex-a53 (ARMv8.0-A, no dot product): detection must say neon; the
      #      dispatch and kernel-twin tests, and golden_test's int8 cases, on that path.
      #   3. EMBER_ISA=scalar and EMBER_ISA=neon on the default CPU: golden_test's int8 cases
      #      (the quantized matmul kernels) forced to each path; isa_golden_test in run 1
      #      already compares every path's float and exact-Q8 logits with the references.
      # Every program of tests/kernels and tests/model (the ISA-dependent code), one per
      # *_test.cc as tests/CMakeLists.txt makes them (kernels/x86 is x86-64 only).
      arm64_targets="$(cd "$root/tests" && for f in kernels/*_test.cc model/*_test.cc; do basename "$f" .cc; done)"
      arm64_dir="$root/build-arm64"
      if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-g++ >/dev/null; then
        echo "arm64: qemu-aarch64 or aarch64-linux-gnu-g++ is missing (scripts/setup.sh installs them)"
        failed=$((failed + 1)); failed_stages+=("arm64-tools")
      elif BUILD_DIR="$arm64_dir" JOBS="$jobs" TARGETS="$arm64_targets" "$root/scripts/build.sh" \
             -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" "${common_opts[@]}" \
             -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=OFF; then
        if ! configure_only; then
          kernel_tests='^(DispatchTest|AttentionKernelsTest|GeluNewSimdTest|Q8QuantizeSimdTest|MatMulTest)\.'
          golden_tests='^AllModels/GoldenTest\..*_int8( |$)'
          EMBER_TEST_EXPECT_DETECTED_ISA=dotprod run_ctest "$arm64_dir" -L '^(kernels|model)$' \
            || failed_stages+=("arm64-max")
          QEMU_CPU=cortex-a53 EMBER_TEST_EXPECT_DETECTED_ISA=neon \
            run_ctest "$arm64_dir" -R "$kernel_tests|$golden_tests" || failed_stages+=("arm64-cortex-a53")
          for isa in scalar neon; do
            EMBER_ISA=$isa run_ctest "$arm64_dir" -R "$golden_tests" || failed_stages+=("arm64-$isa")
          done
        fi
      else
        failed=$((failed + 1)); failed_stages+=("arm64-build")
      fi
      ;;
    fresh)
      stage fresh
      if [ "${EMBER_IN_FRESH_ROOT:-0}" = 1 ] || [ "${CONFIGURE_ONLY:-0}" = 1 ]; then
        echo "fresh: skipped (already inside scripts/fresh-check.sh's clean root)"
      else
        echo "fresh: waiting for the background run started at the beginning"
        wait "$fresh_pid"; rc=$?
        cat "$fresh_log"
        if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_stages+=(fresh); fi
      fi
      ;;
    windows)
      stage windows
      if [ "${CONFIGURE_ONLY:-0}" = 1 ]; then
        echo "windows: not configured (CONFIGURE_ONLY): its configure needs the dependency prefix built first"
      elif ! command -v x86_64-w64-mingw32-g++-posix >/dev/null; then
        echo "windows: SKIPPED: MinGW-w64 (g++-mingw-w64-x86-64-posix) is not installed; scripts/setup.sh installs it"
      elif ! command -v wine64 >/dev/null && [ ! -x /usr/lib/wine/wine64 ]; then
        echo "windows: SKIPPED: wine64 is not installed; scripts/setup.sh installs it"
      else
        mkdir -p "$root/build-windows"; windows_log="$root/build-windows/stage.log"
        BUILD_DIR="$root/build-windows" JOBS="$jobs" "$root/scripts/windows-test.sh" 2>&1 | tee "$windows_log"
        rc=${PIPESTATUS[0]}
        counts=$(grep -E '^windows: [0-9]+ passed, [0-9]+ failed' "$windows_log" | tail -1)
        if [ -n "$counts" ]; then
          passed=$((passed + $(echo "$counts" | sed -E 's/^windows: ([0-9]+) passed.*/\1/')))
          failed=$((failed + $(echo "$counts" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
        fi
        if [ "$rc" -ne 0 ]; then
          [ -z "$counts" ] && failed=$((failed + 1))
          failed_stages+=(windows)
        fi
      fi
      ;;
    *) echo "unknown stage $s"; exit 2 ;;
  esac
  stage_done "$s"
done

echo
echo "stage times: ${stage_times[*]}"
if [ ${#failed_stages[@]} -gt 0 ]; then echo "failed stages: ${failed_stages[*]}"; fi
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
