"""Performance figures for dockergen: prints a table of medians (never asserts).

    python3 benchmarks/bench.py [--repeat N]

Measures, each as a whole process after one warm-up run:
- `dockergen --help` cold start;
- `dockergen check` on a clean tree (the largest example) side by side with
  `docker-compose -f compose.yaml -f compose.prod.yaml config -q` on the same files;
- `dockergen render` of synthetic specs with 10, 100 and 1,000 services x 5
  environments (fresh output dir, and again with nothing to change), the fitted
  per-service slope, and peak memory;
- `dockergen import` of the legacy-monorepo fixture, when the importer is installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    local = BIN / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def timed(cmd: list[str], cwd: Path, repeat: int, setup=None) -> tuple[float, int]:  # noqa: ANN001
    """Median wall seconds over ``repeat`` runs after one warm-up, and peak RSS in MB."""
    samples, peak = [], 0
    for i in range(repeat + 1):
        if setup:
            setup()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
        if i:
            samples.append(elapsed)
    return statistics.median(samples), peak // 1024


def synthetic_spec(services: int) -> str:
    lines = ["version: 1", "project: synthetic", "services:"]
    for i in range(services):
        name = f"svc{i:04d}"
        if i % 4 == 0:
            lines += [
                f"  {name}:",
                f"    build: {{family: python, context: {name}, port: 8000, python: {{app: 'app.main:app', dev_requirements: requirements-dev.txt}}}}",
                "    healthcheck: {http: /health}",
                f"    environment: {{SERVICE_NAME: {name}, DATABASE_URL: 'postgresql://db/{name}'}}",
                "    environments:",
                "      dev: {ports: ['8000']}",
                "      prod: {resources: {limits: {memory: 1G}}}",
            ]
        elif i % 4 == 1:
            lines += [f"  {name}:", f"    uses: svc{i - 1:04d}", "    command: [python, -m, worker]", f"    depends_on: [svc{i - 1:04d}]"]
        elif i % 4 == 2:
            lines += [f"  {name}:", "    build: {family: node, context: web, port: 3000}", "    healthcheck: {http: /health}"] if i == 2 else [
                f"  {name}:", "    image: redis:7-alpine", "    environments: {test: {enabled: false}}"]
        else:
            lines += [f"  {name}:", "    image: postgres:16-alpine", "    environment: {POSTGRES_PASSWORD: '${POSTGRES_PASSWORD:-dev}'}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dockergen, compose = tool("dockergen"), tool("docker-compose")
    rows: list[tuple[str, str]] = []
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, repeat={args.repeat}")

    help_s, _ = timed([dockergen, "--help"], ROOT, args.repeat)
    rows.append(("dockergen --help (cold start)", f"{help_s * 1000:.0f} ms"))

    example = max((p.parent for p in (ROOT / "examples").glob("*/dockergen.yaml")), key=lambda p: len(list(p.rglob("Dockerfile*"))))
    check_s, _ = timed([dockergen, "check"], example, args.repeat)
    compose_s, _ = timed([compose, "-f", "compose.yaml", "-f", "compose.prod.yaml", "config", "-q"], example, args.repeat)
    rows.append((f"dockergen check, clean ({example.name})", f"{check_s * 1000:.0f} ms"))
    rows.append(("docker-compose ... config -q (same stack)", f"{compose_s * 1000:.0f} ms"))
    rows.append(("ratio check / compose config (goal <= 1.0)", f"{check_s / compose_s:.2f}"))

    points = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in (10, 100, 1000):
            work = Path(tmp) / str(count)
            work.mkdir()
            (work / "dockergen.yaml").write_text(synthetic_spec(count))
            out = work / "out"
            fresh, peak = timed([dockergen, "render", "-q", "--out", str(out)], work, args.repeat, setup=lambda out=out: shutil.rmtree(out, ignore_errors=True))
            again, _ = timed([dockergen, "render", "-q", "--out", str(out)], work, args.repeat)
            points.append((count, fresh))
            rows.append((f"render {count} services x 5 envs (fresh / unchanged)", f"{fresh:.2f} s / {again:.2f} s, peak {peak} MB"))
    (x0, y0), (x1, y1) = points[0], points[-1]
    rows.append(("render slope (fitted, 10 -> 1000)", f"{(y1 - y0) / (x1 - x0) * 1000:.2f} ms per service"))

    fixture = ROOT / "tests" / "fixtures" / "legacy-monorepo"
    if fixture.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            spec = Path(tmp) / "dockergen.yaml"
            try:
                import_s, _ = timed([dockergen, "import", str(fixture), "--out", str(spec), "--force"], ROOT, args.repeat)
                rows.append(("import legacy-monorepo (no --verify)", f"{import_s:.2f} s"))
            except subprocess.CalledProcessError as exc:
                rows.append(("import legacy-monorepo", f"failed (exit {exc.returncode})"))

    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
