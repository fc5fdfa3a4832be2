"""The hostile corpus: load a case folder, run it the way a user would, judge the result.

Used by ``test_hostile.py`` (one pytest case per folder) and, as a script, to print the
figures of a whole run (``python3 -m tests.hostile.corpus``; see README.md here).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
BASES = HERE / "_bases"
EXPECT = "expect.yaml"
OUTSIDE = "@OUTSIDE@"  # replaced by the watched folder beside the project (setup `substitute`)
DEFAULT_TIMEOUT = 60.0
MEMORY_LIMIT = 3 * 1024**3  # a hang detector, not a speed limit: a case takes about a second
BLOCK_START = "# >>> dockergen:"
BLOCK_END = "# <<< dockergen"
FINGERPRINT = b"# dockergen:fingerprint "
KEYS = {"why", "argv", "exit", "stderr", "stdout", "setup", "may_change", "after", "timeout", "base", "known_failure", "max_errors"}


@dataclass(frozen=True)
class Case:
    name: str  # <class>/<case>
    folder: Path
    spec: dict[str, Any]

    @property
    def argv(self) -> list[str]:
        return [str(a) for a in self.spec.get("argv", ["render"])]


def cases(root: Path = HERE) -> list[Case]:
    found = []
    for expect in sorted(root.glob(f"*/*/{EXPECT}")):
        if expect.parent.parent.name.startswith("_"):
            continue
        spec = yaml.safe_load(expect.read_text(encoding="utf-8"))
        unknown = set(spec) - KEYS
        if unknown or "why" not in spec or "exit" not in spec:
            raise ValueError(f"{expect}: needs `why` and `exit`; unknown keys: {sorted(unknown)}")
        found.append(Case(f"{expect.parent.parent.name}/{expect.parent.name}", expect.parent, spec))
    return found


# ---- the tree: what is on disk, without opening anything that could block ------------


Entry = tuple[str, Any]  # ("file", bytes) | ("link", target) | ("dir", None) | ("special", mode)


def snapshot(root: Path) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                out[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                out[relative] = ("dir", None)
            elif stat.S_ISREG(info.st_mode):
                out[relative] = ("file", path.read_bytes())
            else:
                out[relative] = ("special", stat.S_IFMT(info.st_mode))
    return out


def _outside_block(data: bytes) -> list[bytes]:
    """Lines of a .gitattributes outside dockergen's block (what the user wrote)."""
    kept, inside = [], False
    for line in data.split(b"\n"):
        if line.startswith(BLOCK_START.encode()):
            inside = True
        elif inside and line.startswith(BLOCK_END.encode()):
            inside = False
        elif not inside and line.strip():
            kept.append(line)
    return kept


def _lock_files(tree: dict[str, Entry]) -> set[str]:
    import json

    entry = tree.get("dockergen.lock")
    if not entry or entry[0] != "file":
        return set()
    try:
        return set(json.loads(entry[1]).get("files", {})) | {"dockergen.lock"}
    except (ValueError, AttributeError, TypeError, RecursionError):
        return set()


# ---- setup actions: what git cannot hold -----------------------------------------------


