#!/usr/bin/env bash
# The ABI check of the test command (ctest -L abi): abidiff of a freshly built libember.so
# against the committed baseline tests/abi/libember.so.0.abi.xml (made by
# scripts/abi-baseline.sh). Policy (docs/ABI.md):
#   - functions added since the baseline are allowed (--no-added-syms hides them);
#   - anything else abidiff reports fails: a removed or renamed function, a changed
#     parameter or return type (also through a typedef or a pointer), a changed symbol
#     version or SONAME. abidiff's exit status is a bit mask: 1 = tool error, 2 = usage
#     error, 4 = ABI change (needs a human to judge: for ember, a change to an existing
#     function is never allowed), 8 = incompatible change (a removed symbol). With added
#     symbols filtered out every bit is a failure, so any non-zero status fails.
# The layouts behind the opaque handles (struct ember_model in lib/api/handles.h) are not in
# the baseline (scripts/abi-baseline.sh drops types private to the library), so internal
# changes never trip the check.
# usage: abi_check.sh LIBRARY BASELINE_XML
# Exits 77 (ctest SKIP_RETURN_CODE) when abidiff is not installed.
set -uo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 LIBRARY BASELINE_XML" >&2; exit 2; fi
lib="$1" baseline="$2"
if ! command -v abidiff >/dev/null 2>&1; then
  echo "abidiff not found (Debian package abigail-tools, see scripts/setup.sh): ABI check SKIPPED"
  exit 77
fi
if ! readelf -S "$lib" 2>/dev/null | grep -q '\.debug_info'; then
  echo "$lib has no DWARF: the ABI check compares types and needs a build with -g (RelWithDebInfo)"
  exit 1
fi
# No --headers-dir here: abidiff would then treat every type defined outside include/ember/
# as private, int32_t and size_t included, and a parameter changed from int32_t to int64_t
# would pass unnoticed. The handles are opaque in the baseline already (abidw dropped their
# private layout), and a declaration-only struct compares equal to its definition.
report="$(abidiff --no-added-syms --exported-interfaces-only "$baseline" "$lib" 2>&1)"
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "ABI check: $(basename "$lib") is compatible with $(basename "$baseline") (additions allowed)"
  exit 0
fi
echo "$report"
echo
echo "ABI check FAILED: abidiff exit status $rc ="
[ $((rc & 1)) -ne 0 ] && echo "  1 (ABIDIFF_ERROR): abidiff error (could not read the baseline or the library)"
[ $((rc & 2)) -ne 0 ] && echo "  2 (ABIDIFF_USAGE_ERROR): abidiff usage error"
[ $((rc & 4)) -ne 0 ] && echo "  4 (ABIDIFF_ABI_CHANGE): ABI change: an existing function's signature or a type it uses changed"
[ $((rc & 8)) -ne 0 ] && echo "  8 (ABIDIFF_ABI_INCOMPATIBLE_CHANGE): incompatible ABI change: a function was removed or renamed"
echo "Existing functions never change (docs/ABI.md): give the new behaviour a new name instead."
echo "Regenerate the baseline (scripts/abi-baseline.sh) only after APPENDING functions."
exit 1
