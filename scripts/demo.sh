#!/usr/bin/env bash
# Quick start 1: install what is needed, build, and tell a story with the bundled model
# (stories260K, a real tiny Llama trained on TinyStories).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
BUILD_DIR="$root/build" "$root/scripts/build.sh" -DEMBER_BUILD_TESTS=OFF -DEMBER_BUILD_BENCH=OFF
"$root/build/cli/ember" generate -m "$root/tests/data/models/stories260K.gguf" \
  -p "${1:-Once upon a time}" -n "${2:-200}" --seed "${SEED:-1}" -t 1