def _setup(case: Case, project: Path, outside: Path, env: dict[str, str]) -> None:
    for action in case.spec.get("setup", []):
        (kind, target), *options = action.items()
        options = dict(options)
        path = project / target if isinstance(target, str) else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink":
            path.symlink_to(str(options["to"]).replace(OUTSIDE, str(outside)))
        elif kind == "hex":
            path.write_bytes(bytes.fromhex(options["bytes"]))
        elif kind == "generate":
            path.write_text(generated(options["parts"]), encoding="utf-8")
        elif kind == "relock":
            path.write_text(_relocked(path.read_text(encoding="utf-8")), encoding="utf-8")
        elif kind == "chmod":
            path.chmod(int(str(options["mode"]), 8))
        elif kind == "copy":
            shutil.copyfile(path, str(options["to"]).replace(OUTSIDE, str(outside)) if OUTSIDE in str(options["to"]) else project / options["to"])
        elif kind == "socket":
            import socket

            sock = socket.socket(socket.AF_UNIX)
            sock.bind(str(path))  # the file stays after close: a socket nobody listens on
            sock.close()
        elif kind == "mkdir":
            path.mkdir(parents=True, exist_ok=True)
        elif kind == "remove":
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        elif kind == "write":
            path.write_text(str(options["text"]), encoding="utf-8")
        elif kind == "append":
            with path.open("ab") as handle:
                if "hex" in options:
                    handle.write(bytes.fromhex(options["hex"]))
                else:
                    handle.write((generated(options["parts"]) if "parts" in options else str(options["text"])).encode("utf-8"))
        elif kind == "replace":
            text = path.read_bytes()
            old, new = str(options["old"]).encode(), str(options["new"]).encode()
            if old not in text:
                raise ValueError(f"{case.name}: setup replace: {options['old']!r} not in {target}")
            path.write_bytes(text.replace(old, new, int(options.get("count", -1))))
        elif kind == "substitute":
            path.write_text(path.read_text(encoding="utf-8").replace(OUTSIDE, str(outside)), encoding="utf-8")
        elif kind == "dockergen":
            argv = [str(a) for a in target]
            done = subprocess.run([sys.executable, "-m", "dockergen", *argv], cwd=project, env=env, capture_output=True, text=True, timeout=120)
            if done.returncode != int(options.get("exit", 0)):
                raise ValueError(f"{case.name}: setup `dockergen {' '.join(argv)}` exited {done.returncode}:\n{done.stderr}")
        else:
            raise ValueError(f"{case.name}: unknown setup action {kind!r}")


def generated(parts: list[Any]) -> str:
    """Text too large for git: each part is a string, or ``{text, times, start, close}``,
    ``text`` repeated ``times`` with ``{i}`` (and ``{next}``) numbered from ``start``,
    followed by ``close`` repeated as often (for nesting)."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        start, times = int(part.get("start", 0)), int(part["times"])
        text = str(part["text"])
        if "{i}" in text or "{next}" in text:
            out += [text.replace("{i}", str(i)).replace("{next}", str(i + 1)) for i in range(start, start + times)]
        else:
            out.append(text * times)
        out.append(str(part.get("close", "")) * times)
    return "".join(out)


def _relocked(text: str) -> str:
    """A lock with its self-hash made valid again, as a forger would (see fingerprint.Lock)."""
    import json

    body = json.loads(text)
    body.pop("lock", None)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return json.dumps({**body, "lock": f"sha256:{digest}"}, indent=2, sort_keys=True) + "\n"


# ---- one run -------------------------------------------------------------------------


@dataclass
class Result:
    case: Case
    code: int | None  # None: it hung
    stdout: str
    stderr: str
    seconds: float
    before: dict[str, Entry]
    after: dict[str, Entry]
    outside_changed: list[str]
    failures: list[str] = field(default_factory=list)

    @property
    def hung(self) -> bool:
        return self.code is None

    @property
    def crashed(self) -> bool:
        return self.code == 3 or "Traceback (most recent call last)" in self.stderr


CACHE = "user-cache"  # XDG_CACHE_HOME of a run, beside the watched folders


def run(case: Case, workdir: Path, tree: Path | None = None) -> Result:
    """Copy the case into ``workdir/project`` beside a watched ``workdir/outside``, run it
    (with the dockergen package of ``tree`` instead of the installed one, when given)."""
    project, outside, home = workdir / "project", workdir / "outside", workdir / "home"
    if BASES.joinpath(str(case.spec.get("base", ""))).is_dir() and case.spec.get("base"):
        shutil.copytree(BASES / case.spec["base"], project, symlinks=True)
    shutil.copytree(case.folder, project, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(EXPECT))
    for folder, content in (("outside", b"do not touch\n"), ("home", b"")):
        (workdir / folder).mkdir()
    (outside / "secret.txt").write_bytes(b"root-only secret\n")
    (outside / "compose.yaml").write_bytes(b"services:\n  outside:\n    image: busybox\n")
    (outside / "Dockerfile").write_bytes(b"FROM busybox\n")
    # dockergen's render cache is the one place outside the project it may write (its own folder).
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LC_ALL": "C.UTF-8", "CI": "true", "XDG_CACHE_HOME": str(workdir / CACHE)}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    _setup(case, project, outside, env)
    before, outside_before = snapshot(project), snapshot(workdir)
    argv = [a.replace(OUTSIDE, str(outside)) for a in case.argv]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dockergen", *argv], cwd=project, env=env, capture_output=True, text=True,
            errors="replace", stdin=subprocess.DEVNULL, timeout=float(case.spec.get("timeout", DEFAULT_TIMEOUT)),
            preexec_fn=_limit_memory,
        )  # fmt: skip
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        code, stdout, stderr = None, _text(exc.stdout), _text(exc.stderr)
    seconds = time.monotonic() - started
    after, outside_after = snapshot(project), snapshot(workdir)
    changed_outside = sorted(
        p for p in set(outside_before) | set(outside_after)
        if not p.startswith(("project/", f"{CACHE}/dockergen/")) and p not in ("project", CACHE, f"{CACHE}/dockergen") and outside_before.get(p) != outside_after.get(p)
    )  # fmt: skip
    result = Result(case, code, stdout, stderr, seconds, before, after, changed_outside)
    result.failures = judge(result, project)
    return result


def run_safely(case: Case, workdir: Path, tree: Path | None = None) -> Result:
    """``run``, with a case that cannot even be set up reported as its failure."""
    try:
        return run(case, workdir, tree)
    except Exception as exc:  # noqa: BLE001 - one broken case must not hide the others' results
        return Result(case, -1, "", "", 0.0, {}, {}, [], [f"the case is broken: {type(exc).__name__}: {exc}"])


def _limit_memory() -> None:
    # Reading /dev/zero to the end must fail in the child, not exhaust the machine.
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data or ""


# ---- the judge -----------------------------------------------------------------------


def changed_paths(result: Result) -> tuple[list[str], list[str], list[str]]:
    """(created, modified, deleted) in the project."""
    before, after = result.before, result.after
    created = sorted(p for p in after if p not in before)
    deleted = sorted(p for p in before if p not in after)
    modified = sorted(p for p in before if p in after and before[p] != after[p])
    return created, modified, deleted


def generated_intact(data: bytes) -> bool:
    """Whether ``data`` carries dockergen's fingerprint line and still matches it (read
    here on its own terms, not with dockergen's code: the judge must not share its bugs)."""
    lines = data.split(b"\n")
    for index, line in enumerate(lines[:10]):
        if line.startswith(FINGERPRINT):
            body = b"\n".join(lines[:index] + lines[index + 1 :])
            return line[len(FINGERPRINT) :].strip() == b"sha256:" + hashlib.sha256(body).hexdigest()[:16].encode()
    return False


