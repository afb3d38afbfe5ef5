#!/usr/bin/env bash
# Regenerates the committed ABI baselines: tests/abi/libember.so.0.abi.xml from a fresh
# RelWithDebInfo build of libember.so (BUILD_DIR, default build/) with abidw from Debian's
# abigail-tools, and tests/abi/ember.h.api.txt, the API surface of include/ember/ember.h.
# The ABI checks (tests/abi/abi_check.sh and api_surface.sh, ctest -L abi) compare every
# later build against them.
#
# When it is legitimate to run (docs/ABI.md, "The ABI baseline"):
#   - after APPENDING functions to include/ember/ember.h (and their names to a version node
#     of lib/api/ember.map), so that the new functions are protected from then on;
#   - never to make a failing ABI check pass. The script first runs that check against the
#     current baseline and refuses to overwrite it unless the only differences are additions.
#     A deliberate break is only possible with a new major version (a new SONAME) and
#     EMBER_ABI_BREAK=1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
baseline="$root/tests/abi/libember.so.0.abi.xml"
surface="$root/tests/abi/ember.h.api.txt"   # the header's API surface (tests/abi/api_surface.sh)
command -v abidw >/dev/null || { echo "abidw not found: install Debian's abigail-tools (scripts/setup.sh)"; exit 1; }
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEMBER_ASAN=OFF -DEMBER_TSAN=OFF -DEMBER_BUILD_FUZZERS=OFF >/dev/null
fi
cmake --build "$build" --target ember
lib="$build/lib/libember.so.0"
if [ -f "$baseline" ] && [ "${EMBER_ABI_BREAK:-0}" != 1 ]; then
  "$root/tests/abi/abi_check.sh" "$lib" "$baseline" || {
    echo "abi-baseline.sh: the library is not a pure extension of the baseline; not overwriting it."
    exit 1; }
  "$root/tests/abi/api_surface.sh" "$root/include/ember/ember.h" "$surface" || {
    echo "abi-baseline.sh: ember.h is not a pure extension of the baseline; not overwriting it."
    exit 1; }
fi
"$root/tests/abi/api_surface.sh" "$root/include/ember/ember.h" >"$surface"
# Only the exported interface and the types in include/ember/ (handles stay opaque); short
# locations and no build paths, so the file does not depend on where the tree was built.
abidw --exported-interfaces-only --headers-dir "$root/include/ember" --drop-private-types \
  --no-corpus-path --short-locs --no-comp-dir-path --out-file "$baseline" "$lib"
echo "abi-baseline.sh: wrote $baseline ($(grep -c '<elf-symbol ' "$baseline") exported functions) and $surface"
