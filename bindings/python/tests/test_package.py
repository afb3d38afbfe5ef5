"""The binding as a package: it declares and calls every function of ember.h, checks the
library's version at import, finds the library, and is typed and installable."""
import glob
import os
import re
import subprocess
import sys
import unittest

from _support import BINDING_ROOT, HEADER, ember

import ember._native as native  # noqa: E402


def header_functions():
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    return set(re.findall(r"EMBER_API\s+[^;(]*?\b(ember_\w+)\s*\(", text))


class PackageTest(unittest.TestCase):
    def test_every_header_function_is_declared_and_called(self):
        functions = header_functions()
        self.assertGreater(len(functions), 70)
        self.assertEqual(set(native.SIGNATURES), functions)
        sources = ""
        for path in glob.glob(os.path.join(BINDING_ROOT, "ember", "*.py")):
            if os.path.basename(path) != "_native.py":
                with open(path, encoding="utf-8") as f:
                    sources += f.read()
        uncalled = sorted(name for name in functions if not re.search(rf"lib\.{name}\(", sources))
        self.assertEqual(uncalled, [])

    def test_version_check_at_import(self):
        class FakeLib:
            def __init__(self, number):
                self.number = number

            def ember_version_number(self):
                return self.number

            def ember_version(self):
                return b"fake"

        native._check_version(FakeLib(native.REQUIRED_VERSION_NUMBER), "ok")
        native._check_version(FakeLib(native.REQUIRED_VERSION_NUMBER + 5007), "a later minor")
        for number in (native.REQUIRED_VERSION_NUMBER - 1, 1000000 * (native.REQUIRED_MAJOR + 1)):
            with self.assertRaises(ImportError, msg=number):
                native._check_version(FakeLib(number), "incompatible")

    def test_missing_library_is_an_import_error(self):
        env = dict(os.environ, EMBER_LIBRARY="/nonexistent/libember.so.0")
        proc = subprocess.run([sys.executable, "-c", "import ember"], cwd=BINDING_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"ImportError", proc.stderr)
        self.assertIn(b"EMBER_LIBRARY", proc.stderr)

    def test_library_found_without_ember_library(self):
        """Without EMBER_LIBRARY, a source checkout finds build/lib (or the loader's path)."""
        env = {k: v for k, v in os.environ.items() if k != "EMBER_LIBRARY"}
        if "EMBER_LIBRARY" in os.environ:  # point the loader at the same library ctest uses
            env["LD_LIBRARY_PATH"] = os.path.dirname(os.environ["EMBER_LIBRARY"])
        proc = subprocess.run([sys.executable, "-c", "import ember; print(ember.version())"], cwd=BINDING_ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.decode().strip(), ember.version())

    def test_package_metadata(self):
        with open(os.path.join(BINDING_ROOT, "pyproject.toml"), encoding="utf-8") as f:
            pyproject = f.read()
        self.assertIn(f'version = "{ember.version()}"', pyproject)  # released together
        self.assertEqual(ember.__version__, ember.version())
        self.assertTrue(os.path.exists(os.path.join(BINDING_ROOT, "ember", "py.typed")))
        self.assertIn("py.typed", pyproject)
        self.assertEqual(sorted(ember.__all__), sorted(set(ember.__all__)))
        for name in ember.__all__:
            self.assertTrue(hasattr(ember, name), name)


if __name__ == "__main__":
    unittest.main()