def user_content_lost(result: Result) -> list[str]:
    """Pre-existing files changed or deleted that were not dockergen's own: a file is
    dockergen's when it is the lock or carries an intact fingerprint (and, to be deleted,
    when the previous lock lists it too). A .gitattributes may change only inside
    dockergen's block; the case's ``may_change`` globs are exempt."""
    allowed = [str(g) for g in result.case.spec.get("may_change", [])]
    listed = _lock_files(result.before)
    lost = []
    _, modified, deleted = changed_paths(result)
    for path in [*modified, *deleted]:
        kind, data = result.before[path]
        if any(fnmatch.fnmatch(path, g) for g in allowed) or kind == "dir":
            continue
        ours = kind == "file" and (path == "dockergen.lock" or generated_intact(data))
        if path in deleted and ours and path in listed:
            continue
        if path in modified and ours:
            continue
        if path in modified and Path(path).name == ".gitattributes" and result.after[path][0] == "file":
            if _outside_block(data) == _outside_block(result.after[path][1]):
                continue
        lost.append(path)
    return lost


def judge(result: Result, project: Path) -> list[str]:
    """Every way the result breaks the case's expectation or a corpus-wide invariant."""
    spec, failures = result.case.spec, []
    if result.hung:
        return [f"hung: no exit within {spec.get('timeout', DEFAULT_TIMEOUT)} s"]
    if result.crashed:
        failures.append(f"crashed (exit {result.code}):\n{result.stderr[-2000:]}")
    expected = spec["exit"] if isinstance(spec["exit"], list) else [spec["exit"]]
    if result.code not in expected:
        failures.append(f"exit {result.code}, expected {spec['exit']}")
    for stream, text in (("stderr", result.stderr), ("stdout", result.stdout)):
        for pattern in spec.get(stream, []):
            if not re.search(pattern, text, re.MULTILINE):
                failures.append(f"{stream} does not match {pattern!r}")
    if result.code == 2 and not re.search(r"(^|: )[Ee]rror: ", result.stderr, re.MULTILINE):
        failures.append("exit 2 without an `error:` line")
    created, modified, deleted = changed_paths(result)
    if result.code != 0 and (created or modified or deleted):
        failures.append(f"exit {result.code} but the tree changed: created {created}, modified {modified}, deleted {deleted}")
    lost = user_content_lost(result)
    if lost:
        failures.append(f"user files changed or deleted: {lost}")
    leftovers = [p for p in result.after if p.endswith(".dockergen-tmp")]
    if leftovers:
        failures.append(f"temporary files left behind: {leftovers}")
    if result.outside_changed:
        failures.append(f"touched outside the project: {result.outside_changed}")
    for check in spec.get("after", []):
        failures += _after(check, result, project)
    errors = len(re.findall(r"(^|: )error: ", result.stderr, re.MULTILINE))
    if "max_errors" in spec and errors > int(spec["max_errors"]):
        failures.append(f"{errors} error lines, at most {spec['max_errors']} expected: a cascade?")
    return failures


