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
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log"; echo "build.sh: CMake configure of $build failed"; exit 1; }
if [ "${CONFIGURE_ONLY:-0}" = 1 ]; then
  echo "build.sh: configured $build"
  exit 0
fi
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" ${TARGETS:+--target $TARGETS}
