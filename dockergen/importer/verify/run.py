"""Prove an imported spec equivalent to the files it came from, environment by environment.

The spec is rendered in memory; its Compose files are written to a temporary folder and
every environment is compared, as the real Compose CLI normalises it (``config --format
json`` with all profiles and the repository's ``.env``), with the original ``-f`` set.
Builds are compared with BuildKit's parser: what each target produces (base image,
instructions with their effective arguments, user, ports, healthcheck, entrypoint, cmd).
Compose CLI calls run concurrently.

Every difference is printed and classified: ``kept`` (same meaning, other spelling),
``unified`` (drift the spec resolves), ``carried verbatim`` (escape hatch), ``baked-in``
(dockergen's own improvement), or ``unexplained``: a reason to exit 1.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dockergen.command_probes import probe_for
from dockergen.compose_tool import INSTALL_HINT
from dockergen.errors import DockergenError, Location
from dockergen.importer.read import compose_cli
from dockergen.importer.group.builds import guess_context
from dockergen.importer.plan import ImportPlan
from dockergen.importer.read.compose import default_dockerfile, is_local_context
from dockergen.importer.read.compose_cli import project_dir
from dockergen.importer.read.dockerfile import DockerfileError, ParsedDockerfile, normalize_image, parse_dockerfile, summarise
from dockergen.importer.read.extensions import anchored_extensions, merged_into
from dockergen.importer.read.ignorefile import newly_excluded
from dockergen.importer.records import BAKED, CARRIED, KEPT, UNEXPLAINED, UNIFIED
from dockergen.pipeline import Rendered
from dockergen.render.overlay import is_appended

# What the Compose CLI says when the checkout, not the files, is short of something.
MISSING_INPUT = re.compile(r"env file \S+ not found|required variable \S+ is missing a value")
HEALTHCHECK_DEFAULTS = {"interval": "30s", "timeout": "30s", "start_period": "0s", "retries": 3, "start_interval": "5s"}


@dataclass(frozen=True)
class Difference:
    env: str | None
    service: str | None
    path: str
    original: str
    rendered: str
    cls: str
    why: str


@dataclass
class VerifyResult:
    differences: list[Difference] = field(default_factory=list)
    compared: dict[str, str] = field(default_factory=dict)  # env -> "ok" | error
    dockerfiles_compared: int = 0
    seconds: float = 0.0
    compose_calls: int = 0
    placeholders: dict[str, tuple[str, ...]] = field(default_factory=dict)  # env -> variables given a placeholder

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.cls == UNEXPLAINED]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.differences:
            out[d.cls] = out.get(d.cls, 0) + 1
        return out


def verify(plan: ImportPlan, rendered: Rendered, envs: list[str] | None = None, memo: dict | None = None) -> VerifyResult:
    """``memo``: the Compose CLI's answers the import already has (the original chains)."""
    if compose_cli.compose_command() is None:
        raise DockergenError.single(
            "verify compares environments as the Compose CLI resolves them, and none was found",
            location=Location("docker-compose"),
            hint=f"{INSTALL_HINT}; or set DOCKERGEN_COMPOSE",
        )
    started = time.monotonic()
    result = VerifyResult()
    files = {f.path: f.content for f in rendered.files}
    project = rendered.project
    wanted = [e for e in plan.environments if envs is None or e.name in envs]
    with tempfile.TemporaryDirectory(prefix="dockergen-verify-") as tmp:
        out = Path(tmp)
        for path, content in files.items():
            if path.endswith((".yaml", ".yml")):
                target = out / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
        requests: list[compose_cli.ConfigRequest] = []
        pairs: list[tuple[str, int, int]] = []
        for env in wanted:
            info = project.environments.get(env.name)
            if not env.files:
                continue  # an environment the import made up (no Compose files): nothing to compare with
            if info is None:
                result.compared[env.name] = "missing from the spec"
                result.differences.append(Difference(env.name, None, "environment", "present", "missing", UNEXPLAINED, "the spec has no such environment"))
                continue
            base = out / rendered.spec.output.compose_file
            overlay = out / info.info.compose_file
            folder = project_dir(plan.root, env.files)
            requests.append(compose_cli.ConfigRequest(folder, tuple(plan.root / f for f in env.files), interpolate=True,
                                                      project_name=env.project_flag, env_file=compose_cli.dotenv_for(plan.root, folder)))  # fmt: skip
            chosen = plan.root / env.env_file if env.env_file else None
            requests.append(compose_cli.ConfigRequest(plan.root, (base, overlay), interpolate=True,
                                                      env_file=compose_cli.dotenv_for(plan.root, plan.root, chosen)))  # fmt: skip
            pairs.append((env.name, len(requests) - 2, len(requests) - 1))
        results = compose_cli.run_configs(requests, memo)
        result.compose_calls = len(requests)
        for env_name, i, j in pairs:
            _like_for_like(results, i, j)
            if results[i].request.env:
                result.placeholders[env_name] = tuple(name for name, _ in results[i].request.env)
                result.compose_calls += 2
    rendered_dockerfiles = _parse_rendered(files)
    for env_name, i, j in pairs:
        original, mine = results[i], results[j]
        if original.config is None or mine.config is None:
            which = "original" if original.config is None else "rendered"
            error = original.error if original.config is None else mine.error
            result.compared[env_name] = f"{which}: {error}"
            why = f"docker compose config failed for the {which} files"
            if which == "original" and MISSING_INPUT.search(str(error)):
                why += (": this checkout lacks a file or a value they read (a .env kept out of git?); create it "
                        "(e.g. from .env.example) and run `dockergen import --verify` again")  # fmt: skip
            result.differences.append(Difference(env_name, None, "config", which, str(error)[:300], UNEXPLAINED, why))
            continue
        result.compared[env_name] = "ok"
        result.differences.extend(_compare_env(plan, env_name, original.config, mine.config, rendered_dockerfiles))
    count, diffs = _compare_dockerfiles(plan, rendered_dockerfiles)
    result.dockerfiles_compared = count
    result.differences.extend(diffs)
    result.differences.extend(_newly_ignored(plan, files))
    result.seconds = time.monotonic() - started
    return result


