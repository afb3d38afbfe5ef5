#!/usr/bin/env bash
# Installs the freshly built ember into a temporary prefix (cmake --install) and builds the
# C examples out of tree against it, as hosts would:
#   1. find_package(ember CONFIG): tests/consumer/CMakeLists.txt, against libember.so
#      (every example, plus a C++17 program using ember.hpp) and libember.a;
#   2. pkg-config: a plain `cc` command line with `pkg-config --cflags --libs ember`, and a
#      static link with `pkg-config --static` (checks Requires.private / Libs.private);
# then runs every program on the bundled models and checks they all print the same text.
# usage: consumer_test.sh BUILD_DIR SOURCE_DIR C_COMPILER CXX_COMPILER
set -euo pipefail
build="$1" src="$2" cc="$3" cxx="$4"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ember-consumer.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
step() { echo; echo "== $*"; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in include/ember/ember.h include/ember/ember.hpp include/ember/ember_version.h; do test -f "$prefix/$f" || { echo "missing $f"; exit 1; }; done
pc="$(find "$prefix" -name ember.pc)"
libdir="$(dirname "$(dirname "$pc")")"
ls "$libdir"/libember.so.0 "$libdir"/libember.a "$libdir"/cmake/ember/emberConfig.cmake

step "find_package(ember CONFIG) consumer"
cmake -S "$src/tests/consumer" -B "$tmp/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
  -DEMBER_EXAMPLES_DIR="$src/examples" >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/cmake" -j 2

step "pkg-config consumer"
export PKG_CONFIG_PATH="$(dirname "$pc")"
echo "pkg-config --cflags --libs ember: $(pkg-config --cflags --libs ember)"
echo "pkg-config --static --cflags --libs ember: $(pkg-config --static --cflags --libs ember)"
[ "$(pkg-config --modversion ember)" = "$(sed -n 's/^#define EMBER_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/ember/ember_version.h")" ]
mkdir -p "$tmp/pc"
for example in "$src"/examples/*.c; do
  name="$(basename "$example" .c)"
  # shellcheck disable=SC2046
  "$cc" -std=c99 -Wall -Wextra -Werror -pedantic "$example" -o "$tmp/pc/$name" $(pkg-config --cflags --libs ember)
done
# Static: libember.a named explicitly (a bare -lember prefers the .so), then its private deps.
# shellcheck disable=SC2046
"$cc" -std=c99 $(pkg-config --static --cflags ember) "$src/examples/simple_generate.c" \
  -o "$tmp/pc/simple_generate_static" "$libdir/libember.a" \
  $(pkg-config --static --libs ember | sed -e 's/\(^\| \)-lember\( \|$\)/ /')

step "run"
models="$src/tests/data/models"
run() {  # run NAME ARGS...: prints stdout; fails on a non-zero exit
  local out
  if ! out="$("$@" 2>"$tmp/stderr")"; then echo "FAILED: $*"; cat "$tmp/stderr"; exit 1; fi
  printf '%s' "$out"
}
story="$(LD_LIBRARY_PATH="$libdir" run "$tmp/pc/simple_generate" "$models/stories260K.gguf" "Once upon a time" 30)"
case "$story" in "Once upon a time"?*) ;; *) echo "unexpected story: $story"; exit 1 ;; esac
grep -q "tokens generated" "$tmp/stderr"
for bin in "$tmp/cmake/simple_generate" "$tmp/cmake/simple_generate_static" "$tmp/pc/simple_generate_static"; do
  [ "$(run "$bin" "$models/stories260K.gguf" "Once upon a time" 30)" = "$story" ] || { echo "$bin differs"; exit 1; }
  echo "ok: $bin"
done
# The static programs must not need libember.so at run time.
for bin in "$tmp/cmake/simple_generate_static" "$tmp/pc/simple_generate_static"; do
  if readelf -d "$bin" | grep -q 'libember\.so'; then echo "$bin links libember.so"; exit 1; fi
done
qa="$(run "$tmp/cmake/phi2_qa" "$models/tiny-phi2.f32.gguf" "What is 2+2?" 16)"
[ "$(LD_LIBRARY_PATH="$libdir" run "$tmp/pc/phi2_qa" "$models/tiny-phi2.f32.gguf" "What is 2+2?" 16)" = "$qa" ]
echo "ok: phi2_qa (find_package and pkg-config agree)"
# ember.hpp: greedy, so it matches simple_generate only in form; check it runs and streams.
greedy="$(run "$tmp/cmake/cpp_generate" "$models/stories260K.gguf" "Once upon a time" 30)"
case "$greedy" in "Once upon a time"?*) echo "ok: cpp_generate" ;; *) echo "unexpected: $greedy"; exit 1 ;; esac
echo
echo "consumer test passed: find_package (shared, static, C++), pkg-config (shared, static)"
