"""The binding as a package: it declares and calls every function of ember.h, checks the
library's version at import, finds the library, and is typed and installable."""
import base64
import glob
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

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


def load_build_backend():
    path = os.path.join(BINDING_ROOT, "_build", "ember_build.py")
    spec = importlib.util.spec_from_file_location("ember_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildBackendTest(unittest.TestCase):
    """The in-tree PEP 517 backend (_build/ember_build.py), called as pip calls it: it needs
    nothing beyond the standard library, so the binding installs offline."""

    def setUp(self):
        self.backend = load_build_backend()
        self.out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.out)

    def test_no_build_requirements(self):
        with open(os.path.join(BINDING_ROOT, "pyproject.toml"), encoding="utf-8") as f:
            self.assertIn('backend-path = ["_build"]', f.read())
        self.assertEqual(self.backend.get_requires_for_build_wheel(), [])
        self.assertEqual(self.backend.get_requires_for_build_sdist(), [])
        self.assertEqual(self.backend.get_requires_for_build_editable(), [])

    def test_wheel(self):
        name = self.backend.build_wheel(self.out)
        self.assertEqual(name, f"ember-{ember.version()}-py3-none-any.whl")
        with zipfile.ZipFile(os.path.join(self.out, name)) as wheel:
            names = set(wheel.namelist())
            modules = {"ember/" + os.path.basename(p) for p in glob.glob(os.path.join(BINDING_ROOT, "ember", "*.py"))}
            self.assertTrue(modules <= names, modules - names)
            self.assertIn("ember/py.typed", names)
            self.assertFalse(any("__pycache__" in n for n in names))
            info = f"ember-{ember.version()}.dist-info"
            metadata = wheel.read(f"{info}/METADATA").decode()
            self.assertIn(f"\nVersion: {ember.version()}\n", metadata)
            self.assertIn("Requires-Python: >=3.8", metadata)
            self.assertIn("Root-Is-Purelib: true", wheel.read(f"{info}/WHEEL").decode())
            # RECORD lists every other file with its size and urlsafe-base64 sha256 (PEP 376/427).
            record = wheel.read(f"{info}/RECORD").decode().splitlines()
            listed = {}
            for line in record:
                path, digest, size = line.rsplit(",", 2)
                listed[path] = (digest, size)
            self.assertEqual(set(listed), names)
            for path in names - {f"{info}/RECORD"}:
                data = wheel.read(path)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                self.assertEqual(listed[path], (f"sha256={digest}", str(len(data))), path)

    def test_editable_wheel_points_at_the_source(self):
        name = self.backend.build_editable(self.out)
        with zipfile.ZipFile(os.path.join(self.out, name)) as wheel:
            pth = [n for n in wheel.namelist() if n.endswith(".pth")]
            self.assertEqual(len(pth), 1)
            self.assertEqual(wheel.read(pth[0]).decode().strip(), os.path.abspath(BINDING_ROOT))

    def test_sdist_rebuilds(self):
        name = self.backend.build_sdist(self.out)
        with tarfile.open(os.path.join(self.out, name)) as sdist:
            sdist.extractall(self.out, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        root = os.path.join(self.out, name[: -len(".tar.gz")])
        for path in ("PKG-INFO", "pyproject.toml", "README.md", "_build/ember_build.py", "ember/__init__.py",
                     "ember/py.typed"):
            self.assertTrue(os.path.exists(os.path.join(root, path)), path)
        # The unpacked sdist builds the same wheel contents (its backend reads its own tree).
        proc = subprocess.run([sys.executable, "-c", "import ember_build, sys; print(ember_build.build_wheel(sys.argv[1]))",
                               self.out], cwd=os.path.join(root, "_build"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_simple_toml_reader_agrees_with_tomllib(self):
        """Pythons before 3.11 have no tomllib; the backend's own reader must read the same."""
        try:
            import tomllib
        except ImportError:
            self.skipTest("no tomllib to compare with (Python < 3.11)")
        with open(os.path.join(BINDING_ROOT, "pyproject.toml"), encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(self.backend._parse_simple_toml(text), tomllib.loads(text))

    def test_pip_installs_offline(self):
        """Where pip exists (Debian's python3 has none unless python3-pip is installed), a
        real `pip install --no-index` of the source tree works and installs the package."""
        if subprocess.run([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode != 0:
            self.skipTest("pip is not installed for this Python")
        target = os.path.join(self.out, "site")
        env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--target", target, BINDING_ROOT],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        self.assertTrue(os.path.exists(os.path.join(target, "ember", "py.typed")))
        proc = subprocess.run([sys.executable, "-c", "import ember; print(ember.__file__)"], cwd=self.out,
                              env=dict(os.environ, PYTHONPATH=target), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(proc.stdout.decode().strip().startswith(target))


if __name__ == "__main__":
    unittest.main()
