#!/usr/bin/env bash
# Compiles the public headers as a host would: include/ember/ember.h as C99 and, with
# include/ember/ember.hpp, as C++17, both with -Wall -Wextra -Werror -pedantic; once as a
# shared-library host and once with EMBER_STATIC. Then checks that ignoring a returned
# ember_status is rejected under -Werror (EMBER_NODISCARD works).
# usage: header_compile.sh CC CXX SOURCE_DIR GENERATED_INCLUDE_DIR (ember/ember_version.h)
set -uo pipefail
cc="$1" cxx="$2" src="$3" generated="$4"
here="$src/tests/abi"
flags=(-Wall -Wextra -Werror -pedantic -I"$src/include" -I"$generated" -c -o /dev/null)
failed=0
run() { echo "+ $*"; "$@" || failed=1; }
for def in "" "-DEMBER_STATIC"; do
  run "$cc" -std=c99 ${def:+"$def"} "${flags[@]}" "$here/header_c99.c"
  run "$cxx" -std=c++17 ${def:+"$def"} "${flags[@]}" "$here/header_cxx17.cc"
done
for pair in "$cc -std=c99:nodiscard_ignored.c" "$cxx -std=c++17:nodiscard_ignored.cc"; do
  compiler="${pair%%:*}" file="${pair##*:}"
  # shellcheck disable=SC2086
  if out="$($compiler "${flags[@]}" "$here/$file" 2>&1)"; then
    echo "FAILED: $compiler accepted $file: an ignored ember_status must be an error under -Werror"
    failed=1
  elif ! grep -q "unused-result" <<<"$out"; then
    echo "FAILED: $compiler rejected $file for another reason:"; echo "$out"; failed=1
  else
    echo "ok: $compiler rejects an ignored ember_status ($file)"
  fi
done
[ "$failed" -eq 0 ] && echo "header compile checks passed with $cc / $cxx"
exit "$failed"