def _like_for_like(results: list[compose_cli.ConfigResult], original: int, mine: int) -> None:
    """Where a variable unset here (set in the user's shell) makes the original files invalid,
    both sides again with the same placeholders: the rendered files are judged in the
    environment the original ones were."""
    retried = compose_cli.with_placeholders(results[original])
    if retried is results[original]:
        return
    results[original] = retried
    results[mine] = compose_cli.run_config(replace(results[mine].request, env=retried.request.env))


def _parse_rendered(files: dict[str, str]) -> dict[str, ParsedDockerfile]:
    out = {}
    for path, content in files.items():
        if content.startswith("# syntax=") or posixpath.basename(path).lower().startswith("dockerfile") or path.endswith("Dockerfile"):
            try:
                out[path] = parse_dockerfile(path, content)
            except DockerfileError:
                continue
    return out


# ------------------------------------------------------------------ one environment


def _compare_env(
    plan: ImportPlan, env: str, original: dict[str, Any], mine: dict[str, Any], rendered: dict[str, ParsedDockerfile]
) -> list[Difference]:
    out: list[Difference] = []
    info = next(e for e in plan.environments if e.name == env)
    rename = plan.renamed(env)
    if original.get("name") != mine.get("name"):
        out.append(Difference(env, None, "name", str(original.get("name")), str(mine.get("name")), UNEXPLAINED, "project name"))
    theirs = {rename.get(n, n): (n, s) for n, s in (original.get("services") or {}).items()}
    ours = mine.get("services") or {}
    for name in sorted(set(theirs) | set(ours)):
        if name not in ours:
            out.append(Difference(env, name, "service", "present", "missing", UNEXPLAINED, "service left out"))
            continue
        if name not in theirs:
            out.append(Difference(env, name, "service", "missing", "present", UNEXPLAINED, "service added"))
            continue
        old_name, a = theirs[name]
        a = _renamed_refs(a, rename)
        b = dict(ours[name])
        if old_name != name:
            b = _drop_alias(b, old_name)
            kept = (f"{old_name} stays a network alias" if "network_mode" not in b
                    else f"under network_mode {b['network_mode']} no network alias keeps {old_name}: commands name it {name}")  # fmt: skip
            out.append(Difference(env, name, "service name", old_name, name, UNIFIED, f"one name in every environment; {kept}"))
        a, b = dict(a), dict(b)
        builder = _shared_builder(ours, name, b) if "build" in a else None
        if builder is not None:
            _, builders_original = theirs.get(builder, (None, {}))
            if builders_original.get("image") == a.get("image") and builders_original.get("build") not in (None, a["build"]):
                out.append(Difference(env, name, "build", _show(a["build"]), f"{builder}'s: {_show(builders_original['build'])}", UNIFIED,
                                      f"the original builds {a.get('image')} again, differently, so which build the tag keeps "
                                      f"depends on build order; the spec builds it once, as {builder}'s"))  # fmt: skip
                a["build"] = builders_original["build"]
            b["build"] = ours[builder]["build"]  # the same build, compared like any other
            out.append(Difference(env, name, "build", "built here", f"built once, by {builder}", BAKED,
                                  "one service per image name carries the build: Compose would build the shared image again"))  # fmt: skip
        out.extend(_compare_build(plan, env, name, old_name, a, b, rendered, original.get("name"), mine.get("name")))
        out.extend(_compare_service(env, name, a, b, info.kind, info.engine))
    for key in ("networks", "volumes", "secrets", "configs"):
        ta = _top(original.get(key) or {})
        tb = _top(mine.get(key) or {})
        for item in sorted(set(ta) | set(tb)):
            if ta.get(item) != tb.get(item):
                out.append(Difference(env, None, f"{key}.{item}", _show(ta.get(item)), _show(tb.get(item)), UNEXPLAINED, "top-level declaration"))
    # Every other top-level key of the normalised config (extensions, what a newer Compose adds).
    aliased: set[str] | None = None
    for key in sorted((set(original) | set(mine)) - {"name", "services", "networks", "volumes", "secrets", "configs"}):
        va, vb = original.get(key), mine.get(key)
        if va == vb:
            continue
        if key.startswith("x-") and vb is None and aliased is None:
            aliased = anchored_extensions(plan.root, info.files)
        if key.startswith("x-") and vb is None and (key in (aliased or ()) or merged_into(va, (original.get("services") or {}).values())):
            out.append(Difference(env, None, key, _show(va), "(absent)", UNIFIED,
                                  "an extension Compose ignores, written to be merged into services (a YAML anchor): its values are in them"))  # fmt: skip
            continue
        out.append(Difference(env, None, key, _show(va), _show(vb), UNEXPLAINED, "top-level key"))
    return out


