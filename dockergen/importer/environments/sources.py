"""Environments a project names itself: the ``-f`` chains its own files run.

* ``COMPOSE_FILE`` (with ``COMPOSE_PATH_SEPARATOR``) in ``.env``: the chain a bare
  ``docker compose up`` uses;
* Makefiles, ``justfile``s, shell scripts and ``package.json`` scripts that call
  ``docker compose`` / ``docker-compose`` / ``podman compose`` / ``podman-compose`` with
  ``-f``/``--file`` (variables of the same file expanded, ``-p``/``--project-name`` kept);
* ``devcontainer.json``'s ``dockerComposeFile``.

Everything here reads text only; nothing is run.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from dockergen.containment import outside_reason
from dockergen.importer.discover import MAKEFILES, read_inside
from dockergen.importer.read.envfile import read_env_file

MAX_BYTES = 512 * 1024
_ASSIGN_MAKE = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?::{1,3}=|\?=|\+=|=)\s*(.*)$")
_ASSIGN_SHELL = re.compile(r"^\s*(?:export\s+|readonly\s+|local\s+|declare(?:\s+-\w+)*\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
# $(X) ${X} $X, and a whole array "${X[@]}" (its quotes dropped: it expands to several words)
_REF = re.compile(r"\$\((\w+)\)|\"?\$\{(\w+)(?:\[[@*]\]\}\"?|\})|\$(\w+)")
_RULE = re.compile(r"^([A-Za-z0-9_./%-][^:=\s]*)\s*:(?!=)")
_VALUED = ("--profile", "--env-file", "--project-directory", "--ansi", "--parallel", "--progress")  # global options with a value
_OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "2>&1"}
# Subcommands that tear down or look at a running stack: a chain seen only with these
# (`$(COMPOSE) down` on the shared base) is no environment of its own.
_NOT_RUNNING = {"down", "stop", "rm", "kill", "logs", "ps", "top", "events", "port", "images", "pause", "unpause", "ls", "version"}


@dataclass(frozen=True)
class DeclaredChain:
    """A ``-f`` chain one of the project's own files runs."""

    files: tuple[str, ...]  # root-relative, in -f order
    name: str | None  # what the project calls it (a Make target, a script), if anything
    project: str | None  # -p / --project-name, when the command gives one
    source: str  # the file (and target) that runs it


def compose_file_variable(root: Path) -> DeclaredChain | None:
    """``COMPOSE_FILE`` in ``.env`` is the chain a bare ``docker compose up`` uses."""
    dotenv = read_env_file(root, ".env")
    value = dotenv.get("COMPOSE_FILE")
    if not value:
        return None
    separator = dotenv.get("COMPOSE_PATH_SEPARATOR") or (";" if ";" in value else ":")
    # Only files inside the project: the import reads nothing outside the folder it was given.
    files = _resolve(root, ".env", tuple(f.strip() for f in value.split(separator) if f.strip()))
    return DeclaredChain(files, None, None, f".env (COMPOSE_FILE={value})") if files else None


def command_files(root: Path, candidates: tuple[str, ...]) -> list[DeclaredChain]:
    """The chains in Makefiles, scripts, ``package.json`` and ``devcontainer.json`` files."""
    out: list[DeclaredChain] = []
    for rel in candidates:
        data = read_inside(root, root / rel, MAX_BYTES)
        try:
            text = data.decode("utf-8") if data is not None else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            continue
        name = posixpath.basename(rel).lower()
        if name.endswith("devcontainer.json"):
            out.extend(_devcontainer(root, rel, text))
        elif name == "package.json":
            out.extend(_package_json(root, rel, text))
        else:
            out.extend(_commands(root, rel, text, make=name in MAKEFILES or name.endswith(".mk")))
    # One script or target that runs several chains (`build-all.sh`) names none of them: their files do.
    runs = Counter((c.source, c.name) for c in {(c.source, c.name, c.files): c for c in out}.values())
    seen: set[tuple[str, ...]] = set()
    unique = []
    for chain in out:
        if chain.files not in seen:
            seen.add(chain.files)
            unique.append(replace(chain, name=None) if runs[(chain.source, chain.name)] > 1 else chain)
    return unique


def _commands(root: Path, rel: str, text: str, make: bool) -> list[DeclaredChain]:
    lines = _logical_lines(text)
    values: dict[str, list[str]] = {}  # a variable assigned in several branches has each value
    assignments = set()
    for index, line in enumerate(lines):
        match = (_ASSIGN_MAKE if make else _ASSIGN_SHELL).match(line)
        if match and not line.startswith("\t") and (make or _one_word(match.group(2).strip())):
            values.setdefault(match.group(1), []).append(_array(match.group(2).strip()))
            assignments.add(index)
    out = []
    target = None
    for index, line in enumerate(lines):
        if make and not line.startswith(("\t", " ")):
            rule = _RULE.match(line)
            target = rule.group(1) if rule and not _ASSIGN_MAKE.match(line) else target
        if line.lstrip().startswith("#") or index in assignments:
            continue
        for expanded in _expand(line, values):
            for files, project in _invocations(expanded):
                resolved = _resolve(root, rel, files)
                if resolved:
                    label = f"{rel} ({target})" if make and target else rel
                    out.append(DeclaredChain(resolved, target if make else _stem(rel), project, label))
    return out


