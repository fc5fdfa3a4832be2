"""Image benchmark: the rendered multi-stage Dockerfile against the naive single-stage one a
team would write, for every built service of the examples (prod target).

    python3 benchmarks/images.py [--example NAME ...] [--json FILE] [--keep]

Needs podman and the stand-in base images (as root:
`SANDBOX_IMAGES=all bash tools/container-sandbox-setup.sh`). For each service and each
variant it measures, with `podman build --format docker --pull=never`:

- final image size and number of layers;
- cold build: `--no-cache` (every layer rebuilt, every package downloaded again);
- rebuild after a source-only change: after one normal build of the unchanged source (not
  timed), one line is appended to the app's entry module and the image rebuilt with the
  layer cache; the dependency layer must come from the cache ("deps cached").

The naive Dockerfile follows shared/fixtures/legacy-monorepo/docker/backend.Dockerfile:
one stage on the same base image, compilers and -dev headers installed with apt (and left
in the image), requirements installed globally, runs as root. Targets (issue 5): prod image
at most 60% of the naive one; a source-only rebuild at most 20% of the cold build.
Prints a table; never asserts (the exit code is 0 unless a build fails).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dockergen.pipeline import render  # noqa: E402
from dockergen.resolve import ImagePlan  # noqa: E402

SIZE_TARGET = 0.60
REBUILD_TARGET = 0.20
BENCH_TAG = "localhost/dockergen-bench"

NAIVE_PYTHON = """\
# Naive single-stage image (the legacy backend.Dockerfile style): build tools stay in the image.
FROM {base}
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1
WORKDIR /app
# gcc + libpq-dev: wheels built from source; curl: used by the HEALTHCHECK below
RUN apt-get update && apt-get install -y \\
    gcc \\
    libpq-dev \\
    curl \\
    && rm -rf /var/lib/apt/lists/*
{requirements}COPY . .
CMD {command}
"""

NAIVE_NODE = """\
# Naive single-stage image: toolchain for native modules, every dependency, build in place.
FROM {base}
WORKDIR /app
# python3 + make + g++: node-gyp needs them for native modules
RUN apt-get update && apt-get install -y python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm install
COPY . .
{build}EXPOSE {port}
CMD {command}
"""


@dataclass
class Result:
    example: str
    service: str
    variant: str  # rendered | naive
    size_mb: float
    layers: int
    cold_s: float
    rebuild_s: float
    deps_cached: bool


def podman(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SystemExit(f"podman {' '.join(args[:8])} ... failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result


def build(context: Path, dockerfile: Path, tag: str, *, target: str | None, no_cache: bool) -> tuple[float, str]:
    cmd = ["build", "--format", "docker", "--pull=never", "-f", str(dockerfile), "-t", tag]
    if target:
        cmd += ["--target", target]
    if no_cache:
        cmd.append("--no-cache")
    start = time.monotonic()
    result = podman(*cmd, str(context))
    return time.monotonic() - start, result.stdout + result.stderr


def deps_step_cached(output: str, marker: str) -> bool:
    """buildah prints ``--> Using cache <id>`` right after a step it took from the cache."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if "STEP" in line and marker in line:
            for follow in lines[i + 1 : i + 4]:
                if "Using cache" in follow:
                    return True
            return False
    return False


def naive_dockerfile(plan: ImagePlan, rendered: Path) -> tuple[str, str, str]:
    """The naive Dockerfile (same base image and command as the rendered prod stage), the
    source file a developer would edit, and the dependency-install step's marker."""
    build = plan.build
    base = next(line.split()[1] for line in rendered.read_text().splitlines() if line.startswith("FROM "))
    command = json.loads(next(line[4:] for line in reversed(rendered.read_text().splitlines()) if line.startswith("CMD ")))
    port = plan.container_port
    if build.family == "node":
        node = build.node
        assert node is not None
        build_line = f"RUN npm run {node.build_script}\n" if node.build_script else ""
        text = NAIVE_NODE.format(base=base, build=build_line, port=port or 3000, command=json.dumps(command))
        return text, command[-1], "npm install"
    py = build.python
    assert py is not None
    requirements = f"COPY {py.requirements} .\nRUN pip install --upgrade pip && \\\n    pip install -r {py.requirements}\n" if py.requirements else ""
    text = NAIVE_PYTHON.format(base=base, requirements=requirements, command=json.dumps(command))
    if port:
        text = text.replace("CMD ", f"EXPOSE {port}\nHEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD curl -f http://localhost:{port}/health || exit 1\nCMD ", 1)
    entry = py.app.split(":")[0].replace(".", "/") + ".py" if py.app else command[-1]
    return text, entry, "pip install -r"


def measure(example: Path, plan: ImagePlan, work: Path) -> list[Result]:
    results = []
    rendered_dockerfile = example / plan.dockerfile
    naive_text, entry, install_marker = naive_dockerfile(plan, rendered_dockerfile)
    for variant in ("rendered", "naive"):
        context = work / f"{example.name}-{plan.service}-{variant}"
        shutil.copytree(example / plan.build.context, context, ignore=shutil.ignore_patterns("__pycache__", "node_modules", "dist", ".pytest_cache"))
        dockerfile = context / "Dockerfile.bench"
        dockerfile.write_text(naive_text if variant == "naive" else rendered_dockerfile.read_text())
        tag = f"{BENCH_TAG}/{example.name}-{plan.service}:{variant}"
        target = "prod" if variant == "rendered" else None
        marker = install_marker if variant == "naive" else ("npm ci" if plan.build.family == "node" else "pip install -r")
        cold, _ = build(context, dockerfile, tag, target=target, no_cache=True)
        # buildah 1.28 does not reuse COPY layers made by a --no-cache build, so one normal
        # build of the unchanged source first, as a developer's previous build would be.
        build(context, dockerfile, tag, target=target, no_cache=False)
        source = context / entry
        with source.open("a") as handle:
            handle.write("\n// source-only change\n" if source.suffix == ".js" else "\n# source-only change\n")
        rebuild, output = build(context, dockerfile, tag, target=target, no_cache=False)
        size, layers = podman("image", "inspect", "--format", "{{.Size}} {{len .RootFS.Layers}}", tag).stdout.split()
        results.append(Result(example.name, plan.service, variant, int(size) / 1e6, int(layers), cold, rebuild, deps_step_cached(output, marker)))
        print(f"  {plan.service:<10} {variant:<8} {int(size) / 1e6:7.1f} MB {int(layers):3d} layers  cold {cold:6.1f} s  rebuild {rebuild:5.1f} s", flush=True)
    return results


def table(results: list[Result]) -> str:
    head = (
        f"| {'example/service':<26} | {'rendered MB':>11} | {'naive MB':>8} | {'size %':>6} | {'layers r/n':>10} "
        f"| {'cold r/n s':>11} | {'rebuild r/n s':>13} | {'rebuild/cold r':>14} | deps cached r/n |"
    )
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    by_service: dict[tuple[str, str], dict[str, Result]] = {}
    for r in results:
        by_service.setdefault((r.example, r.service), {})[r.variant] = r
    for (example, service), pair in by_service.items():
        r, n = pair["rendered"], pair["naive"]
        ratio = r.size_mb / n.size_mb
        rebuild_ratio = r.rebuild_s / r.cold_s
        size_mark = "ok" if ratio <= SIZE_TARGET else "MISS"
        rebuild_mark = "ok" if rebuild_ratio <= REBUILD_TARGET else "MISS"
        lines.append(
            f"| {example + '/' + service:<26} | {r.size_mb:11.1f} | {n.size_mb:8.1f} | {ratio:5.0%} {size_mark:<4} | {r.layers:4d} / {n.layers:<3d} "
            f"| {r.cold_s:5.1f} / {n.cold_s:<5.1f} | {r.rebuild_s:5.1f} / {n.rebuild_s:<5.1f} | {rebuild_ratio:8.0%} {rebuild_mark:<5} "
            f"| {'yes' if r.deps_cached else 'NO'} / {'yes' if n.deps_cached else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", action="append", help="only this example (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark images")
    options = parser.parse_args()
    if shutil.which("podman") is None:
        print("podman is not installed (see tools/container-sandbox-setup.sh)", file=sys.stderr)
        return 2
    examples = sorted(p.parent for p in (ROOT / "examples").glob("*/dockergen.yaml"))
    if options.example:
        examples = [e for e in examples if e.name in options.example]
    results: list[Result] = []
    started = time.monotonic()
    before = image_ids()
    try:
        return _run(options, examples, results, started)
    finally:
        if not options.keep:
            removed = remove_created(before, [f"{BENCH_TAG}/{r.example}-{r.service}:{r.variant}" for r in results])
            print(f"removed the {removed} image(s) this run created, intermediate ones included (--keep keeps them)", file=sys.stderr)


