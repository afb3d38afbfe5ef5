#!/usr/bin/env bash
# Quick start 1: install what is needed, build, and tell a story with the bundled model
# (stories260K, a real tiny Llama trained on TinyStories).
# It shares build/ with scripts/test.sh but builds only the `ember` tool, so the two README
# commands run in either order without undoing each other's configuration.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
BUILD_DIR="$root/build" TARGETS=ember_cli "$root/scripts/build.sh" \
  -DEMBER_BUILD_TESTS=ON -DEMBER_BUILD_BENCH=ON -DEMBER_BUILD_FUZZERS=OFF -DEMBER_ASAN=OFF -DEMBER_TSAN=OFF
"$root/build/cli/ember" generate -m "$root/tests/data/models/stories260K.gguf" \
  -p "${1:-Once upon a time}" -n "${2:-200}" --seed "${SEED:-1}" -t 1
