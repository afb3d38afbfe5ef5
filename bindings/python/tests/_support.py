"""Shared setup of the binding's tests: imports ember from this source tree (no install
needed) and locates the test data and the `ember` CLI (EMBER_CLI, set by ctest)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING_ROOT = os.path.dirname(HERE)
SOURCE_ROOT = os.path.normpath(os.path.join(BINDING_ROOT, "..", ".."))
sys.path.insert(0, BINDING_ROOT)

import ember  # noqa: E402,F401  (re-exported for the tests)

DATA = os.environ.get("EMBER_TEST_DATA_DIR", os.path.join(SOURCE_ROOT, "tests", "data"))
MODELS = os.path.join(DATA, "models")
STORIES = os.path.join(MODELS, "stories260K.gguf")
OTHER_MODEL = os.path.join(MODELS, "llama-2-tiny-random.gguf")  # another llama, for cross-model errors
HEADER = os.path.join(SOURCE_ROOT, "include", "ember", "ember.h")


def cli_path():
    """The `ember` CLI: $EMBER_CLI, else the source tree's build/cli/ember."""
    path = os.environ.get("EMBER_CLI") or os.path.join(SOURCE_ROOT, "build", "cli", "ember")
    return path if os.path.exists(path) else None


def run_cli(*args):
    """Runs the CLI and returns its stdout as bytes (failing the test if it fails)."""
    path = cli_path()
    if path is None:
        raise AssertionError("the ember CLI is not built: build ember_cli or set EMBER_CLI")
    proc = subprocess.run([path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"ember {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout
