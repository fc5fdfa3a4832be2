"""`dockergen import --verify` on every project of the import corpus, judged from outside.

Each project (tests/fixtures/import-corpus, written for this test in styles unlike
legacy-monorepo and unlike each other) is imported with the real CLI: exit 0, no
unexplained difference, and exactly the environments its team runs
(``ENVIRONMENTS.yaml``). The spec is then moved to another checkout of the project and
rendered there with ``render --force``, as a user would; every environment's full
normalised Compose config (the real ``docker-compose config --format json``) and every
built target (BuildKit's parser) must equal the originals', up to the few rewrites listed
in ``ACCEPTED`` below. This judge shares no code with ``verify``.

The figures issue 14 asks for are printed at the end (``-s`` or the terminal summary).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import yaml

from tests.import_corpus import CORPUS, EXPECTED, PROJECTS, Figures, measure, report_path, reported_chains, table
from tests.tools import compose

ACCEPTED = """
build       an inline Dockerfile (dockerfile_inline) written as a file: what each target builds is compared
build       a tag several services build differently in one environment (a race) is built once, with one of their builds
build       an image the services of several profiles run is built by one without profiles, not by its builder behind one
image       a built service without an image is given the name Compose would give it (<project>-<service>)
image       a registry's short name written in full (python:3 = docker.io/library/python:3)
logging     log rotation (json-file, max-size/max-file) added in a staging/prod environment that had no logging
aliases     a renamed service keeps its old name as a network alias
healthcheck Docker's default timings written out (interval 30s, timeout 30s, start_period 0s, retries 3, start_interval 5s)
healthcheck a disabled healthcheck (`disable: true` or the test `["NONE"]`) written as `disable: true` alone (the rest has no effect)
healthcheck an empty healthcheck (`disable: false` alone, normalised to `{}`) left out: it changes nothing
volumes     a mount's empty option block (`volume: {}`, what Compose adds to the short form) is no difference
volumes     the order of a service's mounts (the base file's first, an overlay's after): the engine orders them by target itself
build       the Dockerfile, its stage names and its path are the importer's; what each target builds is compared
"""
DOCKER_HEALTHCHECK = {"interval": "30s", "timeout": "30s", "start_period": "0s", "retries": 3, "start_interval": "5s"}
FIGURES: list[Figures] = []


@pytest.fixture(scope="module", autouse=True)
def _print_figures(request: pytest.FixtureRequest) -> Any:
    yield
    if FIGURES:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        text = "import corpus figures (crashes, unexplained, escape-hatch keys, verbatim builds, spec/original lines):\n"
        text += table(sorted(FIGURES, key=lambda f: f.project))
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(text)
        else:
            print(text)


@pytest.mark.parametrize("name", PROJECTS)
def test_corpus_project_imports_verifies_and_renders_the_same(name: str, tmp_path: Path) -> None:
    first = tmp_path / "checkout-a"
    first.mkdir()
    figures, result = measure(name, CORPUS / name, first)
    FIGURES.append(figures)
    assert not figures.crashed, result.stderr[-3000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert figures.unexplained == 0, result.stdout[-6000:]
    project = first / name
    spec = yaml.safe_load((project / "dockergen.yaml").read_text())
    reported = reported_chains(report_path(project).read_text())
    runs = {env: _run(block, reported[env]) for env, block in spec["environments"].items()}
    chains = {env: files for env, (files, _, _) in runs.items()}
    assert sorted(chains.values()) == sorted(tuple(c) for c in EXPECTED[name]), chains

    # Another checkout, elsewhere and deeper: every path must mean the same there.
    second = tmp_path / "elsewhere" / "deeper" / name
    shutil.copytree(project, second, symlinks=True)
    rendered = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(second / "dockergen.yaml"), "--force", "-q"],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    problems: list[str] = []
    for env, (chain, flags, env_file) in runs.items():
        assert _declared_env_file(spec, env) in ((env_file,) if env_file else (None, ".env")), env  # what `dockergen compose` passes
        original = _config(project, chain, flags)
        moved = ("--env-file", str(second / env_file)) if env_file else ()
        mine = _config(second, _rendered_files(spec, env), moved, project_dir=second)
        problems += [f"{env}: {p}" for p in _compare(project, second, original, mine, spec, env)]
    assert problems == [], "\n".join(problems)


def _rendered_files(spec: dict[str, Any], env: str) -> tuple[str, ...]:
    """The rendered base and overlay of ``env``; none for the one a bare `docker compose up`
    runs (``output.override``): Compose must pick the rendered pair over the originals itself."""
    output = spec.get("output") or {}
    if output.get("override") == env:
        return ()
    return (output.get("compose_file", "compose.yaml"), f"compose.{env}.yaml")


def _declared_env_file(spec: dict[str, Any], env: str) -> str | None:
    """The environment's `env_file`, along `extends`."""
    block = spec["environments"][env]
    return block["env_file"] if "env_file" in block else _declared_env_file(spec, block["extends"]) if block.get("extends") else None