def _logical_lines(text: str) -> list[str]:
    """Lines with ``\\`` continuations joined, and shell arrays ``X=( ... )`` on one line."""
    out: list[str] = []
    pending = ""
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if re.search(r"=\(\s*[^)]*$", line) and not line.lstrip().startswith("#"):
            pending = line + " "
            continue
        pending = ""
        out.append(line)
    if pending:
        out.append(pending)
    return out


def _one_word(value: str) -> bool:
    """A shell assignment's value, not ``X=1 docker compose ...`` (a command with a variable)."""
    try:
        return len(shlex.split(value, comments=True)) <= 1 or value.startswith("(")
    except ValueError:
        return value.startswith("(")


def _array(value: str) -> str:
    """``( -f a.yml -f b.yml )`` -> ``-f a.yml -f b.yml``; quotes around a plain value dropped."""
    value = re.sub(r"\s+#.*$", "", value) if value.startswith("(") else value
    if value.startswith("(") and value.endswith(")"):
        return value[1:-1].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _expand(line: str, values: dict[str, list[str]], depth: int = 0) -> list[str]:
    """``line`` with the file's variables expanded: one line per value a variable takes
    (at most 16), references to unknown variables left as they are."""
    match = next((m for m in _REF.finditer(line) if (m.group(1) or m.group(2) or m.group(3)) in values), None)
    if depth > 8 or match is None:
        return [line]
    name = match.group(1) or match.group(2) or match.group(3)
    out: list[str] = []
    for value in values[name][:4]:
        out.extend(_expand(line[: match.start()] + value + line[match.end() :], values, depth + 1))
    return out[:16]


def _invocations(line: str) -> list[tuple[tuple[str, ...], str | None]]:
    """Each compose call on ``line``: its ``-f`` files and its project name."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    out = []
    i = 0
    while i < len(words):
        word = posixpath.basename(words[i].lstrip("@-+"))  # make's @ (quiet), - (ignore errors), + prefixes
        start = None
        if word in ("docker-compose", "podman-compose"):
            start = i + 1
        elif word in ("docker", "podman") and i + 1 < len(words) and words[i + 1] == "compose":
            start = i + 2
        if start is None:
            i += 1
            continue
        files: list[str] = []
        project = None
        subcommand = None
        j = start
        while j < len(words) and words[j] not in _OPERATORS:
            flag, value, step = _option(words, j)
            if flag in ("-f", "--file") and value:
                files.append(value)
            elif flag in ("-p", "--project-name") and value:
                project = value
            elif subcommand is None and not flag.startswith("-"):
                subcommand = flag
            j += step
        if files and subcommand not in _NOT_RUNNING:
            out.append((tuple(files), project))
        i = j
    return out


def _option(words: list[str], j: int) -> tuple[str, str | None, int]:
    word = words[j]
    if word.startswith("--") and "=" in word:
        flag, _, value = word.partition("=")
        return flag, value, 1
    if word in ("-f", "--file", "-p", "--project-name", *_VALUED) and j + 1 < len(words):
        return word, words[j + 1], 2
    if re.fullmatch(r"-[fp].+", word):
        return word[:2], word[2:], 1
    return word, None, 1


def _resolve(root: Path, rel: str, files: tuple[str, ...]) -> tuple[str, ...] | None:
    """The chain as root-relative paths: relative to the file's folder, else to the root
    (scripts often ``cd`` to the root first); None unless every file exists."""
    if any("$" in f for f in files):
        return None
    folder = posixpath.dirname(rel)
    for base in dict.fromkeys([folder, ""]):
        candidate = tuple(posixpath.normpath(posixpath.join(base, f)) for f in files)
        if all(outside_reason(root, c) is None and (root / c).is_file() for c in candidate):
            return candidate
    return None


def _stem(rel: str) -> str:
    return re.sub(r"\.[A-Za-z]+$", "", posixpath.basename(rel))


def _package_json(root: Path, rel: str, text: str) -> list[DeclaredChain]:
    try:
        scripts = json.loads(text).get("scripts") or {}
    except (json.JSONDecodeError, AttributeError):
        return []
    out = []
    for name, command in scripts.items() if isinstance(scripts, dict) else []:
        for files, project in _invocations(str(command)):
            resolved = _resolve(root, rel, files)
            if resolved:
                out.append(DeclaredChain(resolved, str(name), project, f"{rel} (scripts.{name})"))
    return out


def _devcontainer(root: Path, rel: str, text: str) -> list[DeclaredChain]:
    try:
        data = json.loads(_without_json_comments(text))
    except json.JSONDecodeError:
        return []
    files = data.get("dockerComposeFile") if isinstance(data, dict) else None
    files = [files] if isinstance(files, str) else files
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files) or not files:
        return []
    resolved = _resolve(root, rel, tuple(files))
    return [DeclaredChain(resolved, "devcontainer", None, rel)] if resolved else []


def _without_json_comments(text: str) -> str:
    """JSON with comments (``//``, ``/* */``) and trailing commas, as VS Code reads it."""
    out, i, quote = [], 0, False
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
            out.append(ch)
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        else:
            out.append(ch)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))