def _renamed_refs(service: dict[str, Any], rename: dict[str, str]) -> dict[str, Any]:
    """References to other services, under their canonical names."""
    out = dict(service)
    if isinstance(out.get("depends_on"), dict):
        out["depends_on"] = {rename.get(k, k): v for k, v in out["depends_on"].items()}
    for key in ("links", "volumes_from"):
        if isinstance(out.get(key), list):
            out[key] = [rename.get(x.split(":")[0], x.split(":")[0]) + (x[len(x.split(":")[0]):]) for x in out[key]]
    mode = out.get("network_mode")
    if isinstance(mode, str) and mode.startswith("service:"):
        out["network_mode"] = "service:" + rename.get(mode[8:], mode[8:])
    return out


def _shared_builder(services: dict[str, Any], name: str, service: dict[str, Any]) -> str | None:
    """The service that builds the image ``service`` runs without a build of its own."""
    if "build" in service or not service.get("image"):
        return None
    return next((n for n, s in services.items() if n != name and s.get("build") and s.get("image") == service["image"]), None)


def _top(block: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, config in block.items():
        config = dict(config or {})
        if config.get("ipam") == {}:
            config.pop("ipam")
        out[name] = config
    return out


def _drop_alias(service: dict[str, Any], alias: str) -> dict[str, Any]:
    networks = {}
    for net, options in (service.get("networks") or {}).items():
        options = dict(options or {})
        aliases = [a for a in options.get("aliases") or [] if a != alias]
        if aliases:
            options["aliases"] = aliases
        else:
            options.pop("aliases", None)
        networks[net] = options or None
    return {**service, "networks": networks} if networks else service


def _compare_build(
    plan: ImportPlan, env: str, name: str, old_name: str, a: dict, b: dict, rendered: dict[str, ParsedDockerfile],
    project_a: str | None, project_b: str | None,
) -> list[Difference]:  # fmt: skip
    out: list[Difference] = []
    build_a, build_b = a.pop("build", None), b.pop("build", None)
    if build_a is not None and "image" not in a:
        a["image"] = f"{project_a}-{old_name}"
    if build_b is not None and "image" not in b:
        b["image"] = f"{project_b}-{name}"
    if build_a is None and build_b is None:
        return out
    if (build_a is None) != (build_b is None):
        out.append(Difference(env, name, "build", _show(build_a), _show(build_b), UNEXPLAINED, "built on one side only"))
        return out
    assert build_a is not None and build_b is not None
    build_a = dict(build_a)
    inline = build_a.pop("dockerfile_inline", None)
    rest_a = {k: v for k, v in build_a.items() if k not in ("context", "dockerfile", "target", "args")}
    rest_b = {k: v for k, v in build_b.items() if k not in ("context", "dockerfile", "target", "args")}
    if rest_a != rest_b:
        out.append(Difference(env, name, "build (other keys)", _show(rest_a), _show(rest_b), UNEXPLAINED, "build options"))
    args_a, args_b = build_a.get("args") or {}, build_b.get("args") or {}
    if args_a != args_b:
        out.append(Difference(env, name, "build.args", _show(args_a), _show(args_b), UNEXPLAINED, "build arguments"))
    ctx_a, df_a = _where(plan.root, build_a)
    ctx_b, df_b = _where(plan.root, build_b)
    original = plan.dockerfiles.get(df_a)
    if isinstance(inline, str):
        try:
            original = parse_dockerfile(f"{old_name}'s dockerfile_inline", inline)
        except DockerfileError as exc:
            out.append(Difference(env, name, "build.dockerfile_inline", "(inline)", df_b, UNEXPLAINED, f"not a Dockerfile BuildKit can parse: {exc}"))
            return out
        df_a = "(inline)"
        out.append(Difference(env, name, "build.dockerfile_inline", "(inline)", df_b, KEPT, "the inline Dockerfile, written as a file the spec renders"))
    mine = rendered.get(df_b)
    if original is None or mine is None:
        if (ctx_a, df_a, build_a.get("target")) != (ctx_b, df_b, build_b.get("target")):
            out.append(Difference(env, name, "build", f"{df_a} target {build_a.get('target')}", f"{df_b} target {build_b.get('target')}", UNEXPLAINED, "Dockerfile not comparable"))
        return out
    try:
        sa = summarise(original, build_a.get("target"), args_a, ctx_a)
    except DockerfileError as exc:
        # The original cannot build (a target its Dockerfile lacks): the same build as written fails the same way.
        same = (ctx_a, df_a, build_a.get("target")) == (ctx_b, df_b, build_b.get("target")) and original is plan.dockerfiles.get(df_b)
        out.append(Difference(env, name, "build", df_a, df_b, KEPT if same else UNEXPLAINED,
                              f"the original does not build either ({exc}): kept as written; fix the target or the Dockerfile"))  # fmt: skip
        return out
    try:
        sb = summarise(mine, build_b.get("target"), args_b, ctx_b)
    except DockerfileError as exc:
        out.append(Difference(env, name, "build", df_a, df_b, UNEXPLAINED, str(exc)))
        return out
    label_a = f"{df_a}" + (f" target {build_a['target']}" if build_a.get("target") else "") + (f" (context {ctx_a})" if ctx_a != "." else "")
    label_b = f"{df_b} target {build_b.get('target')}" + (f" (context {ctx_b})" if ctx_b != "." else "")
    if sa == sb:
        if (df_a, ctx_a) != (df_b, ctx_b):
            cls, why = CARRIED, "the variant's instructions carried verbatim as a stage of the one Dockerfile; same effective build"
            if ctx_a != ctx_b:
                cls, why = UNIFIED, f"{why}; built from {ctx_b} now (COPY sources rewritten), so that context's .dockerignore applies"
            out.append(Difference(env, name, "build", label_a, label_b, cls, why))
        return out
    for field_name, va in sa.fields().items():
        vb = sb.fields()[field_name]
        if va != vb:
            out.append(Difference(env, name, f"build: {field_name}", str(va), str(vb), UNEXPLAINED, f"{label_a} vs {label_b}"))
    if sa.instructions != sb.instructions and all(sa.fields()[k] == sb.fields()[k] for k in sa.fields()):
        out.append(Difference(env, name, "build: instructions", "\n".join(sa.instructions), "\n".join(sb.instructions), UNEXPLAINED, f"{label_a} vs {label_b}"))
    return out


def _where(root: Path, build: dict[str, Any]) -> tuple[str, str]:
    context = str(build.get("context", "."))
    try:
        rel = Path(context).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = context
    rel = "." if rel in ("", ".") else f"./{rel}"
    dockerfile = build.get("dockerfile") or "Dockerfile"
    if dockerfile == "Dockerfile" and is_local_context(context):
        dockerfile = default_dockerfile(root / rel)
    path = posixpath.normpath(posixpath.join(rel, dockerfile))
    return rel, path


def _compare_service(env: str, name: str, a: dict, b: dict, kind: str, engine: str) -> list[Difference]:
    out: list[Difference] = []
    na, nb = _normal(a), _normal(b)
    # A key only one side has is one difference, not one per leaf.
    whole = {k for k in set(na) ^ set(nb)}
    flat_a = {**_flatten({k: v for k, v in na.items() if k not in whole}), **{k: na[k] for k in whole if k in na}}
    flat_b = {**_flatten({k: v for k, v in nb.items() if k not in whole}), **{k: nb[k] for k in whole if k in nb}}
    for path in sorted(set(flat_a) | set(flat_b)):
        va, vb = flat_a.get(path), flat_b.get(path)
        if va == vb:
            continue
        cls, why = _classify(path, va, vb, kind, engine, a, b)
        out.append(Difference(env, name, path, _show(va), _show(vb), cls, why))
    return out


def _normal(service: dict[str, Any]) -> dict[str, Any]:
    s = {k: v for k, v in service.items() if v is not None}
    if s.get("restart") == "no":
        del s["restart"]
    hc = s.get("healthcheck")
    if isinstance(hc, dict) and (hc.get("disable") or hc.get("test") == ["NONE"]):
        s["healthcheck"] = {"disable": True}  # what else a disabled healthcheck (or a NONE test) says has no effect
    elif isinstance(hc, dict):
        s["healthcheck"] = {k: v for k, v in hc.items() if HEALTHCHECK_DEFAULTS.get(k) != v}
        if not s["healthcheck"]:
            del s["healthcheck"]  # `healthcheck: {}` (or only Docker's defaults) changes nothing
    deploy = s.get("deploy")
    if isinstance(deploy, dict):
        deploy = {k: v for k, v in deploy.items() if v not in ({}, None)}
        if deploy:
            s["deploy"] = deploy
        else:
            del s["deploy"]
    if s.get("networks") == {"default": None}:
        del s["networks"]
    if isinstance(s.get("volumes"), list):
        s["volumes"] = [_without_empty_options(v) for v in s["volumes"]]
    return s


def _without_empty_options(mount: Any) -> Any:
    """``pgdata:/data`` normalises with ``volume: {}``, its long form without: the same mount."""
    if not isinstance(mount, dict):
        return mount
    return {k: v for k, v in mount.items() if not (k in ("volume", "bind", "tmpfs", "image") and v == {})}


def _flatten(value: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, (*path, str(k))))
        return out
    if isinstance(value, list) and is_appended(("services", "*", *path[:1])) and len(path) == 1:
        return {".".join(path): sorted((json.dumps(v, sort_keys=True) for v in value))}
    return {".".join(path): value}


