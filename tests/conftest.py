from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A warm server the developer started (`dockergen server start`) would serve the suite's
# `python -m dockergen` subprocesses: right output, but tests that count what a run imports
# see the client's. tests/test_warm_server.py starts servers of its own.
os.environ["DOCKERGEN_NO_SERVER"] = "1"

EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/dockergen.yaml"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    explicit = {
        name.strip()
        for marker in metafunc.definition.iter_markers("parametrize")
        for name in (marker.args[0].split(",") if isinstance(marker.args[0], str) else marker.args[0])
    }
    if "example" in metafunc.fixturenames and "example" not in explicit:
        metafunc.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