def _after(check: dict[str, Any], result: Result, project: Path) -> list[str]:
    """``{file: P, contains: RE}``, ``{file: P, lacks: RE}``, ``{absent: P}``, ``{unchanged: P}``."""
    if "absent" in check:
        return [f"{check['absent']} exists"] if check["absent"] in result.after else []
    if "unchanged" in check:
        path = check["unchanged"]
        return [] if result.before.get(path) == result.after.get(path) else [f"{path} changed"]
    entry = result.after.get(check["file"])
    if entry is None or entry[0] != "file":
        return [f"{check['file']} is not a file after the run"]
    text = entry[1].decode("utf-8", "replace")
    if "contains" in check and not re.search(check["contains"], text, re.MULTILINE):
        return [f"{check['file']} does not match {check['contains']!r}"]
    if "lacks" in check and re.search(check["lacks"], text, re.MULTILINE):
        return [f"{check['file']} matches {check['lacks']!r}"]
    return []


# ---- figures -------------------------------------------------------------------------


def main() -> int:
    """Run every case and print the figures the issue asks for."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("filter", nargs="*", help="only cases whose name contains one of these")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each failing case's failures")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="cases run side by side")
    parser.add_argument("--timeout", type=float, help="seconds before a run counts as a hang (overrides every case's)")
    parser.add_argument("--tree", type=Path, help="run the dockergen package of this checkout (e.g. an older one) instead")
    args = parser.parse_args()
    selected = [c for c in cases() if not args.filter or any(f in c.name for f in args.filter)]
    if args.timeout:
        selected = [Case(c.name, c.folder, {**c.spec, "timeout": args.timeout}) for c in selected]
    tally = {"cases": 0, "as expected": 0, "rejected cleanly (exit 2)": 0, "tracebacks/exit 3": 0, "hangs": 0,
             "files written on a failed run": 0, "user files lost": 0, "touched outside": 0}  # fmt: skip
    def one(case: Case) -> Result:
        with tempfile.TemporaryDirectory() as tmp:
            return run_safely(case, Path(tmp), args.tree.resolve() if args.tree else None)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, selected))
    for result in results:
        case = result.case
        created, modified, deleted = changed_paths(result)
        tally["cases"] += 1
        tally["as expected"] += not result.failures
        tally["rejected cleanly (exit 2)"] += result.code == 2 and not result.crashed
        tally["tracebacks/exit 3"] += result.crashed
        tally["hangs"] += result.hung
        tally["files written on a failed run"] += len(created + modified + deleted) if result.code != 0 else 0
        tally["user files lost"] += len(user_content_lost(result))
        tally["touched outside"] += len(result.outside_changed)
        if result.failures:
            print(f"FAIL {case.name}" + ("".join(f"\n    {f}" for f in result.failures) if args.verbose else ""))
    for name, value in tally.items():
        print(f"{name:>32}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