def _classify(path: str, va: Any, vb: Any, kind: str, engine: str, a: dict, b: dict) -> tuple[str, str]:
    if path == "image" and isinstance(va, str) and isinstance(vb, str):
        if normalize_image(va) == normalize_image(vb):
            return BAKED, "fully qualified image name (the same image; podman refuses short names)"
        if engine == "podman" and vb == f"localhost/{va}":
            return BAKED, "podman names local builds localhost/..."
    if path == "healthcheck.test" and isinstance(va, list) and isinstance(vb, list) and engine == "podman":
        if va[:1] == ["CMD"] and vb[:1] == ["CMD-SHELL"] and len(vb) == 2 and shlex.split(vb[1]) == va[1:]:
            return BAKED, "exec form with spaces written as CMD-SHELL (podman 4.3 splits arguments, containers/podman#26519); same command"
    if path == "healthcheck" and va is None and isinstance(vb, dict) and _own_probe(vb, b):
        return BAKED, "runs another service's image: a probe of its own (or none), not that image's HEALTHCHECK"
    if path == "logging" and va is None and kind in ("staging", "prod"):
        return BAKED, f"log rotation added (kind {kind})"
    return UNEXPLAINED, ""


def _own_probe(healthcheck: dict, service: dict) -> bool:
    """The probe dockergen gives a `uses` service: a preset for its command, or `disable`."""
    if healthcheck == {"disable": True}:
        return True
    probe = probe_for(service.get("entrypoint"), service.get("command"))
    return probe is not None and probe.test is not None and healthcheck.get("test") == list(probe.test)


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