def _run(block: dict[str, Any], reported: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """The files an environment was (as the report lists them), the -p its own command gave,
    and the .env it read when that is not the root's (both from its description, which an
    environment that had either has)."""
    if "description" not in block:
        return reported, (), None
    match = re.fullmatch(r"was: docker compose(?: -p (\S+))?((?: -f \S+)+)(?: \(its \.env: (\S+);.*\))?", block["description"])
    assert match, f"an imported environment's description says which files it was: {block}"
    files = tuple(match.group(2).split(" -f ")[1:])
    assert files == reported, (files, reported)
    return files, (("--project-name", match.group(1)) if match.group(1) else ()), match.group(3)


def _config(root: Path, files: tuple[str, ...], flags: tuple[str, ...] = (), project_dir: Path | None = None) -> dict[str, Any]:
    folder = project_dir or (root / posixpath.dirname(files[0])).resolve()
    paths = [root / f for f in files]
    result = compose(folder, paths, *flags, "--profile", "*", "config", "--format", "json")
    if result.returncode != 0 and "is already in use by service" in result.stderr:
        # Profiles that share a container name run one at a time: each profile's config, as one.
        listed = compose(folder, paths, *flags, "config", "--profiles")
        assert listed.returncode == 0, listed.stderr
        merged: dict[str, Any] = {}
        for profile in ["", *listed.stdout.split()]:
            one = compose(folder, paths, *flags, *(("--profile", profile) if profile else ()), "config", "--format", "json")
            assert one.returncode == 0, f"{files} --profile {profile}: {one.stderr}"
            for key, value in json.loads(one.stdout).items():
                merged[key] = {**value, **merged.get(key, {})} if isinstance(value, dict) else merged.get(key, value)
        return merged
    if result.returncode != 0 and "error calling MarshalJSON" in result.stderr:
        # Compose cannot write a build's `ssh: [key=path]` as JSON (its SSHKey type); its YAML works.
        result = compose(folder, paths, *flags, "--profile", "*", "config")
        assert result.returncode == 0, f"{files}: {result.stderr}"
        return yaml.safe_load(result.stdout)
    assert result.returncode == 0, f"{files}: {result.stderr}"
    return json.loads(result.stdout)


# ------------------------------------------------------------------ Compose configs


def _compare(first: Path, second: Path, original: dict, mine: dict, spec: dict, env: str) -> list[str]:
    a = _paths(original, str(first))
    b = _paths(mine, str(second))
    out: list[str] = []
    if a.get("name") != b.get("name"):
        out.append(f"name: {a.get('name')} != {b.get('name')}")
    theirs, ours = a.get("services") or {}, b.get("services") or {}
    names = {_original_name(n, s, theirs): n for n, s in ours.items()}
    if sorted(names) != sorted(theirs):
        out.append(f"services: {sorted(theirs)} != {sorted(names)}")
    for old, new in names.items():
        if old not in theirs:
            continue
        sa, sb = dict(theirs[old]), dict(ours[new])
        sb = _without_alias(sb, old) if old != new else sb
        if (spec["services"].get(new) or {}).get("uses"):
            # A service on another's image: built once, by the service that owns the name
            # (issue 15 item 13), and never running that image's HEALTHCHECK (item 2).
            builder = next((s for n, s in ours.items() if n != new and s.get("build") and s.get("image") == sb.get("image")), None)
            if builder is not None and "build" in sa and "build" not in sb:
                sb["build"] = builder["build"]
                # The original builds that tag again with another build (a race: the last build
                # wins); the one the spec keeps must be the original's build of some service.
                rivals = [s["build"] for n, s in theirs.items() if s.get("build") and s.get("image") == sa.get("image")]
                if len({json.dumps(r, sort_keys=True) for r in rivals}) > 1:
                    kept = _target(second, builder["build"])
                    sa["build"] = next((r for r in rivals if _target(first, r) == kept), sa["build"])
            if "healthcheck" not in sa and sb.get("healthcheck") == {"disable": True}:
                sb.pop("healthcheck")
        elif "build" in sa and "build" not in sb and sb.get("profiles"):
            # A builder behind a profile: the one build of its image is another's, one that always starts.
            builder = next((s for n, s in ours.items() if s.get("build") and not s.get("profiles") and s.get("image") == sb.get("image")), None)
            if builder is not None:
                sb["build"] = builder["build"]
        out += [f"{old}: {line}" for line in _compare_service(first, second, a["name"], old, sa, sb)]
    for key in ("networks", "volumes", "secrets", "configs"):
        mine_top = b.get(key) or {}
        if (a.get(key) or {}) != mine_top:
            out.append(f"{key}: {json.dumps(a.get(key), sort_keys=True)} != {json.dumps(mine_top, sort_keys=True)}")
    return out


def _paths(doc: Any, root: str) -> Any:
    if isinstance(doc, dict):
        return {k: _paths(v, root) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_paths(v, root) for v in doc]
    if isinstance(doc, str):
        return doc.replace(root, "<checkout>").replace(str(Path(root).parent), "<checkout>/..")
    return doc


def _original_name(name: str, service: dict, theirs: dict) -> str:
    if name in theirs:
        return name
    aliases = {a for net in (service.get("networks") or {}).values() for a in ((net or {}).get("aliases") or [])}
    return next((a for a in aliases if a in theirs), name)


def _without_alias(service: dict, alias: str) -> dict:
    networks = {}
    for net, options in (service.get("networks") or {}).items():
        options = dict(options or {})
        options["aliases"] = [a for a in options.get("aliases") or [] if a != alias]
        if not options["aliases"]:
            del options["aliases"]
        networks[net] = options or None
    return {**service, "networks": networks}


def _compare_service(first: Path, second: Path, project: str, name: str, a: dict, b: dict) -> list[str]:
    out: list[str] = []
    build_a, build_b = a.pop("build", None), b.pop("build", None)
    if (build_a is None) != (build_b is None):
        return [f"build: {build_a} != {build_b}"]
    if build_a is not None:
        if "image" not in a and isinstance(b.get("image"), str) and _full(b["image"]) == _full(f"{project}-{name}"):
            b.pop("image")
        out += _compare_build(first, second, build_a, build_b)
    if isinstance(a.get("image"), str) and isinstance(b.get("image"), str) and _full(a["image"]) == _full(b["image"]):
        b["image"] = a["image"]
    for side in (a, b):
        if isinstance(side.get("volumes"), list):
            side["volumes"] = [{k: v for k, v in m.items() if v != {} or k not in ("volume", "bind")} if isinstance(m, dict) else m
                               for m in side["volumes"]]  # fmt: skip
            side["volumes"] = sorted(side["volumes"], key=lambda m: json.dumps(m, sort_keys=True))
    if a.get("healthcheck") == {} and "healthcheck" not in b:
        a.pop("healthcheck")
    disabled = (a.get("healthcheck") or {}).get("disable") or (a.get("healthcheck") or {}).get("test") == ["NONE"]
    if disabled and b.get("healthcheck") == {"disable": True}:
        a["healthcheck"] = b["healthcheck"]
    if isinstance(a.get("healthcheck"), dict) and isinstance(b.get("healthcheck"), dict):
        b["healthcheck"] = {k: v for k, v in b["healthcheck"].items() if k in a["healthcheck"] or DOCKER_HEALTHCHECK.get(k) != v}
    if "logging" not in a and _is_rotation(b.get("logging")):
        b.pop("logging")
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(f"{key}: {json.dumps(a.get(key), sort_keys=True)} != {json.dumps(b.get(key), sort_keys=True)}")
    return out


def _is_rotation(logging: Any) -> bool:
    return isinstance(logging, dict) and logging.get("driver") == "json-file" and set(logging.get("options") or {}) == {"max-size", "max-file"}


def _full(image: str) -> str:
    name, _, digest = image.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if ":" not in name.rsplit("/", 1)[-1] and not digest:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def _compare_build(first: Path, second: Path, a: dict, b: dict) -> list[str]:
    out = []
    rest_a = {k: v for k, v in a.items() if k not in ("context", "dockerfile", "target", "dockerfile_inline")}
    rest_b = {k: v for k, v in b.items() if k not in ("context", "dockerfile", "target")}
    if rest_a != rest_b:
        out.append(f"build: {json.dumps(rest_a, sort_keys=True)} != {json.dumps(rest_b, sort_keys=True)}")
    target_a = _target(first, a)
    target_b = _target(second, b)
    if target_a != target_b:
        diff = [f"  - {x}" for x in target_a if x not in target_b] + [f"  + {x}" for x in target_b if x not in target_a]
        out.append(f"build target {a.get('dockerfile')}:{a.get('target')} != {b.get('dockerfile')}:{b.get('target')}\n" + "\n".join(diff))
    return out


# ------------------------------------------------------------------ Dockerfile targets


def _target(root: Path, build: dict) -> list[str]:
    """What one build target runs, stage by stage, independent of stage names and of where
    the Dockerfile and its context are: BuildKit's parse, FROM chains followed, build
    arguments applied, ``COPY`` sources as paths of the checkout."""
    context = Path(build["context"].replace("<checkout>", str(root)))
    path = Path(str(build.get("dockerfile") or "Dockerfile").replace("<checkout>", str(root)))
    path = path if path.is_absolute() else context / path
    if path == context / "Dockerfile" and not path.exists() and (context / "Containerfile").is_file():
        path = context / "Containerfile"  # what podman builds there (the Compose CLI's config says Dockerfile)
    if "dockerfile_inline" not in build and not path.is_file():
        return [f"no Dockerfile at {path.relative_to(root) if path.is_relative_to(root) else path}: the build fails"]
    commands = dockerfile.parse_string(build["dockerfile_inline"] if "dockerfile_inline" in build else path.read_text())
    args = {k: v for k, v in (build.get("args") or {}).items() if v is not None}
    defaults: dict[str, str] = {}
    stages: list[tuple[str | None, str, list[Any]]] = []
    for c in commands:
        if c.cmd.upper() == "FROM":
            name = c.value[2].lower() if len(c.value) >= 3 and c.value[1].upper() == "AS" else None
            stages.append((name, c.value[0], [c]))
        elif not stages:
            for item in c.value:
                k, _, v = item.partition("=")
                defaults[k] = v.strip("\"'")
        else:
            stages[-1][2].append(c)
    values = {**defaults, **args}
    index = {n: i for i, (n, _, _) in enumerate(stages) if n}
    target = build.get("target")
    if target and target.lower() not in index:
        return [f"no stage {target}: the build fails"]  # on both sides alike, or the comparison shows it
    chosen = index[target.lower()] if target else len(stages) - 1
    relative = context.relative_to(root).as_posix() if context.is_relative_to(root) else context.as_posix()

    def stage(i: int) -> list[str]:
        name, base, body = stages[i]
        base = _expand(base, values)
        lines = stage(index[base.lower()]) + ["--- FROM previous stage"] if base.lower() in index and index[base.lower()] < i else [f"FROM {_full(base)}"]
        flags = " ".join(f for f in body[0].flags)
        if flags:
            lines.append(f"FROM flags {flags}")
        for c in body[1:]:
            lines.append(_instruction(c, i, stage, index, relative, args, defaults))
        return lines

    return stage(chosen)


def _expand(text: str, values: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name, op, arg = m.group(1) or m.group(4), m.group(2), m.group(3) or ""
        value = values.get(name)
        if op == ":-":
            return value or arg
        if op == ":+":
            return arg if value else ""
        return value or ""

    return re.sub(r"\$\{([A-Za-z_]\w*)(?:(:[-+])([^}]*))?\}|\$([A-Za-z_]\w*)", repl, text)


def _instruction(c: Any, here: int, stage: Any, index: dict[str, int], context: str, given: dict, defaults: dict) -> str:  # noqa: ANN401
    flags = []
    from_stage = False
    for flag in c.flags:
        m = re.fullmatch(r"--from=(.+)", flag)
        if m:
            from_stage = True
            ref = m.group(1).lower()
            i = index.get(ref, int(ref) if ref.isdigit() else None)
            flag = f"--from=[{' | '.join(stage(i))}]" if i is not None and i < here else f"--from={_full(m.group(1))}"
        elif flag.startswith("--mount="):
            def mount_from(mm: re.Match[str]) -> str:
                i = index.get(mm.group(2).lower())
                return mm.group(1) + (f"[{' | '.join(stage(i))}]" if i is not None and i < here else mm.group(2))

            flag = re.sub(r"(\bfrom=)([^,\s]+)", mount_from, flag)
            if "type=bind" in flag and "from=" not in flag:
                flag = re.sub(r"(\b(?:source|src)=)([^,\s]+)", lambda mm: mm.group(1) + _in_checkout(context, mm.group(2)), flag)
        flags.append(flag)
    value = list(c.value)
    if c.cmd.upper() in ("COPY", "ADD") and not from_stage and not c.heredocs:
        value = [_in_checkout(context, v) for v in value[:-1]] + value[-1:]
    if c.cmd.upper() == "ARG":
        effective = []
        for item in value:
            key, sep, default = item.partition("=")
            effective.append(f"{key}={given.get(key, default.strip(chr(34) + chr(39)) if sep else defaults.get(key, ''))}")
        value = effective
    if not c.json:
        value = [_collapse(v) for v in value]
    heredocs = [h.content for h in c.heredocs]
    return json.dumps([c.cmd.upper(), c.sub_cmd.upper() if c.sub_cmd else None, c.json, flags, value, heredocs])


def _in_checkout(context: str, source: str) -> str:
    if "://" in source or source.startswith("$"):
        return source
    joined = posixpath.normpath(posixpath.join(context, source.lstrip("/")))
    return joined + ("/" if source.endswith("/") else "")


def _collapse(text: str) -> str:
    """Blanks outside quotes as one space: a shell reads both the same."""
    out, quote, escaped = [], None, False
    for ch in text:
        if escaped:
            out.append(ch)
            escaped = False
            continue
        if quote is None and ch in " \t":
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append(ch)
        if ch == "\\" and quote != "'":
            escaped = True
        elif quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return "".join(out).strip()


def test_the_corpus_is_at_least_thirty_projects_each_with_its_environments() -> None:
    on_disk = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    assert on_disk == PROJECTS and len(PROJECTS) >= 30
    assert all(EXPECTED[name] for name in PROJECTS)
    assert os.path.isdir(CORPUS)
