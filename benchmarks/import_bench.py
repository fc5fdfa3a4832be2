"""How long `dockergen import` takes on a sprawl: prints medians (never asserts).

    python3 benchmarks/import_bench.py [--repeat N] [--services N]

Issue 14 sets the goals: `import` of a 25-file sprawl under 2 s, `import --verify` under 4 s.
The sprawl is generated (``--services 5`` gives 25 files): per service a Dockerfile and two
variants of it (`.alpine`, `.dev`, each a few stages with BuildKit features), and the stack
as a base Compose file with nine overlays (dev, a three-file staging chain, prod, ci, an
add-on, a podman file ...). Beside it, the peer: the Compose CLI's own `config` of every
environment the import infers, run one after another, as a user checking each `-f` chain by
hand would (what reading the sprawl costs Compose itself). Then the legacy-monorepo fixture
(41 files) the same way. Each figure is the median of ``--repeat`` whole-process runs after
one warm-up, from bytecode (as installed); an import's row also counts the Compose CLI calls
one run makes (most of its CPU).
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
sys.path.insert(0, str(ROOT))
from bench import run_from_bytecode  # noqa: E402 - this folder is the script's own on sys.path
from tests.import_corpus import reported_chains  # noqa: E402 - the chains as the corpus judge reads them
OVERLAYS = ("override", "dev", "prod", "staging", "ci", "monitoring", "podman", "debug", "test")


def median_seconds(argv: list[str], cwd: Path, repeat: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (the process and its children, user +
    system: what a busy machine does not inflate) over ``repeat`` runs after a warm-up."""
    walls, cpus = [], []
    for i in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}")
        if i:
            walls.append(elapsed)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def compose_calls(argv: list[str], cwd: Path, compose: str, tmp: Path) -> int:
    """How many times one run of ``argv`` starts the Compose CLI (an untimed run through a
    wrapper that notes each call; ``DOCKERGEN_COMPOSE`` also skips the probe of which Compose
    there is, which is no ``config`` call)."""
    log, wrapper = tmp / "compose-calls.log", tmp / "counting-compose"
    wrapper.write_text(f'#!/bin/sh\necho >> "{log}"\nexec "{compose}" "$@"\n')
    wrapper.chmod(0o755)
    log.write_text("")
    subprocess.run(argv, cwd=cwd, env={**os.environ, "DOCKERGEN_COMPOSE": str(wrapper)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)  # fmt: skip
    return len(log.read_text().splitlines())


def sprawl(root: Path, services: int) -> int:
    """Writes the sprawl; returns how many Dockerfiles and Compose files it has."""
    names = [f"svc{i}" for i in range(services)]
    for i, name in enumerate(names):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "requirements.txt").write_text("flask\n")
        (folder / "app.py").write_text("print('hi')\n")
        port = 8000 + i
        common = f"WORKDIR /app\nCOPY requirements.txt .\nRUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt\nCOPY . .\n"
        (folder / "Dockerfile").write_text(
            f"# syntax=docker/dockerfile:1\nARG PY=3.12\nFROM python:${{PY}}-slim AS base\n{common}"
            f"FROM base AS prod\nUSER 10001\nEXPOSE {port}\nHEALTHCHECK CMD python -c 'print(1)'\nCMD [\"python\", \"app.py\"]\n"
        )
        (folder / "Dockerfile.alpine").write_text(f"FROM python:3.12-alpine\n{common}RUN <<EOF\nadduser -D app\nEOF\nUSER app\nCMD [\"python\", \"app.py\"]\n")
        (folder / "Dockerfile.dev").write_text(f"FROM python:3.12-slim\n{common}ENV DEBUG=1\nCMD [\"python\", \"-X\", \"dev\", \"app.py\"]\n")
    lines = ["services:"]
    for i, name in enumerate(names):
        lines += [f"  {name}:", f"    build: ./{name}", f"    image: acme/{name}:${{TAG:-latest}}", f"    ports: ['{8000 + i}:{8000 + i}']",
                  "    environment:", f"      SERVICE: {name}", "      DATABASE_URL: postgres://app@db/app", "    depends_on: [db]"]  # fmt: skip
    lines += ["  db:", "    image: postgres:16-alpine", "    volumes: ['db:/var/lib/postgresql/data']",
              "    healthcheck: {test: [CMD, pg_isready], interval: 5s}", "volumes:", "  db: {}"]  # fmt: skip
    (root / "compose.yaml").write_text("\n".join(lines) + "\n")
    for overlay in OVERLAYS:
        body = ["services:"]
        for name in names:
            body.append(f"  {name}:")
            if overlay in ("dev", "override", "debug"):
                body += [f"    build: {{context: ./{name}, dockerfile: Dockerfile.dev}}", f"    volumes: ['./{name}:/app']", "    environment: {LOG_LEVEL: debug}"]
            elif overlay in ("prod", "staging"):
                body += ["    restart: always", "    deploy: {resources: {limits: {memory: 256M}}}", f"    environment: {{LOG_LEVEL: {'warning' if overlay == 'prod' else 'info'}}}"]
            elif overlay == "podman":
                body += [f"    build: {{context: ./{name}, dockerfile: Dockerfile.alpine}}", f"    image: localhost/{name}:latest"]
            else:
                body += ["    environment: {CI: 'true'}"]
        if overlay == "monitoring":
            body = ["services:", "  prometheus:", "    image: prom/prometheus:v2.53.0", "    depends_on: [svc0]"]
        name = "compose.override.yaml" if overlay == "override" else f"compose.{overlay}.yaml"
        (root / name).write_text("\n".join(body) + "\n")
    return 3 * services + 1 + len(OVERLAYS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--services", type=int, default=5, help="5 gives the 25-file sprawl")
    args = parser.parse_args()
    dockergen = [sys.executable, "-m", "dockergen"]
    compose = shutil.which("docker-compose")
    run_from_bytecode()
    print(f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, repeat={args.repeat}; load {os.getloadavg()[0]:.1f}")
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        projects = [("generated", Path(tmp) / "sprawl", None), ("legacy-monorepo", ROOT / "tests" / "fixtures" / "legacy-monorepo", 41)]
        files = sprawl(projects[0][1], args.services)
        projects[0] = ("generated", projects[0][1], files)
        for label, project, count in projects:
            spec = Path(tmp) / f"{label}.yaml"
            report = Path(tmp) / f"{label}.md"
            for argv, name in (([*dockergen, "import", str(project), "--out", str(spec), "--force", "--report", str(report)],
                                f"import, {label} ({count} files; goal < 2 s for 25)"),
                               ([*dockergen, "import", str(project), "--out", str(spec), "--force", "--verify"],
                                f"import --verify, {label} (goal < 4 s for 25)")):  # fmt: skip
                wall, cpu = median_seconds(argv, ROOT, args.repeat)
                calls = f", {compose_calls(argv, ROOT, compose, Path(tmp))} Compose calls" if compose else ""
                rows.append((name, f"{wall:.2f} s wall, {cpu:.2f} s CPU{calls}"))
            if compose:
                chains = list(reported_chains(report.read_text()).values())
                argv = ["sh", "-c", " && ".join(" ".join([compose, *(a for f in chain for a in ("-f", str(project / f))), "--profile", "'*'", "config", "-q"])
                                                for chain in chains)]  # fmt: skip
                wall, cpu = median_seconds(argv, project, args.repeat)
                rows.append((f"  peer: docker-compose config of its {len(chains)} environments, one by one", f"{wall:.2f} s wall, {cpu:.2f} s CPU"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
