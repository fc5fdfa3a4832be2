"""Rendering is deterministic: the same spec gives the same bytes whatever the process's
hash seed, time zone, locale or folder, and those bytes are the committed ones (rendered
on another machine), Kubernetes manifests included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

# Two runs that share nothing a render might leak: set/dict order, local time, collation.
RUNS = (
    {"PYTHONHASHSEED": "1", "TZ": "UTC", "LC_ALL": "C"},
    {"PYTHONHASHSEED": "987654", "TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8"},
)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_render_writes_the_committed_bytes(example: Path, tmp_path: Path) -> None:
    outs = []
    for n, env in enumerate(RUNS):
        copy = tmp_path / f"run{n}" / ("deeper/" * n) / example.name
        shutil.copytree(example, copy)
        out = tmp_path / f"out{n}"
        result = subprocess.run(
            [sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(copy / "dockergen.yaml"), "--out", str(out)],
            capture_output=True, text=True, timeout=300, env={**os.environ, **env}, cwd=copy.parent,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outs.append(tree(out))
    assert outs[0] == outs[1]
    assert any(path.startswith("k8s/") for path in outs[0]) == ("\n  kubernetes: k8s\n" in (example / "dockergen.yaml").read_text())
    committed = {path: (example / path).read_bytes() for path in outs[0] if (example / path).is_file()}
    assert set(committed) == set(outs[0]) - {".gitattributes"} or set(committed) == set(outs[0])
    assert {p: outs[0][p] for p in committed} == committed
