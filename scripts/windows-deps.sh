#!/usr/bin/env bash
# Builds the prefix of Windows x64 dependencies that the MinGW-w64 build
# (cmake/toolchains/mingw-w64.cmake) finds through CMAKE_PREFIX_PATH, and prints its path
# on the last line of stdout:
#   Abseil, utf8proc  compiled with MinGW-w64 from Debian's own source packages
#                     (`apt-get source`; Debian ships these libraries for Linux only), at the
#                     same versions as the host's -dev packages;
#   GoogleTest        compiled from /usr/src/googletest (Debian's libgtest-dev/googletest);
#   nlohmann-json     header-only: its headers and CMake package copied from the host
#                     (only those: never the host's whole /usr/include).
# Nothing is vendored into the checkout. The prefix is cached outside it, under
# $EMBER_CROSS_CACHE (default /var/cache/ember-cross, or ~/.cache/ember-cross when that is
# not writable), keyed by every version involved, so it is built once per machine and
# rebuilt only when Debian updates a package or the compiler.
# Needs: scripts/setup.sh's packages (MinGW-w64, dpkg-dev) and its deb-src lines.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolchain="$root/cmake/toolchains/mingw-w64.cmake"
jobs="${JOBS:-$(nproc)}"

cache="${EMBER_CROSS_CACHE:-/var/cache/ember-cross}"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/ember-cross"
  mkdir -p "$cache"
fi

# Source package and version of an installed binary package: the host architecture's where
# several are installed (multiarch), else the one there is (Architecture: all).
query() {
  dpkg-query -W -f="$2\n" "$1:$(dpkg --print-architecture)" 2>/dev/null ||
    dpkg-query -W -f="$2\n" "$1" | head -n1
}
src_of() { query "$1" '${source:Package}'; }
ver_of() { query "$1" '${source:Version}'; }
for p in libabsl-dev libutf8proc-dev libgtest-dev nlohmann-json3-dev; do
  ver_of "$p" >/dev/null 2>&1 || { echo "windows-deps: $p is not installed (run scripts/setup.sh)" >&2; exit 1; }
done
command -v x86_64-w64-mingw32-g++-posix >/dev/null ||
  { echo "windows-deps: x86_64-w64-mingw32-g++-posix missing (run scripts/setup.sh)" >&2; exit 1; }

absl_src="$(src_of libabsl-dev)" absl_ver="$(ver_of libabsl-dev)"
utf8_src="$(src_of libutf8proc-dev)" utf8_ver="$(ver_of libutf8proc-dev)"
gtest_ver="$(ver_of libgtest-dev)" json_ver="$(ver_of nlohmann-json3-dev)"
gcc_ver="$(x86_64-w64-mingw32-g++-posix -dumpfullversion 2>/dev/null || x86_64-w64-mingw32-g++-posix -dumpversion)"
# The toolchain file's flags are part of the key: a change there rebuilds the prefix.
tc_sum="$(sha256sum "$toolchain" | cut -c1-12)"
key="absl-$absl_ver.utf8proc-$utf8_ver.gtest-$gtest_ver.json-$json_ver.gcc-$gcc_ver.tc-$tc_sum"
key="${key//[^A-Za-z0-9._+-]/_}"
prefix="$cache/mingw-w64-x86_64/$key"
if [ -f "$prefix/.complete" ]; then
  echo "windows-deps: cached $prefix" >&2
  echo "$prefix"
  exit 0
fi

# One builder at a time per cache (two CI runs must not build into the same prefix).
exec 9>"$cache/.lock"
flock 9
if [ -f "$prefix/.complete" ]; then echo "$prefix"; exit 0; fi

started=$SECONDS
work="$cache/work.$$"
rm -rf "$prefix" "$work"
mkdir -p "$work" "$prefix"
trap 'rm -rf "$work"' EXIT
log="$work/log"

configure_build_install() {  # NAME SOURCE_DIR CMAKE_ARGS...
  local name="$1" dir="$2"; shift 2
  echo "windows-deps: building $name" >&2
  if ! { cmake -S "$dir" -B "$work/build-$name" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
           -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF \
           -DCMAKE_CXX_STANDARD=20 "$@" &&
         nice cmake --build "$work/build-$name" -j "$jobs" &&
         cmake --install "$work/build-$name"; } >"$log" 2>&1; then
    tail -50 "$log" >&2
    echo "windows-deps: $name failed (log above)" >&2
    exit 1
  fi
}

# Debian's sources, unpacked with Debian's patches applied (dpkg-source, from dpkg-dev).
fetch() {  # SOURCE_PACKAGE VERSION -> prints the unpacked directory
  local pkg="$1" ver="$2"
  mkdir -p "$work/src"
  if ! (cd "$work/src" && apt-get source -qq "$pkg=$ver") >"$log" 2>&1; then
    cat "$log" >&2
    echo "windows-deps: 'apt-get source $pkg=$ver' failed: scripts/setup.sh adds the deb-src lines and runs apt-get update" >&2
    exit 1
  fi
  find "$work/src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n1
}

# Abseil as Debian configures it (its patches pin the std:: type options), C++20 like ember.
absl_dir="$(fetch "$absl_src" "$absl_ver")"
configure_build_install abseil "$absl_dir" -DABSL_PROPAGATE_CXX_STD=ON -DBUILD_TESTING=OFF \
  -DABSL_BUILD_TESTING=OFF -DABSL_ENABLE_INSTALL=ON

utf8_dir="$(fetch "$utf8_src" "$utf8_ver")"
configure_build_install utf8proc "$utf8_dir" -DUTF8PROC_ENABLE_TESTING=OFF

# Without pthreads: GoogleTest's headers pick Win32 threads on MinGW, and the library must be
# built the same way (its CMake would otherwise define GTEST_HAS_PTHREAD=1 for itself only).
configure_build_install googletest /usr/src/googletest -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON \
  -Dgtest_disable_pthreads=ON

# nlohmann-json: the headers and the CMake package, whose targets file finds the headers
# relative to itself (so in this prefix).
mkdir -p "$prefix/include" "$prefix/share/cmake"
cp -r /usr/include/nlohmann "$prefix/include/"
cp -r /usr/share/cmake/nlohmann_json "$prefix/share/cmake/"

echo "$key" >"$prefix/.complete"
echo "windows-deps: built $prefix in $((SECONDS - started)) s" >&2
echo "$prefix"
