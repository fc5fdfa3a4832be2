"""Performance figures for dockergen: prints a table of medians (never asserts).

    python3 benchmarks/bench.py [--repeat N]

Measures, each as a whole process after one warm-up run:
- `dockergen --help` cold start;
- `dockergen check` on a clean tree (the largest example) side by side with
  `docker-compose -f compose.yaml -f compose.prod.yaml config -q` on the same files,
  twice: with the dockergen this interpreter runs, and installed in a virtualenv of its
  own, the way pre-commit and pipx install it (``--no-venv`` skips that; it needs pip
  to reach an index or its cache);
- `dockergen render` of synthetic specs with 10, 100, 1,000 and 2,000 services x 5
  environments (fresh output dir, and again with nothing to change), the least-squares
  slope and intercept with R^2 (how straight the line is), and peak memory;
- `dockergen import` of the legacy-monorepo fixture, without and with ``--verify``;
- `render` and `validate` after a value edit in-process, with the warm server running
  (`server start`), and as a user gets them by default (the server started by itself by
  the run before) (``--warm``: only these rows), wall and CPU, the server's child included;
- where a `validate` after a value edit goes, step by step beside Compose (``--floor``:
  only these rows): the interpreter, pydantic, the spec models, every import, the run;
- `dockergen check` and `render` of each example that renders Kubernetes, with that output
  off and on, side by side, and whether every render of it wrote the same bytes
  (``--kubernetes``: only these rows).

The render cache (``dockergen/render_cache.py``) is this run's own (``XDG_CACHE_HOME`` in a
temporary folder); rows replayed from it say so, and the scaling series, the Kubernetes
rows and import run with ``DOCKERGEN_NO_CACHE=1``: the full path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    local = BIN / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def run_from_bytecode() -> None:
    """An installed dockergen runs from bytecode (pip compiles it at install); with
    ``PYTHONDONTWRITEBYTECODE`` set, a checkout would compile ~100 modules on every run
    (40-50 ms of a small project's render, ~0.85 s of CPU of an import), which no user's
    install does: unset for the runs this process starts, and said in the header."""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        print("# PYTHONDONTWRITEBYTECODE was set: unset for these runs, so that dockergen runs from bytecode as installed")


def timed(cmd: list[str], cwd: Path, repeat: int, fresh=None) -> tuple[float, int]:  # noqa: ANN001
    """Median wall seconds over ``repeat`` runs after one warm-up, and the largest peak
    RSS of one run in MB (``wait4`` reports each child's own). ``fresh(i)`` gives extra
    arguments per run (a new output directory: deleting the last one right before a run
    would time the file system's cleanup, not dockergen)."""
    samples, peak = [], 0
    for i in range(repeat + 1):
        start = time.perf_counter()
        child = subprocess.Popen(cmd + (fresh(i) if fresh else []), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise subprocess.CalledProcessError(child.returncode, cmd)
        peak = max(peak, usage.ru_maxrss // 1024)
        if i:
            samples.append(elapsed)
    return statistics.median(samples), peak


def fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R^2 of ``points``."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    intercept = my - slope * mx
    total = sum((y - my) ** 2 for _, y in points)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in points)
    return slope, intercept, 1 - residual / total if total else 1.0


def isolated_dockergen(tmp: Path) -> str | None:
    """dockergen installed (not editable, with its dependencies) in a new virtualenv."""
    venv = tmp / "venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        python = venv / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True, capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"# own virtualenv skipped: {exc}", file=sys.stderr)
        return None
    return str(venv / "bin" / "dockergen")


def synthetic_spec(services: int, edit: int | None = None) -> str:
    """``edit``: the value of one environment variable (svc0000's DATABASE_URL) differs per
    edit, so the spec means something new, not only its bytes."""
    lines = ["version: 1", "project: synthetic", "services:"]
    for i in range(services):
        name = f"svc{i:04d}"
        if i % 4 == 0:
            database = f"postgresql://db/{name}" + (f"-edit{edit}" if edit is not None and i == 0 else "")
            lines += [
                f"  {name}:",
                f"    build: {{family: python, context: {name}, port: 8000, python: {{app: 'app.main:app', dev_requirements: requirements-dev.txt}}}}",
                "    healthcheck: {http: /health}",
                f"    environment: {{SERVICE_NAME: {name}, DATABASE_URL: '{database}'}}",
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


_PLAIN_VALUE = re.compile(r"^(\s+[A-Z][A-Z0-9_]*: )([A-Za-z0-9_./:-]+)$", re.M)


def value_edited(spec: str, edit: str) -> str:
    """``spec`` with the first variable set to a plain value (``LOG_LEVEL: debug``) given
    another one (``debug-<edit>``): a real change, which every generated file using it shows."""
    edited, count = _PLAIN_VALUE.subn(lambda m: f"{m[1]}{m[2]}-{edit}", spec, count=1)
    assert count == 1, "no plain `NAME: value` line in the spec to edit"
    return edited


EDITS = {  # how a run's spec differs from every other run's (``edit``: a token of its own): new bytes, or a new value too
    "comment": lambda text, edit: text + f"# {edit}\n",
    "value": value_edited,
}


def alternating(commands: list[tuple], repeat: int, fresh=None) -> list[float]:  # noqa: ANN001
    """Median seconds of each command, run in turns (a, b, a, b ...) after one warm-up each, so
    that a change in the machine's load hits them alike; ``fresh(i)`` as in ``timed``, for the
    first, or a command's own as the third item of its ``(cmd, cwd, fresh)``."""
    samples: list[list[float]] = [[] for _ in commands]
    for i in range(repeat + 1):
        for n, (cmd, cwd, *own) in enumerate(commands):
            extra = own[0](i) if own else fresh(i) if fresh and n == 0 else []
            start = time.perf_counter()
            subprocess.run(cmd + extra, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            if i:
                samples[n].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def edited_in_place(spec: Path, kind: str, token: str) -> Callable[[int], list[str]]:
    """Before run ``i``, ``spec`` rewritten with edit ``kind`` (its own ``token`` and ``i``: new
    bytes every run, never the same in two cases, since a render stores its spec in the
    render cache); the run's arguments: the spec. One project edited again and again, as a
    user's daily loop does: what its last render kept (``render.dockerfile_store``) counts."""
    original = spec.read_text()

    def before(i: int) -> list[str]:
        spec.write_text(EDITS[kind](original, f"{token}{i}"))
        return [str(spec)]

    return before


def side_by_side(rows: list[tuple[str, str]], dockergen: str, compose_cmd: list[str], example: Path, repeat: int) -> None:
    """render and validate of the example, each in turns with Compose reading the same
    stack: replayed from the render cache (a spec rendered before on this machine: the
    warm-up run stores it), after an edit (a spec no run saw before: the full path; once
    with a variable's value changed, once with only a comment added; in one project edited
    before each run, and once in a new copy every run, a project never rendered before),
    and with nothing to change (confirmed from the lock)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = str(example / "dockergen.yaml")
        out = lambda i: [str(Path(tmp) / f"out{i}")]  # noqa: E731 - a new tree: the full path every run
        unlocked = Path(tmp) / "unlocked"  # the example without its lock: nothing to confirm, all to check
        shutil.copytree(example, unlocked)
        (unlocked / "dockergen.lock").unlink()
        after: dict[tuple[str, str], Callable[[int], list[str]]] = {}
        for case in ("render", "validate"):
            for kind in EDITS:
                copy = Path(tmp) / f"edited-{case}-{kind}"
                shutil.copytree(unlocked, copy)
                after[case, kind] = edited_in_place(copy / "dockergen.yaml", kind, f"{case}-edit")
        copies = []  # validate after a value edit, a new copy every run
        for i in range(repeat + 1):
            copy = Path(tmp) / f"new-copy-{i}"
            shutil.copytree(unlocked, copy)
            (copy / "dockergen.yaml").write_text(value_edited((unlocked / "dockergen.yaml").read_text(), f"new-copy{i}"))
            copies.append(str(copy / "dockergen.yaml"))
        cases = [
            ("render (a fresh --out tree; from the render cache)", [dockergen, "render", "-q", "--spec", spec, "--out"], out),
            ("render (after a value edit: the full path)", [dockergen, "render", "-q", "--spec"], after["render", "value"]),
            ("render (after a comment edit: the full path)", [dockergen, "render", "-q", "--spec"], after["render", "comment"]),
            ("render (nothing to change)", [dockergen, "render", "-q", "--spec", spec], None),
            ("validate (no lock; from the render cache)", [dockergen, "validate", "--spec", str(unlocked / "dockergen.yaml")], None),
            ("validate (after a value edit: the full path)", [dockergen, "validate", "--spec"], after["validate", "value"]),
            ("validate (after a comment edit: the full path)", [dockergen, "validate", "--spec"], after["validate", "comment"]),
            ("validate (a value edit in a project never rendered: a new copy every run)", [dockergen, "validate", "--spec"], lambda i: [copies[i]]),
            ("validate (unchanged since the render)", [dockergen, "validate", "--spec", spec], None),
        ]
        for name, cmd, fresh in cases:
            ours, theirs = alternating([(cmd, ROOT), (compose_cmd, example)], repeat, fresh)
            rows.append((f"dockergen {name}, {example.name} / compose config -q", f"{ours * 1000:.0f} / {theirs * 1000:.0f} ms = {ours / theirs:.2f}"))


WARM_MODES = {  # how a row's runs meet the warm server, and what the row says of it
    "in-process": "in-process (DOCKERGEN_NO_SERVER=1)",
    "started": "warm server running (`server start`)",
    "auto": "default (server auto-started by the previous run)",
}


@contextlib.contextmanager
def server_env(dockergen: str, tmp: Path, mode: str) -> Iterator[dict[str, str]]:
    """The environment of runs that meet the warm server as ``mode`` (a key of
    ``WARM_MODES``) says: without it; with one `dockergen server start` began; or as a user
    gets it by default, the first run finding none and starting it (``served_turns`` waits
    for it). A runtime folder of its own under ``tmp``, CI unset; the server stopped after."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKERGEN_NO_SERVER", "CI")} | {"XDG_RUNTIME_DIR": str(tmp / "run")}
    if mode == "in-process":
        env["DOCKERGEN_NO_SERVER"] = "1"
    (tmp / "run").mkdir(mode=0o700, parents=True)
    if mode == "started":
        subprocess.run([dockergen, "server", "start"], env=env, check=True, capture_output=True)
    try:
        yield env
    finally:
        subprocess.run([dockergen, "server", "stop"], env=env, capture_output=True)


def served_turns(dockergen: str, env: dict[str, str], ours: Callable[[int], tuple[list[str], Path]], theirs: tuple[list[str], Path], repeat: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) of ``ours(i)`` (command, folder) and of ``theirs``, in turns after one
    untimed run each. CPU is user + sys of the whole command: the client's own plus the
    server's child that ran it (the server's children's, from ``server status`` before and
    after). The timed runs begin once a server answers, if the untimed one started it."""

    def served_cpu() -> float:
        """The server's children's CPU so far; 0 with no server."""
        time.sleep(0.05)  # the child that answered exits right after its client
        status = subprocess.run([dockergen, "server", "status"], env=env, capture_output=True, text=True).stdout
        found = re.search(r"\(([\d.]+) s CPU\)", status)
        return float(found[1]) if found else 0.0

    samples: tuple[list[tuple[float, float]], list[tuple[float, float]]] = ([], [])
    for i in range(repeat + 1):
        if i == 1 and "DOCKERGEN_NO_SERVER" not in env:
            deadline = time.monotonic() + 120
            while subprocess.run([dockergen, "server", "status"], env=env, capture_output=True).returncode and time.monotonic() < deadline:
                time.sleep(0.1)
        before = served_cpu()
        wall, cpu = _wait4(*ours(i), env)
        ours_run = wall, cpu + served_cpu() - before
        theirs_run = _wait4(*theirs, env)
        if i:
            samples[0].append(ours_run)
            samples[1].append(theirs_run)
    return tuple((statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs)) for runs in samples)  # type: ignore[return-value]


def warm_server(rows: list[tuple[str, str]], dockergen: str, compose_cmd: list[str], example: Path, repeat: int, mode: str) -> None:
    """render and validate after a value edit, in turns with Compose, meeting the warm server
    as ``mode`` says (``server_env``): median wall and CPU (``served_turns``)."""
    with tempfile.TemporaryDirectory() as tmp, server_env(dockergen, Path(tmp), mode) as env:
        for case in (["render", "-q"], ["validate"]):
            copy = Path(tmp) / f"warm-{case[0]}"
            shutil.copytree(example, copy)
            (copy / "dockergen.lock").unlink()
            edit = edited_in_place(copy / "dockergen.yaml", "value", f"warm-{mode}-{case[0]}")
            (w, c), (w_c, c_c) = served_turns(dockergen, env, lambda i: ([dockergen, *case, "--spec", *edit(i)], ROOT), (compose_cmd, example), repeat)  # noqa: B023 - used at once
            rows.append((f"dockergen {' '.join(case)} after a value edit, {WARM_MODES[mode]}, {example.name} / compose config -q",
                         f"wall {w * 1000:.0f} / {w_c * 1000:.0f} ms = {w / w_c:.2f}, CPU {c * 1000:.0f} / {c_c * 1000:.0f} ms = {c / c_c:.2f}"))  # fmt: skip


def _wait4(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys) of one run of ``cmd``."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def floor(rows: list[tuple[str, str]], dockergen: str, compose_cmd: list[str], example: Path, repeat: int) -> None:
    """Where a `validate` after a value edit goes, as whole processes in turns with Compose
    (median wall and CPU, user + sys): the interpreter starting, pydantic imported, the spec
    models built, every module the run imports, and the run itself. The first two are the
    floor of any run that validates, with pydantic, a spec it has not seen."""
    python = str(Path(dockergen).parent / "python") if (Path(dockergen).parent / "python").exists() else sys.executable
    imports = "import os; os.environ['PYDANTIC_DISABLE_PLUGINS'] = '__all__'; import dockergen.launcher, dockergen.cli, dockergen.commands.validate, dockergen.commands.render, dockergen.pipeline"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "edited"
        shutil.copytree(example, copy)
        (copy / "dockergen.lock").unlink()
        edit = edited_in_place(copy / "dockergen.yaml", "value", "floor")
        if "\n  kubernetes: " in (copy / "dockergen.yaml").read_text():
            imports += ", dockergen.render.kubernetes"
        steps = [
            ("python -c pass (the interpreter starting)", [python, "-c", "pass"], None),
            ("+ from pydantic import BaseModel", [python, "-c", "from pydantic import BaseModel"], None),
            ("+ import dockergen.spec.model (the models built)", [python, "-c", "import dockergen.spec.model"], None),
            ("+ every module validate imports", [python, "-c", imports], None),
            ("dockergen validate after a value edit (the whole run)", [dockergen, "validate", "--spec"], edit),
            ("docker-compose config -q of base + prod", compose_cmd, None),
        ]
        samples: list[list[tuple[float, float]]] = [[] for _ in steps]
        for i in range(repeat + 1):
            for n, (_, cmd, fresh) in enumerate(steps):
                start = time.perf_counter()
                child = subprocess.Popen(cmd + (fresh(i) if fresh else []), cwd=example, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                if os.waitstatus_to_exitcode(status):
                    raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd)
                if i:
                    samples[n].append((time.perf_counter() - start, usage.ru_utime + usage.ru_stime))
    wall_c, cpu_c = (statistics.median(s[k] for s in samples[-1]) for k in (0, 1))
    for (name, _, _), runs in zip(steps, samples):
        wall, cpu = (statistics.median(s[k] for s in runs) for k in (0, 1))
        rows.append((f"floor, {example.name}: {name}", f"wall {wall * 1000:.0f} ms = {wall / wall_c:.2f}, CPU {cpu * 1000:.0f} ms = {cpu / cpu_c:.2f} of Compose's"))


def large(rows: list[tuple[str, str]], dockergen: str, compose: str, tmp: Path, repeat: int) -> None:
    """1,000 services x 5 environments: a render beside Compose reading base + prod, from the
    render cache and after an edit: a comment only, in-process; a changed value, in-process and
    as a user gets it by default (served by the server the untimed run started), into a new
    tree and in place."""
    (tmp / "dockergen.yaml").write_text(synthetic_spec(1000))
    subprocess.run([dockergen, "render", "-q"], cwd=tmp, check=True, capture_output=True)
    render = [dockergen, "render", "-q", "--out"]
    compose_cmd = [compose, "-f", "compose.yaml", "-f", "compose.prod.yaml", "config", "-q"]
    ours, theirs = alternating([(render, tmp), (compose_cmd, tmp)], repeat, lambda i: [str(tmp / f"out{i}")])
    rows.append(("render 1,000 services x 5 envs (from the render cache) / compose config -q of base + prod", f"{ours:.2f} / {theirs:.2f} s = {ours / theirs:.2f}"))
    spec = tmp / "edited-comment" / "dockergen.yaml"  # one project, a new spec before every run: the full path
    spec.parent.mkdir()

    def fresh(i: int) -> list[str]:
        spec.write_text(EDITS["comment"](synthetic_spec(1000), f"edit {i}"))
        return [str(tmp / f"edited-comment-out{i}"), "--spec", str(spec)]

    ours, theirs = alternating([(render, tmp), (compose_cmd, tmp)], repeat, fresh)
    rows.append(("render 1,000 services x 5 envs (after a comment edit: the full path, in-process) / the same", f"{ours:.2f} / {theirs:.2f} s = {ours / theirs:.2f}"))
    # After a value edit, without the server and as a user gets it by default: into a new
    # --out tree every run (every file written), and in place, the daily loop (one project
    # edited and rendered again and again: only the files the edit changed are written).
    for n, (mode, tree) in enumerate((mode, tree) for tree in ("a fresh --out tree", "in place") for mode in ("in-process", "auto")):
        project = tmp / f"edited-{n}"
        project.mkdir()
        if tree == "in place":
            (project / "dockergen.yaml").write_text(synthetic_spec(1000))
            subprocess.run([dockergen, "render", "-q"], cwd=project, check=True, capture_output=True)

        def edited(i: int, project: Path = project, first: int = n * (repeat + 1), tree: str = tree) -> tuple[list[str], Path]:
            (project / "dockergen.yaml").write_text(synthetic_spec(1000, edit=first + i))  # no two runs render one spec (the render cache)
            out = [] if tree == "in place" else ["--out", str(project.parent / f"{project.name}-out{i}")]
            return [dockergen, "render", "-q", "--spec", str(project / "dockergen.yaml"), *out], tmp

        with server_env(dockergen, tmp / f"server-{n}", mode) as env:
            (w, c), (w_c, c_c) = served_turns(dockergen, env, edited, (compose_cmd, tmp), repeat)
        rows.append((f"render 1,000 services x 5 envs (after a value edit, {tree}: the full path), {WARM_MODES[mode]} / the same",
                     f"wall {w:.2f} / {w_c:.2f} s = {w / w_c:.2f}, CPU {c:.2f} / {c_c:.2f} s = {c / c_c:.2f}"))  # fmt: skip


def kubernetes_side_by_side(rows: list[tuple[str, str]], dockergen: str, repeat: int) -> None:
    """For each example that renders Kubernetes: `check` (the fast path on a clean tree), a
    render with nothing to change and a full render, with its Kubernetes output off and on
    in turns; and whether the full renders (and one more with another hash seed, in another
    folder) all wrote the same bytes."""
    examples = sorted(p.parent for p in (ROOT / "examples").glob("*/dockergen.yaml") if "\n  kubernetes: k8s\n" in p.read_text())
    os.environ["DOCKERGEN_NO_CACHE"] = "1"  # from here on the full path, as the rows say
    for example in examples:
        with tempfile.TemporaryDirectory() as tmp:
            trees = {}
            for label in ("off", "on"):
                tree = Path(tmp) / label
                shutil.copytree(example, tree, ignore=shutil.ignore_patterns("k8s"))
                spec = tree / "dockergen.yaml"
                if label == "off":
                    spec.write_text(spec.read_text().replace("\n  kubernetes: k8s\n", "\n  kubernetes: null\n"))
                subprocess.run([dockergen, "render", "-q"], cwd=tree, check=True, capture_output=True)
                trees[label] = tree
            files = {label: sum(1 for p in tree.rglob("*") if p.is_file()) for label, tree in trees.items()}
            name = f"{example.name}: Kubernetes off / on"
            check = [dockergen, "check"]
            off, on = alternating([(check, trees["off"]), (check, trees["on"])], repeat)
            rows.append((f"dockergen check, clean tree, {name} ({files['off']} / {files['on']} files)", f"{off * 1000:.0f} / {on * 1000:.0f} ms = {on / off:.2f}"))
            again = [dockergen, "render", "-q"]
            off, on = alternating([(again, trees["off"]), (again, trees["on"])], repeat)
            rows.append((f"dockergen render, nothing to change, {name}", f"{off * 1000:.0f} / {on * 1000:.0f} ms = {on / off:.2f}"))
            outs = {label: [Path(tmp) / f"render-{label}-{i}" for i in range(repeat + 1)] for label in trees}
            full = [dockergen, "render", "-q", "--out"]
            off, on = alternating([(full, trees[label], lambda i, label=label: [str(outs[label][i])]) for label in ("off", "on")], repeat)
            rows.append((f"dockergen render, full (a fresh --out tree), {name}", f"{off * 1000:.0f} / {on * 1000:.0f} ms = {on / off:.2f}"))
            # One more render elsewhere, with another hash seed: set and dict orders that leak
            # into the output would differ there.
            seeded = Path(tmp) / "elsewhere" / "seeded"
            env = {**os.environ, "PYTHONHASHSEED": "4242", "TZ": "Pacific/Kiritimati"}
            subprocess.run([*full, str(seeded)], cwd=trees["on"], env=env, check=True, capture_output=True)
            renders = [*outs["on"], seeded]
            same = all(_tree_bytes(out) == _tree_bytes(renders[0]) for out in renders[1:])
            rows.append((f"{example.name}, Kubernetes on: {len(renders)} full renders byte-identical", "yes" if same else "NO"))


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def python_loop_seconds() -> float:
    """Median of 3 runs of a fixed pure-Python loop: how fast this machine runs Python right now."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for step in range(10_000_000):
            total += step
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-venv", dest="venv", action="store_false", help="measure only the dockergen this interpreter runs")
    parser.add_argument("--ratios", action="store_true", help="only the side-by-side ratios with Compose (no scaling series, no import)")
    parser.add_argument("--kubernetes", action="store_true", help="only the Kubernetes output off / on rows")
    parser.add_argument("--warm", action="store_true", help="only render and validate after an edit with the warm server running")
    parser.add_argument("--floor", action="store_true", help="only where a validate after an edit goes, step by step beside Compose")
    args = parser.parse_args()
    compose = tool("docker-compose")
    rows: list[tuple[str, str]] = []
    run_from_bytecode()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, repeat={args.repeat}")
    print(f"# machine speed: a 10M-step Python loop takes {python_loop_seconds():.2f} s (compare figures across machines by it)")
    # Every row runs in-process but the warm server's (``warm_server``): a server the
    # developer runs, or one a row's run would start by itself, serves none of them.
    os.environ["DOCKERGEN_NO_SERVER"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # a render cache of this run's own
        installs = [("this interpreter", tool("dockergen"))]
        if args.venv and (own := isolated_dockergen(Path(tmp))):
            installs.insert(0, ("own virtualenv", own))
        print(f"# dockergen: {installs[0][0]} ({installs[0][1]}) unless a row says otherwise")
        if args.kubernetes:
            kubernetes_side_by_side(rows, installs[0][1], args.repeat)
        elif args.warm:
            example = ROOT / "examples" / "platform"
            for mode in WARM_MODES:
                warm_server(rows, installs[0][1], [compose, "-f", "compose.yaml", "-f", "compose.prod.yaml", "config", "-q"], example, args.repeat, mode)
        elif args.floor:
            example = ROOT / "examples" / "platform"
            floor(rows, installs[0][1], [compose, "-f", "compose.yaml", "-f", "compose.prod.yaml", "config", "-q"], example, args.repeat)
        else:
            measure(rows, installs, compose, args.repeat, ratios_only=args.ratios)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def measure(rows: list[tuple[str, str]], installs: list[tuple[str, str]], compose: str, repeat: int, *, ratios_only: bool = False) -> None:
    """Everything with the first install; the check with every install, each run beside
    a Compose run on the same stack."""
    dockergen = installs[0][1]
    help_s, _ = timed([dockergen, "--help"], ROOT, repeat)
    rows.append(("dockergen --help (cold start)", f"{help_s * 1000:.0f} ms"))

    example = max((p.parent for p in (ROOT / "examples").glob("*/dockergen.yaml")), key=lambda p: len(list(p.rglob("Dockerfile*"))))
    compose_cmd = [compose, "-f", "compose.yaml", "-f", "compose.prod.yaml", "config", "-q"]
    for label, command in installs:
        check_s, _ = timed([command, "check"], example, repeat)
        compose_s, _ = timed(compose_cmd, example, repeat)
        rows.append((f"dockergen check, clean ({example.name}; {label})", f"{check_s * 1000:.0f} ms"))
        rows.append(("docker-compose ... config -q (same stack)", f"{compose_s * 1000:.0f} ms"))
        rows.append((f"ratio check / compose config ({label}; goal <= 1.0)", f"{check_s / compose_s:.2f}"))
    side_by_side(rows, dockergen, compose_cmd, example, repeat)
    for mode in ("started", "auto"):  # beside side_by_side's in-process rows
        warm_server(rows, dockergen, compose_cmd, example, repeat, mode)
    floor(rows, dockergen, compose_cmd, example, repeat)
    with tempfile.TemporaryDirectory() as tmp:
        large(rows, dockergen, compose, Path(tmp), repeat)
    kubernetes_side_by_side(rows, dockergen, repeat)
    if ratios_only:
        return
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in (10, 100, 1000, 2000):
            work = Path(tmp) / str(count)
            work.mkdir()
            (work / "dockergen.yaml").write_text(synthetic_spec(count))
            render = [dockergen, "render", "-q", "--out"]
            fresh, peak = timed(render, work, repeat, fresh=lambda i, work=work: [str(work / f"out{i}")])
            again, _ = timed([*render, str(work / "out0")], work, repeat)
            points.append((count, fresh))
            rows.append((f"render {count} services x 5 envs (fresh / unchanged)", f"{fresh:.2f} s / {again:.2f} s, peak {peak} MB"))
    slope, intercept, r2 = fit(points)
    rows.append(("render fit (least squares, fresh)", f"{slope * 1000:.2f} ms per service + {intercept:.2f} s, R^2 {r2:.4f}"))

    fixture = ROOT / "tests" / "fixtures" / "legacy-monorepo"
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "dockergen.yaml"
        for label, extra in (("no --verify", []), ("with --verify", ["--verify"])):
            try:
                import_s, _ = timed([dockergen, "import", str(fixture), "--out", str(spec), "--force", *extra], ROOT, repeat)
                rows.append((f"import legacy-monorepo ({label})", f"{import_s:.2f} s"))
            except subprocess.CalledProcessError as exc:
                rows.append((f"import legacy-monorepo ({label})", f"failed (exit {exc.returncode})"))


if __name__ == "__main__":
    main()
