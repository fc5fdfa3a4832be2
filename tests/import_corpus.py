"""The import corpus (tests/fixtures/import-corpus): each project imported as a user would,
and the figures issue 14 asks for per project.

Used by ``test_import_corpus.py``, and runnable on its own to measure any dockergen (the
"before" figures come from an older checkout)::

    python3 tests/import_corpus.py                        # this checkout
    python3 tests/import_corpus.py --python-path OLD_SRC  # another source tree
    python3 tests/import_corpus.py --only chain-go --keep /tmp/corpus

Figures per project: crashes (an exit other than 0 and 1, or a traceback), unexplained
differences ``--verify`` reports, escape-hatch keys (keys under every ``compose:`` of the
spec), built services whose build stayed verbatim (no ``build``/``uses`` of their own: the
original Dockerfile through ``compose: {build: ...}``), and spec lines / the lines of the
files the spec replaces (Dockerfiles, Compose files, ignore files).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "import-corpus"
LEGACY = ROOT / "tests" / "fixtures" / "legacy-monorepo"
EXPECTED: dict[str, list[list[str]]] = yaml.safe_load((CORPUS / "ENVIRONMENTS.yaml").read_text())
PROJECTS = sorted(EXPECTED)
DOCKERFILE = re.compile(r"^(?:(?:docker|container)file(?:[._-].+)?|.+[._-](?:docker|container)file)$", re.IGNORECASE)
IGNORE_FILE = re.compile(r"^(?:\.dockerignore|\.containerignore|.+\.dockerignore)$", re.IGNORECASE)
UNEXPLAINED = re.compile(r"(\d+) unexplained")


@dataclass(frozen=True)
class Figures:
    project: str
    exit_code: int
    crashed: bool
    unexplained: int | None
    hatch_keys: int
    verbatim_builds: int
    spec_lines: int
    original_lines: int

    @property
    def ratio(self) -> float:
        return self.spec_lines / self.original_lines if self.original_lines else 0.0


def copy_project(source: Path, into: Path) -> Path:
    target = into / source.name
    shutil.copytree(source, target, symlinks=True)
    return target


LEFT_AS_IS = re.compile(r"^\s*kept\s+(\S+)\s+no Compose file builds it", re.MULTILINE)


def run_import(project: Path, python_path: str | None = None, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")}
    if python_path:
        env["PYTHONPATH"] = python_path
    # -P: the working directory (a checkout, when run from one) must not shadow --python-path
    argv = [sys.executable, *(("-P",) if python_path else ()), "-m", "dockergen", "import", str(project), "--verify", "--force",
            "--report", str(report_path(project)), *extra]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)


def report_path(project: Path) -> Path:
    """Where ``run_import`` has the import write its Markdown report: beside the project, not in it."""
    return project.parent / f"{project.name}.import-report.md"


def reported_chains(report: str) -> dict[str, tuple[str, ...]]:
    """The ``-f`` set of each environment, from the Environments table of an import's
    Markdown report (a spec's ``was:`` description says it only where the name does not)."""
    section = report.split("\n## Environments\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("| ").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0]: tuple(cells[1].split()) for cells in rows[1:]}  # (not the header)


def replaced_files(project: Path, chains: list[list[str]] | None) -> list[Path]:
    """The files a spec replaces: Dockerfiles, ignore files, and the Compose files of the
    environments (with what they include or extend)."""
    out: set[Path] = set()
    for folder, dirs, files in os.walk(project):
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules")]
        for name in files:
            if (DOCKERFILE.match(name) and not name.endswith((".md", ".txt", ".notes"))) or IGNORE_FILE.match(name):
                out.add(Path(folder) / name)
    pending = [project / f for chain in chains or [] for f in chain]
    if chains is None:  # legacy-monorepo: every Compose file at its root
        pending = sorted(project.glob("docker-compose*.yml"))
    while pending:
        path = pending.pop()
        if path in out or not path.is_file():
            continue
        out.add(path)
        data = yaml.load(path.read_text(), Loader=_TagTolerantLoader) or {}
        for item in data.get("include") or []:
            for p in [item.get("path")] if isinstance(item, dict) else [item]:
                for one in p if isinstance(p, list) else [p]:
                    pending.append((path.parent / one).resolve())
        for service in (data.get("services") or {}).values():
            ext = (service or {}).get("extends")
            if isinstance(ext, dict) and ext.get("file"):
                pending.append((path.parent / ext["file"]).resolve())
    return sorted(out)


class _TagTolerantLoader(yaml.SafeLoader):
    """Compose's ``!reset``/``!override`` tags read as plain values."""


_TagTolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def hatch_keys(spec: dict[str, Any]) -> int:
    count = 0
    for service in (spec.get("services") or {}).values():
        for layer in [service, *((service.get("environments") or {}).values())]:
            count += len((layer or {}).get("compose") or {})
    for env in (spec.get("environments") or {}).values():
        count += len(((env or {}).get("defaults") or {}).get("compose") or {})
    count += len(((spec.get("defaults") or {}).get("compose")) or {})
    return count


def verbatim_builds(spec: dict[str, Any]) -> int:
    """Services the spec builds only through ``compose: {build: ...}``."""
    count = 0
    for service in (spec.get("services") or {}).values():
        if service.get("build") or service.get("uses"):
            continue
        layers = [service, *((service.get("environments") or {}).values())]
        if any(((layer or {}).get("compose") or {}).get("build") for layer in layers):
            count += 1
    return count


def measure(name: str, source: Path, workdir: Path, python_path: str | None = None) -> tuple[Figures, subprocess.CompletedProcess[str]]:
    project = copy_project(source, workdir)
    result = run_import(project, python_path)
    spec_path = project / "dockergen.yaml"
    spec = yaml.safe_load(spec_path.read_text()) if spec_path.is_file() else {}
    found = UNEXPLAINED.search(result.stdout)
    crashed = result.returncode not in (0, 1) or "Traceback" in result.stderr
    chains = EXPECTED.get(name) if source != LEGACY else None
    # A Dockerfile no Compose file builds stays as it is (the report says so): the spec replaces none of it.
    kept = {project / m.group(1) for m in LEFT_AS_IS.finditer(result.stdout)}
    original = sum(len(p.read_text(errors="replace").splitlines()) for p in replaced_files(project, chains) if p not in kept)
    figures = Figures(
        name,
        result.returncode,
        crashed,
        int(found.group(1)) if found else None,
        hatch_keys(spec or {}),
        verbatim_builds(spec or {}),
        len(spec_path.read_text().splitlines()) if spec_path.is_file() else 0,
        original,
    )
    return figures, result


def table(rows: list[Figures]) -> str:
    lines = [f"{'project':<22} {'exit':>4} {'crash':>5} {'unexpl':>6} {'hatch':>5} {'verbatim':>8} {'spec/orig lines':>16} {'ratio':>6}"]
    for f in rows:
        unexplained = "-" if f.unexplained is None else str(f.unexplained)
        lines.append(f"{f.project:<22} {f.exit_code:>4} {int(f.crashed):>5} {unexplained:>6} {f.hatch_keys:>5} {f.verbatim_builds:>8} "
                     f"{f'{f.spec_lines}/{f.original_lines}':>16} {f.ratio:>6.2f}")  # fmt: skip
    corpus = [f for f in rows if f.project != "legacy-monorepo"]
    spec_total = sum(f.spec_lines for f in corpus)
    orig_total = sum(f.original_lines for f in corpus)
    lines.append(
        f"{'corpus total':<22} {'':>4} {sum(f.crashed for f in corpus):>5} {sum(f.unexplained or 0 for f in corpus):>6} "
        f"{sum(f.hatch_keys for f in corpus):>5} {sum(f.verbatim_builds for f in corpus):>8} "
        f"{f'{spec_total}/{orig_total}':>16} {spec_total / max(1, orig_total):>6.2f}"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-path", help="import dockergen from this source tree instead")
    parser.add_argument("--only", action="append", help="one project (repeatable)")
    parser.add_argument("--keep", type=Path, help="keep the imported copies here")
    args = parser.parse_args()
    names = args.only or [*PROJECTS, "legacy-monorepo"]
    workdir = Path(tempfile.mkdtemp(prefix="import-corpus-")) if args.keep is None else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        source = LEGACY if name == "legacy-monorepo" else CORPUS / name
        figures, result = measure(name, source, workdir, args.python_path)
        if figures.crashed:
            print(f"--- {name}: exit {result.returncode}: {' | '.join(result.stderr.strip().splitlines()[-2:])[:300]}", file=sys.stderr)
        rows.append(figures)
    print(table(rows))
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