def image_ids() -> set[str]:
    """Every image in podman's storage, intermediate ones included."""
    return set(podman("images", "--all", "--quiet", "--no-trunc").stdout.split())


def remove_created(before: set[str], tags: list[str]) -> int:
    """Remove the benchmark's tags, then every image that appeared during the run: the
    stages, the layers of each build and the images a rebuild superseded. Those go without
    --force, so an image another build on this machine uses (a parent, a running container's)
    stays; passes repeat while a child removed in one frees its parent for the next."""
    created = image_ids() - before
    subprocess.run(["podman", "rmi", "--force", *tags], capture_output=True, timeout=600)
    left = image_ids() & created
    while left:
        subprocess.run(["podman", "rmi", *sorted(left)], capture_output=True, timeout=600)
        still = image_ids() & left
        if still == left:
            break
        left = still
    return len(created) - len(left)


def _run(options: argparse.Namespace, examples: list[Path], results: list[Result], started: float) -> int:
    with tempfile.TemporaryDirectory(prefix="dockergen-bench-") as tmp:
        for example in examples:
            project = render(example / "dockergen.yaml").project
            prod = project.environments.get("prod") or next(e for e in project.environments.values() if e.info.kind == "prod")
            plans = {s.plan.dockerfile: s.plan for s in prod.services.values() if s.plan is not None and s.target == "prod"}
            print(f"{example.name}:", flush=True)
            for plan in plans.values():
                results += measure(example, plan, Path(tmp))
    engine = podman("version", "--format", "{{.Client.Version}}").stdout.strip()
    print()
    print(f"podman {engine}, {len(results) // 2} services, {time.monotonic() - started:.0f} s in all")
    print(f"targets: prod size <= {SIZE_TARGET:.0%} of naive; source-only rebuild <= {REBUILD_TARGET:.0%} of cold build")
    print(table(results))
    if options.json:
        options.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
