"""Work that must grow linearly with hostile input, timed at growing sizes, side by side
for this tree and a peer tree (another checkout, e.g. main before a change):

    python3 benchmarks/bounded_work.py                       # this tree
    python3 benchmarks/bounded_work.py --peer /path/to/old   # both, side by side

Each row times one step in-process (no CLI start-up): the overlay split of one service
whose appended lists (`expose`) differ per environment, and the host-port clash check
of N services publishing the same range. Linear work roughly doubles when N doubles;
quadratic work quadruples. A step still running after --limit seconds is reported as
"> limit" (the quadratic ones of the old code, at the largest sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = (2_500, 5_000, 10_000, 20_000)
HERE = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys, time
from pathlib import Path
from dockergen.render.overlay import split
from dockergen.semantics import _ports
from dockergen.resolve import EnvironmentInfo
from dockergen.spec.load import SourceMap

step, n = sys.argv[1], int(sys.argv[2])
if step == "overlay-split":
    documents = {env: {"services": {"web": {"image": "x", "expose": [str(10000 + i + shift) for i in range(n)]}}}
                 for env, shift in (("dev", 0), ("prod", n // 2))}
    started = time.perf_counter()
    split(documents)
else:
    class Env:
        info = EnvironmentInfo("dev", "dev", "docker", None, ("dev",), "compose.dev.yaml")
        services = {}
    document = {"services": {f"s{i}": {"ports": ["10000-10999:10000-10999"]} for i in range(n // 10)}}
    source = SourceMap("x.yaml", {"services": {}}, _positions={})
    started = time.perf_counter()
    _ports(document, Env, source)
print(json.dumps(time.perf_counter() - started))
"""


def measure(tree: Path, step: str, n: int, limit: float) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    try:
        # From a neutral folder: `python -c` puts the working directory first on the path.
        done = subprocess.run([sys.executable, "-c", PROBE, step, str(n)], env=env, capture_output=True, text=True, timeout=limit,
                              cwd=tempfile.gettempdir())  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"> {limit:.0f} s"
    if done.returncode != 0:
        return "error: " + (done.stderr.strip().splitlines() or ["?"])[-1][:40]
    return f"{json.loads(done.stdout):.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", type=Path, help="another checkout to time side by side")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a step counts as unbounded")
    args = parser.parse_args()
    trees = [("this tree", HERE)] + ([("peer", args.peer.resolve())] if args.peer else [])
    print(f"{'step':<16} {'N':>7}  " + "  ".join(f"{name:>12}" for name, _ in trees))
    for step, unit in (("overlay-split", "items"), ("port-clash", "services x 1000 ports")):
        for n in SIZES:
            shown = n if step == "overlay-split" else n // 10
            cells = [measure(tree, step, n, args.limit) for _, tree in trees]
            print(f"{step:<16} {shown:>7}  " + "  ".join(f"{c:>12}" for c in cells))
        print(f"  ({unit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
