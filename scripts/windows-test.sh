#!/usr/bin/env bash
# The Windows x64 check (the `windows` stage of scripts/test.sh; runs alone too):
#   1. the dependency prefix (scripts/windows-deps.sh: built once, then cached);
#   2. ember.dll + libember.dll.a + libember.a, the examples and the library's GoogleTest
#      suites, cross-compiled with MinGW-w64 into ${BUILD_DIR:-build-windows};
#   3. ember.dll exports exactly the functions of lib/api/ember.map (ember.h's functions);
#   4. every suite under Wine (ctest; one test per program), then the C examples: the DLL
#      and static builds of simple_generate print the same story, and so does the Linux
#      build's when build/ has one (same API, same numbers);
# and ends with "windows: P passed, F failed" (suites + checks). Extra arguments go to
# CMake (scripts/build.sh already compiles through ccache where it is installed).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-windows}"
jobs="${JOBS:-$(nproc)}"
started=$SECONDS
passed=0
failed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
finish() {
  echo "windows: stage took $((SECONDS - started)) s (dependencies ${deps_s:-?} s, build ${build_s:-?} s, tests ${tests_s:-?} s)"
  echo "windows: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# 1. Dependencies.
t=$SECONDS
if ! prefix="$("$root/scripts/windows-deps.sh" | tail -n1)" || [ -z "$prefix" ]; then
  fail "scripts/windows-deps.sh"; finish
fi
deps_s=$((SECONDS - t))

# 2. Build: everything this configuration has is what the stage runs (no bench, no tool).
t=$SECONDS
if ! BUILD_DIR="$build" JOBS="$jobs" nice "$root/scripts/build.sh" \
     -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/mingw-w64.cmake" -DCMAKE_PREFIX_PATH="$prefix" \
     -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=OFF -DEMBER_BUILD_FUZZERS=OFF -DEMBER_ASAN=OFF \
     -DEMBER_TSAN=OFF "$@"; then
  build_s=$((SECONDS - t)); fail "MinGW-w64 build"; finish
fi
build_s=$((SECONDS - t))
for f in bin/ember.dll lib/libember.dll.a lib/libember.a; do
  if [ -f "$build/$f" ]; then pass "built $f"; else fail "$f missing"; fi
done

# 3. Exports: the DLL's export name table against the version script's explicit list.
objdump=x86_64-w64-mingw32-objdump
exported="$($objdump -p "$build/bin/ember.dll" |
  sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | sed -nE 's/^\s*\[ *[0-9]+\] +([A-Za-z0-9_]+)$/\1/p' | sort)"
expected="$(sed -nE 's/^\s+(ember_[A-Za-z0-9_]+);.*/\1/p' "$root/lib/api/ember.map" | sort)"
if [ -n "$expected" ] && [ "$exported" = "$expected" ]; then
  pass "ember.dll exports the $(echo "$expected" | wc -l) ember_* functions of ember.map and nothing else"
else
  fail "ember.dll exports differ from lib/api/ember.map:"; diff <(echo "$expected") <(echo "$exported") | head -20
fi

# 4. Wine: a prefix of its own outside the checkout, no Mono/Gecko prompts, no debug noise;
# one wineserver kept up for the whole run (each program would otherwise start one).
wine="$(command -v wine64 || echo /usr/lib/wine/wine64)"
export WINEPREFIX="${EMBER_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/ember-wine64}"
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$WINEPREFIX"
wineserver -p
trap 'wineserver -k 2>/dev/null' EXIT
"$wine" wineboot --init >/dev/null 2>&1 || true

t=$SECONDS
xml="$build/gtest-xml"
rm -rf "$xml"; mkdir -p "$xml"
log="$build/ctest.log"
# GoogleTest's reports: a Windows path (winepath), since Wine reads /a/b as \\a\\b on the
# current drive.
xml_win="$(winepath -w "$xml" 2>/dev/null)"
GTEST_OUTPUT="xml:${xml_win:-$xml}\\" ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900 2>&1 | tee "$log"
total=0
line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
if [ -z "$line" ]; then
  fail "ctest did not finish"
else
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  nfail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - nfail)); failed=$((failed + nfail))
fi
# Cases, from each program's XML report (the root <testsuites> element).
cases=0 case_failures=0 case_skipped=0
for f in "$xml"/*.xml; do
  [ -f "$f" ] || continue
  root_el="$(grep -m1 '<testsuites' "$f")"
  n=$(echo "$root_el" | sed -nE 's/.* tests="([0-9]+)".*/\1/p'); cases=$((cases + ${n:-0}))
  n=$(echo "$root_el" | sed -nE 's/.* failures="([0-9]+)".*/\1/p'); case_failures=$((case_failures + ${n:-0}))
  n=$(grep -c '<skipped' "$f"); case_skipped=$((case_skipped + n))
done
echo "windows: GoogleTest under Wine: $total programs, $cases cases, $case_failures failed, $case_skipped skipped"
tests_s=$((SECONDS - t))

# 5. The C examples under Wine.
models="$root/tests/data/models"
run() {  # run PROGRAM ARGS...: its stdout, CR LF (text mode) as LF; fails on a non-zero exit
  "$wine" "$@" 2>"$build/example.stderr" | tr -d '\r'
}
story="$(run "$build/bin/simple_generate.exe" "$models/stories260K.gguf" "Once upon a time" 30)"
case "$story" in
  "Once upon a time"?*) pass "simple_generate.exe (ember.dll): $(echo "$story" | head -c 60)..." ;;
  *) fail "simple_generate.exe printed: $story"; cat "$build/example.stderr" ;;
esac
static_story="$(run "$build/bin/simple_generate_static.exe" "$models/stories260K.gguf" "Once upon a time" 30)"
if [ "$static_story" = "$story" ]; then pass "simple_generate_static.exe (libember.a) prints the same"; else
  fail "simple_generate_static.exe differs: $static_story"; fi
if $objdump -p "$build/bin/simple_generate_static.exe" | grep -qi 'DLL Name: ember.dll'; then
  fail "simple_generate_static.exe imports ember.dll"; fi
qa="$(run "$build/bin/phi2_qa.exe" "$models/tiny-phi2.f32.gguf" "What is 2+2?" 16)"
if [ $? -eq 0 ]; then pass "phi2_qa.exe"; else fail "phi2_qa.exe"; cat "$build/example.stderr"; fi
linux="$root/build/examples/simple_generate"
if [ -x "$linux" ]; then
  linux_story="$(LD_LIBRARY_PATH="$root/build/lib" "$linux" "$models/stories260K.gguf" "Once upon a time" 30 2>/dev/null)"
  if [ "$linux_story" = "$story" ]; then pass "the Linux build prints the same story"; else
    fail "Linux and Windows stories differ:"; echo "linux:   $linux_story"; echo "windows: $story"; fi
  linux_qa="$(LD_LIBRARY_PATH="$root/build/lib" "$root/build/examples/phi2_qa" "$models/tiny-phi2.f32.gguf" "What is 2+2?" 16 2>/dev/null)"
  if [ "$linux_qa" = "$qa" ]; then pass "the Linux build answers phi2_qa the same"; else fail "phi2_qa differs from Linux"; fi
else
  echo "windows: no Linux build in build/ to compare the examples' output with"
fi
finish
