#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang + ASan/UBSan and runs each for
# a bounded time: ./scripts/fuzz.sh [SECONDS_PER_TARGET=30] [TARGET...]
# Seeds come from fuzz/seeds/<target>/ and the fixtures in tests/data; new corpus entries
# go to build-fuzz/corpus/<target>/ (not committed). A crash leaves crash-* files in
# build-fuzz/ and fails the script: turn each into a regression test with its input.
# Local deep runs: ./scripts/fuzz.sh 3600
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-30}"; shift || true
# FUZZ_BUILD_DIR / FUZZ_WITH_TESTS let scripts/test.sh share one clang tree between its
# sanitizer stage (tests) and this fuzz stage.
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DEMBER_BUILD_FUZZERS=ON -DEMBER_BUILD_TESTS="${FUZZ_WITH_TESTS:-OFF}" -DEMBER_BUILD_BENCH=OFF >/dev/null || exit 1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${targets[@]}" || exit 1
# Targets run FUZZ_JOBS at a time (default: one per core): each libFuzzer process is
# single-threaded, so on CI's 2 cores two at once halve the stage's wall time and give each
# target the same executions as running alone.
run_target() {
  local t="$1" corpus="$build/corpus/$1" log="$build/$1.log" seeds=() rc execs
  mkdir -p "$corpus"
  [ -d "$root/fuzz/seeds/$t" ] && seeds+=("$root/fuzz/seeds/$t")
  # UBSan halts so that undefined behaviour counts as a crash, not a line in the log.
  (cd "$build" && EMBER_SOURCE_DIR="$root" ASAN_OPTIONS=detect_leaks=1 \
     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     "./fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
     "$corpus" "${seeds[@]}" >"$log" 2>&1)
  rc=$?
  execs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}')
  if [ $rc -ne 0 ]; then
    { echo "fuzz: $t FAILED after ${execs:-?} executions (log: $log)"; tail -30 "$log"; } >"$build/$t.result"
    return 1
  fi
  echo "fuzz: $t ok, ${execs:-?} executions in ${seconds}s" >"$build/$t.result"
}
max_jobs="${FUZZ_JOBS:-$(nproc)}"
for t in "${targets[@]}"; do
  rm -f "$build/$t.result"
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n || true; done
  run_target "$t" &
done
wait
status=0
for t in "${targets[@]}"; do
  if [ -f "$build/$t.result" ]; then cat "$build/$t.result"; else echo "fuzz: $t produced no result"; status=1; fi
  grep -q "^fuzz: $t ok" "$build/$t.result" 2>/dev/null || status=1
done
exit $status