# ------------------------------------------------------------------ Dockerfiles


def _compare_dockerfiles(plan: ImportPlan, rendered: dict[str, ParsedDockerfile]) -> tuple[int, list[Difference]]:
    """Every stage of every original Dockerfile against the stage it became."""
    out: list[Difference] = []
    count = 0
    for service, merged in plan.builds.merged.items():
        mine = rendered.get(merged.dockerfile)
        if mine is None:
            out.append(Difference(None, service, "Dockerfile", merged.dockerfile, "(not rendered)", UNEXPLAINED, "the merged Dockerfile is missing"))
            continue
        contexts = {path: _variant_context(plan, path, merged.context) for (path, _) in merged.stage_map}
        for (path, index), stage in sorted(merged.stage_map.items()):
            original = plan.dockerfiles[path]
            count += 1
            target = original.stages[index].name or ("(last stage)" if index == len(original.stages) - 1 else f"#{index}")
            try:
                sa = summarise(original, index, None, contexts[path])
                sb = summarise(mine, [s["name"] for s in merged.stages].index(stage), None, merged.context)  # by place: a last stage may be unnamed
            except DockerfileError as exc:
                out.append(Difference(None, service, f"{path} stage {target}", "", stage, UNEXPLAINED, str(exc)))
                continue
            if sa != sb:
                for field_name, va in sa.fields().items():
                    if va != sb.fields()[field_name]:
                        out.append(Difference(None, service, f"{path} stage {target} -> {stage}: {field_name}", str(va), str(sb.fields()[field_name]), UNEXPLAINED, "Dockerfile stage"))
                if sa.fields() == sb.fields():
                    out.append(Difference(None, service, f"{path} stage {target} -> {stage}: instructions", "\n".join(sa.instructions), "\n".join(sb.instructions), UNEXPLAINED, "Dockerfile stage"))
    return count, out


