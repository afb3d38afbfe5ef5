"""The binding's PEP 517 build backend, in the tree and stdlib-only, so that
`pip install bindings/python` needs nothing from a package index: with no build
requirements, pip's isolated build environment is empty and the install works offline.

The package is pure Python, so a wheel is a zip of the package's files plus the
*.dist-info metadata (PEP 427 / PEP 566), and an editable install (PEP 660) is a wheel
holding one .pth file that puts this directory on sys.path. What goes in comes from
pyproject.toml: [project] for the metadata, [tool.ember_build] for the files.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read_pyproject():
    path = os.path.join(ROOT, "pyproject.toml")
    with open(path, "rb") as f:
        data = f.read()
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        return _parse_simple_toml(data.decode("utf-8"))
    return tomllib.loads(data.decode("utf-8"))


def _parse_simple_toml(text):
    """The TOML subset pyproject.toml uses, for Pythons before tomllib: [tables] holding
    `key = "string"` and `key = ["string", ...]` (arrays may span lines)."""
    tables, table = {}, None
    pending_key, pending = None, ""
    for raw in text.splitlines():
        line = _strip_comment(raw).strip()
        if pending_key is not None:
            pending += " " + line
            if "]" in line:
                table[pending_key] = re.findall(r'"((?:[^"\\]|\\.)*)"', pending)
                pending_key = None
            continue
        if not line:
            continue
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            table = tables
            for part in header.group(1).split("."):
                table = table.setdefault(part.strip(), {})
            continue
        key, _, value = (s.strip() for s in line.partition("="))
        if value.startswith("[") and "]" not in value:
            pending_key, pending = key, value
        elif value.startswith("["):
            table[key] = re.findall(r'"((?:[^"\\]|\\.)*)"', value)
        else:
            table[key] = value.strip('"')
    return tables


def _strip_comment(line):
    """The line without a # comment (a # inside a string is kept)."""
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_string = not in_string
        elif ch == "#" and not in_string:
            return line[:i]
    return line


def _config():
    pyproject = _read_pyproject()
    return pyproject["project"], pyproject.get("tool", {}).get("ember_build", {})


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    for classifier in project.get("classifiers", []):
        lines.append(f"Classifier: {classifier}")
    for requirement in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {requirement}")
    body = ""
    readme = project.get("readme")
    if readme:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = "\n" + f.read()
    return "\n".join(lines) + "\n" + body


def _package_files(tool):
    """(path in the wheel, path on disk) of every module of each package and its data files."""
    files = []
    data = set(tool.get("package-data", []))
    for package in tool.get("packages", []):
        base = os.path.join(ROOT, package)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py") or name in data:
                    disk = os.path.join(dirpath, name)
                    files.append((os.path.relpath(disk, ROOT).replace(os.sep, "/"), disk))
    return files


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{path},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory, entries, project):
    """Writes a py3-none-any wheel of (path, bytes) entries plus its dist-info; returns its name."""
    name, version = _dist_name(project), project["version"]
    dist_info = f"{name}-{version}.dist-info"
    entries = list(entries) + [
        (f"{dist_info}/METADATA", _metadata(project).encode("utf-8")),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: ember_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = [_record_line(path, data) for path, data in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries:
            wheel.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return filename


def _read(disk):
    with open(disk, "rb") as f:
        return f.read()


# PEP 517 / PEP 660 hooks.

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project, tool = _config()
    return _write_wheel(wheel_directory, [(path, _read(disk)) for path, disk in _package_files(tool)], project)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    project, _ = _config()
    pth = (ROOT + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [(f"__editable__.{_dist_name(project)}.pth", pth)], project)


def build_sdist(sdist_directory, config_settings=None):
    project, tool = _config()
    base = f"{_dist_name(project)}-{project['version']}"
    members = [("pyproject.toml", os.path.join(ROOT, "pyproject.toml")),
               ("_build/ember_build.py", os.path.abspath(__file__))]
    if project.get("readme"):
        members.append((project["readme"], os.path.join(ROOT, project["readme"])))
    members += _package_files(tool)
    filename = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        pkg_info = _metadata(project).encode("utf-8")
        entries = [("PKG-INFO", pkg_info)] + [(path, _read(disk)) for path, disk in members]
        for path, data in entries:
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size, info.mode = len(data), 0o644
            sdist.addfile(info, io.BytesIO(data))
    return filename
