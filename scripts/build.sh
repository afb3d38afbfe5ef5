#!/usr/bin/env bash
# Configures and builds ember into ${BUILD_DIR:-build} (Release with debug info).
#   TARGETS="a b"     builds only those targets;
#   CONFIGURE_ONLY=1  stops after CMake's configure step (scripts/fresh-check.sh --quick).
# Callers pass every option their configuration depends on, so a tree configured earlier
# with other options (say by demo.sh) is reconfigured rather than silently reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="${JOBS:-$(nproc)}"
mkdir -p "$build"
# A compiler cache where ccache is installed (scripts/setup.sh installs it), so that a CI
# run of a fresh clone recompiles only what changed since the machine's last run. Paths are
# rewritten relative to the checkout (CCACHE_BASEDIR) and the working directory is left out
# of the hash (CCACHE_NOHASHDIR), so clones at different paths share entries; ccache hashes
# the preprocessed source and the whole command line, so a hit is the same object the
# compiler would produce. EMBER_CCACHE=0 compiles everything (cold-build timings).
if [ "${EMBER_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
  launcher=ccache
else
  launcher=""
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER_LAUNCHER="$launcher" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" "$@" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log"; echo "build.sh: CMake configure of $build failed"; exit 1; }
if [ "${CONFIGURE_ONLY:-0}" = 1 ]; then
  echo "build.sh: configured $build"
  exit 0
fi
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" ${TARGETS:+--target $TARGETS}