def _newly_ignored(plan: ImportPlan, files: dict[str, str]) -> list[Difference]:
    """A ``COPY`` source the rendered ``.dockerignore`` leaves out of the context (and the
    original did not) would break that build."""
    out: list[Difference] = []
    for service, merged in sorted(plan.builds.merged.items()):
        context = posixpath.normpath(merged.context[2:] if merged.context.startswith("./") else merged.context)
        rendered = files.get(posixpath.normpath(posixpath.join(context, ".dockerignore")), "")
        new = [line.strip() for line in rendered.splitlines() if line.strip() and not line.startswith("#")]
        for path in sorted({p for p, _ in merged.stage_map}):
            old_context = _variant_context(plan, path, merged.context)
            old_key = posixpath.normpath(old_context[2:] if old_context.startswith("./") else old_context)
            old = plan.facts.ignore_patterns.get(old_key, ())
            for source in newly_excluded(plan.dockerfiles[path], old_context, old, merged.context, new):
                out.append(Difference(None, service, f"{path}: COPY {source}", "in the build context",
                                      "left out by the rendered .dockerignore", UNEXPLAINED,
                                      "the build would fail or miss files: add a `!` pattern to build.ignore"))  # fmt: skip
    return out


def _variant_context(plan: ImportPlan, path: str, default: str) -> str:
    for merged in plan.effective.values():
        for service in merged.services.values():
            build = service.get("build")
            if build and posixpath.normpath(posixpath.join(build.get("context", "."), build.get("dockerfile") or "Dockerfile")) == path:
                return build.get("context", ".")
    return guess_context(plan.root, path, plan.dockerfiles[path]) if path in plan.dockerfiles else default


def summary_line(result: VerifyResult) -> str:
    counts = result.counts()
    parts = [f"{counts.get(c, 0)} {c}" for c in (KEPT, UNIFIED, CARRIED, BAKED, UNEXPLAINED)]
    envs_ok = sum(1 for v in result.compared.values() if v == "ok")
    unset = sorted({name for names in result.placeholders.values() for name in names})
    placeholders = f"; unset here, compared with the same placeholder on both sides: {', '.join(unset)}" if unset else ""
    return (
        f"{len(result.compared)} environments compared ({envs_ok} with the Compose CLI), {result.dockerfiles_compared} Dockerfile "
        f"stages compared; differences: {', '.join(parts)} ({result.seconds:.1f}s, {result.compose_calls} Compose CLI calls){placeholders}"
    )
