"""The files of a build context that a built-in template copies by name (dependency
manifests and lockfiles, node's install files) and what they declare, so that validation
can judge them before a build does: a missing one fails the ``COPY``, and a test stage
whose installs name no pytest cannot run pytest.

Nothing here runs a tool; files are only read (requirements, pyproject.toml), as every
user file is (``safe_read``: regular files only, bounded), and only inside the context.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockergen import presets
from dockergen.containment import outside_reason
from dockergen.safe_read import read_regular
from dockergen.spec.model import Build, Node, Python

PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class Manifest:
    relative: str  # inside the build context
    path: PathT  # the spec value that makes the template copy it


def copied(build: Build, service: str) -> list[Manifest]:
    """Every file the built-in template of ``build`` copies by name."""
    at: PathT = ("services", service, "build")
    if build.family == "python":
        py = build.python or Python()
        if py.package_manager != "pip":
            return [Manifest(f, (*at, "python", "package_manager")) for f in presets.PYTHON_INSTALLERS[py.package_manager].manifests]
        return [
            Manifest(f, (*at, "python", field))
            for field in ("requirements", "dev_requirements", "test_requirements")
            if (f := getattr(py, field))
        ]
    if build.family == "node":
        node = build.node or Node()
        pm = presets.PACKAGE_MANAGERS[node.package_manager]
        out = [Manifest("package.json", (*at, "node")), Manifest(pm.lockfile, (*at, "node", "package_manager"))]
        return out + [Manifest(f, (*at, "node", "install_files", i)) for i, f in enumerate(node.install_files or [])]
    return []


# ---- what the test stage installs --------------------------------------------------


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else ""


def requirement_names(context: Path, relative: str, seen: set[str] | None = None) -> set[str] | None:
    """Distribution names a pip requirements file installs, following ``-r``/``--requirement``
    includes (relative to the including file); None when a file cannot be read, or an
    include lies outside the context (``-r /dev/zero``, ``-r ../../x``: the build cannot read it either)."""
    seen = seen if seen is not None else set()
    if relative in seen:
        return set()
    seen.add(relative)
    if outside_reason(context, relative) is not None:
        return None
    try:
        text = read_regular(context / relative).decode("utf-8", errors="replace")
    except OSError:  # missing, a FIFO, a device, too large
        return None
    names: set[str] = set()
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        include = re.fullmatch(r"(?:-r|--requirement)[ =]?\s*(\S+)", line)
        if include:
            nested = requirement_names(context, str(Path(relative).parent / include[1]), seen)
            if nested is None:
                return None
            names |= nested
        elif line and not line.startswith(("-", "#")):
            names.add(_name(line))
    return names


INCLUDE = re.compile(r"(?:-r|--requirement|-c|--constraint)[ =]?\s*(\S+)")


def requirement_includes(context: Path, relative: str, seen: set[str] | None = None) -> list[str]:
    """The files a pip requirements file includes (``-r``, ``-c``), and theirs, as paths in
    ``context``: pip opens them beside it, so the image needs them too. Unreadable ones are
    left out (validation reports a missing listed file)."""
    seen = seen if seen is not None else {posixpath.normpath(relative)}
    try:
        text = read_regular(context / relative).decode("utf-8", errors="replace")
    except OSError:
        return []
    found: list[str] = []
    for line in text.splitlines():
        include = INCLUDE.fullmatch(line.split(" #", 1)[0].strip())
        if include is None or "://" in include[1]:
            continue
        nested = posixpath.normpath(posixpath.join(posixpath.dirname(relative), include[1]))
        if nested not in seen and outside_reason(context, nested) is None:  # the build reads only its context
            seen.add(nested)
            found += [nested, *requirement_includes(context, nested, seen)]
    return found


def _pyproject(context: Path) -> dict[str, Any] | None:
    import tomllib  # here: most renders read no pyproject.toml

    try:
        return tomllib.loads(read_regular(context / "pyproject.toml").decode("utf-8"))
    except (OSError, ValueError):  # unreadable, not UTF-8, not TOML, or an int of over 4,300 digits
        return None


def table(data: Any, *keys: str) -> dict[str, Any]:
    """The TOML/JSON table at ``keys`` under ``data``; empty when any step is missing or no
    table (a project's own file may hold `optional-dependencies = "x"`)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def pyproject_names(context: Path) -> set[str] | None:
    """Everything pyproject.toml declares, main dependencies and every group and extra (the
    dev and test stages of uv, Poetry, PDM and pip-with-pyproject install all of them)."""
    data = _pyproject(context)
    if data is None:
        return None
    project, tool = table(data, "project"), table(data, "tool")
    lists: list[Any] = [project.get("dependencies"), table(tool, "uv").get("dev-dependencies")]
    for groups in (table(project, "optional-dependencies"), table(data, "dependency-groups"), table(tool, "pdm", "dev-dependencies")):
        lists += groups.values()
    names = {_name(r) for group in lists if isinstance(group, list) for r in group if isinstance(r, str)}
    poetry = table(tool, "poetry")
    tables = [table(poetry, "dependencies"), table(poetry, "dev-dependencies"), *(table(g, "dependencies") for g in table(poetry, "group").values())]
    names |= {_name(str(k)) for found in tables for k in found}
    return names


def installed_for_tests(build: Build, context: Path) -> set[str] | None:
    """Distributions the python test stage installs (runtime and test dependencies), or
    None when that cannot be read here."""
    py = build.python or Python()
    if py.package_manager != "pip" or py.requirements == "pyproject.toml":
        names = pyproject_names(context)
        if py.package_manager != "pip" or names is None:
            return names
    else:
        names = set()
    for relative in (py.requirements, py.dev_requirements, py.test_requirements):
        if relative and relative != "pyproject.toml":
            found = requirement_names(context, relative)
            if found is None:
                return None
            names |= found
    return names


def installed_for_prod(build: Build, context: Path) -> set[str] | None:
    """Distributions the python prod image installs (the runtime dependencies only), or None
    when that cannot be read here."""
    py = build.python or Python()
    if py.package_manager == "pip" and py.requirements != "pyproject.toml":
        return requirement_names(context, py.requirements) if py.requirements else set()
    data = _pyproject(context)
    if data is None:
        return None
    listed = table(data, "project").get("dependencies")
    names = {_name(r) for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()
    return names | {_name(str(k)) for k in table(data, "tool", "poetry", "dependencies")}


def runs_pytest(command: list[str]) -> bool:
    return any(word == "pytest" or word.endswith("/pytest") for word in command)


# `npm init` writes this `test` script: it fails on purpose, so it is no test suite.
NPM_PLACEHOLDER_TEST = re.compile(r"""^echo\s+["']?Error: no test specified["']?\s*&&\s*exit\s+1$""")


def package_json(context: Path) -> dict[str, Any] | None:
    """package.json of a node build context, or None when there is none or it is no JSON object."""
    import json

    try:
        data = json.loads(read_regular(context / "package.json").decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def has_test_script(package: dict[str, Any]) -> bool:
    """Whether `npm test` (yarn, pnpm) runs a test suite: a `test` script that is not npm's placeholder."""
    script = table(package, "scripts").get("test")
    return isinstance(script, str) and bool(script.strip()) and not NPM_PLACEHOLDER_TEST.match(script.strip())
