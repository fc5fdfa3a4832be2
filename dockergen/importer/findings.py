"""Findings: accidental inconsistencies between variants and environments (what to review).

Each detector is a pure function of the ``ImportPlan`` (the files' contents it needs were
read by ``analyze`` into ``plan.facts``) and returns ``Finding``s. They look for the
smells sprawls grow, in general terms: a runtime version only one variant still uses, an
``EXPOSE`` the command does not listen on, the same image at another major version in one
environment, secrets baked into images, a Compose ``environment`` value that silently
beats the ``env_file`` ... The import keeps every such value as it was (the spec must
resolve to the original files); a finding says what to review, or how the import unified it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable

from dockergen.importer.read.interpolate import VAR, interpolate
from dockergen.importer.read.dockerfile import ParsedDockerfile, normalize_image, summarise
from dockergen.importer.plan import ImportPlan
from dockergen.importer.records import Finding
from dockergen.sensitive import looks_secret

REVIEW = "kept as is (the spec reproduces it): review"
SYNONYMS = [{"dev", "development", "develop", "local"}, {"test", "testing", "tests", "ci"}, {"staging", "stage", "stg"},
            {"prod", "production", "prd", "live"}]  # fmt: skip
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\d.])")


def detect(plan: ImportPlan) -> list[Finding]:
    findings: list[Finding] = []
    for detector in DETECTORS:
        try:
            findings.extend(detector(plan))
        except Exception as exc:  # a detector must never stop an import
            findings.append(Finding("internal", f"detector {detector.__name__} failed", f"{type(exc).__name__}: {exc}", "none"))
    findings = _without_inherited(plan, findings)
    numbered = []
    for i, f in enumerate(findings, start=1):
        numbered.append(Finding(f"D{i:02d}", f.title, f.detail, f.action, f.service))
    return numbered


def _without_inherited(plan: ImportPlan, findings: list[Finding]) -> list[Finding]:
    """An overlay environment repeats its base's drift; say it once, for the base."""
    parents = {e.name: e.parent for e in plan.environments if e.parent}
    seen = {(f.title, f.detail) for f in findings}
    out = []
    for f in findings:
        inherited = False
        for child, parent in parents.items():
            if child in f.title:
                if (f.title.replace(child, parent, 1), f.detail.replace(child, parent)) in seen:
                    inherited = True
        if not inherited:
            out.append(f)
    return out


# ------------------------------------------------------------------ helpers


def _final_stages(plan: ImportPlan) -> Iterable[tuple[str, ParsedDockerfile, Any]]:
    for path, parsed in sorted(plan.dockerfiles.items()):
        try:
            yield path, parsed, summarise(parsed, None)
        except Exception:  # noqa: BLE001 - an odd Dockerfile is reported elsewhere
            continue


def _repo_version(image: str) -> tuple[str, str, str] | None:
    """``docker.io/library/python:3.11-slim`` -> ("python", "3.11", "-slim")."""
    ref = normalize_image(image)
    if "$" in ref or "@" in ref:
        return None
    name, _, tag = ref.rpartition(":")
    repo = name.split("/", 1)[1] if name.startswith("docker.io/") else name
    repo = repo[len("library/") :] if repo.startswith("library/") else repo
    match = re.match(r"^v?(\d+(?:\.\d+)*)(.*)$", tag)
    if not match:
        return None
    return repo, match.group(1), match.group(2)


def _services_by_env(plan: ImportPlan) -> Iterable[tuple[str, str, str, dict[str, Any]]]:
    """(env, canonical, original, normalised service) for every service of every environment."""
    for env in plan.environments:
        for original, service in plan.effective[env.name].services.items():
            yield env.name, plan.grouping.canonical[(env.name, original)], original, service


def _values(plan: ImportPlan) -> dict[str, str]:
    return dict(plan.facts.dotenv)


def _variants(plan: ImportPlan, env: str, text: str) -> list[tuple[str, str]]:
    """``text`` interpolated with .env, and with each other value a switch variable takes in
    this environment: a variable whose value names one of the environment's profiles
    (``NETRA_ENV=dev`` in a file with profiles dev and test) is also tried with the others."""
    values = _values(plan)
    out = [(interpolate(text, values), "")]
    profiles = {p for s in plan.effective[env].services.values() for p in s.get("profiles") or []}
    for m in VAR.finditer(text):
        name = m.group(1) or m.group(4)
        if not name:
            continue
        current = interpolate(m.group(0), values)
        if current in profiles:
            for other in sorted(profiles - {current}):
                out.append((interpolate(text, {**values, name: other}), f"{name}={other}"))
    return out


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _major(version: str) -> str:
    return version.split(".")[0]


# ------------------------------------------------------------------ detectors


def stale_runtimes(plan: ImportPlan) -> list[Finding]:
    """A base image version that only a few Dockerfiles still use."""
    versions: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path, parsed, _ in _final_stages(plan):
        for stage in parsed.stages:
            rv = _repo_version(_resolved_base(parsed, stage.base))
            if rv and rv[0] in RUNTIMES:
                versions[rv[0]][_minor(rv[1]) if rv[0] == "python" else _major(rv[1])].append(path)
    out = []
    for repo, by_version in versions.items():
        if len(by_version) < 2:
            continue
        users = {v: sorted(set(p)) for v, p in by_version.items()}
        main = max(users, key=lambda v: len(users[v]))
        for version, paths in users.items():
            if version != main and len(paths) < len(users[main]):
                out.append(Finding("", f"stale {repo} runtime: {repo} {version}",
                                   f"{', '.join(paths)} build on {repo} {version}; {len(users[main])} other Dockerfiles use {repo} {main}",
                                   REVIEW))  # fmt: skip
    return out


RUNTIMES = {"python", "node", "ruby", "golang", "openjdk", "eclipse-temurin", "php", "rust", "dotnet/sdk", "dotnet/aspnet"}


def _resolved_base(parsed: ParsedDockerfile, base: str) -> str:
    from dockergen.importer.read.dockerfile import substitute

    return substitute(base, {k: v for k, v in parsed.global_args})


PORT_IN_COMMAND = re.compile(r"(?:--port[= ]|-p[= ]|--bind[= ]\S*:|-b[= ]\S*:|--listen[= ]\S*:|0\.0\.0\.0:|localhost:|127\.0\.0\.1:|PORT=)(\d{2,5})")


def expose_mismatch(plan: ImportPlan) -> list[Finding]:
    out = []
    for path, _, summary in _final_stages(plan):
        text = " ".join(x for x in (summary.cmd, summary.entrypoint, summary.healthcheck) if x)
        text = text.replace('", "', " ")
        listening = set(PORT_IN_COMMAND.findall(text))
        exposed = {p.split("/")[0] for p in summary.expose}
        stray = sorted(exposed - listening)
        if listening and stray:
            out.append(Finding("", f"EXPOSE {' '.join(stray)} in {path}",
                               f"the command listens on {', '.join(sorted(listening))}, but the image EXPOSEs {', '.join(sorted(exposed))}",
                               REVIEW))  # fmt: skip
    return out


def image_versions(plan: ImportPlan) -> list[Finding]:
    """The same service on another image version in some environment; a Dockerfile built on
    another major version of an image a service runs (a client that cannot talk to the server)."""
    out = []
    by_service: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for env, canonical, _, service in _services_by_env(plan):
        image = service.get("image")
        if not image or service.get("build"):
            continue
        rv = _repo_version(interpolate(image, _values(plan)))
        if rv is None:
            continue
        by_service[canonical][f"{rv[0]}:{rv[1]}{rv[2]}"].append(env)
    for service, tags in by_service.items():
        repos = Counter(t.split(":")[0] for t in tags)
        for repo in repos:
            mine = {t: e for t, e in tags.items() if t.split(":")[0] == repo}
            majors = {t: _major(t.split(":")[1]) for t in mine}
            if len(set(majors.values())) < 2:
                continue
            main = max(mine, key=lambda t: len(mine[t]))
            for tag, envs in mine.items():
                if majors[tag] != majors[main]:
                    out.append(Finding("", f"{service} runs {tag} in {', '.join(envs)}",
                                       f"every other environment runs {main} ({', '.join(mine[main])})", REVIEW, service))  # fmt: skip
    from dockergen.importer.read.compose import dockerfile_path

    for env, canonical, _, service in _services_by_env(plan):
        build = service.get("build")
        parsed = plan.dockerfiles.get(dockerfile_path(build)) if build else None
        if parsed is None or parsed.target_index(build.get("target")) is None:  # a missing target: `missing_targets`
            continue
        rv = _repo_version(summarise(parsed, build.get("target")).base_image)
        if rv is None:
            continue
        for other_env, other, _, runtime in _services_by_env(plan):
            if other_env != env or runtime.get("build") or not runtime.get("image"):
                continue
            theirs = _repo_version(interpolate(runtime["image"], _values(plan)))
            if theirs and theirs[0] == rv[0] and _major(theirs[1]) != _major(rv[1]):
                out.append(Finding("", f"{canonical} builds on {rv[0]} {_major(rv[1])}, {other} runs {rv[0]} {_major(theirs[1])} in {env}",
                                   f"{dockerfile_path(build)} is {rv[0]}:{rv[1]}{rv[2]}; tools of one major version often refuse "
                                   "another (pg_dump 15 cannot dump a 16 server)", REVIEW, canonical))  # fmt: skip
    return out


def missing_targets(plan: ImportPlan) -> list[Finding]:
    """A build whose ``target`` its Dockerfile does not have: the original fails to build."""
    from dockergen.importer.read.compose import dockerfile_path

    out: dict[tuple[str, str, str], list[str]] = {}
    for env, canonical, _, service in _services_by_env(plan):
        build = service.get("build")
        parsed = plan.dockerfiles.get(dockerfile_path(build)) if build else None
        if parsed is not None and build.get("target") and parsed.target_index(build["target"]) is None:
            out.setdefault((canonical, str(build["target"]), parsed.path), []).append(env)
    return [
        Finding("", f"{service} builds target {target}, which {path} does not have",
                f"in {', '.join(envs)}; its stages: {', '.join(s.name or f'#{s.index} (unnamed)' for s in plan.dockerfiles[path].stages)}. "
                "`docker compose build` fails on the original files too", REVIEW, service)  # fmt: skip
        for (service, target, path), envs in sorted(out.items())
    ]


def users(plan: ImportPlan) -> list[Finding]:
    root, others = [], Counter()
    for path, _, summary in _final_stages(plan):
        user = summary.user
        if user.startswith("(") or user.split(":")[0] in ("root", "0"):
            root.append(path)
        else:
            others[user] += 1
    if root and others:
        return [Finding("", f"{len(root)} images run as root, {sum(others.values())} as {len(others)} different users",
                        f"root: {', '.join(root)}; users: {', '.join(f'{u} ({n})' for u, n in others.most_common())}", REVIEW)]  # fmt: skip
    return []


def healthchecks(plan: ImportPlan) -> list[Finding]:
    out = []
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for service, merged in plan.builds.merged.items():
        for (path, index) in merged.stage_map:
            parsed = plan.dockerfiles[path]
            if index != len(parsed.stages) - 1:
                continue
            summary = summarise(parsed, index)
            seen[service][_mechanism(summary.healthcheck)].append(path)
    for env, canonical, _, service in _services_by_env(plan):
        hc = service.get("healthcheck")
        if hc and hc.get("test"):
            test = hc["test"] if isinstance(hc["test"], str) else " ".join(hc["test"])
            seen[canonical][_mechanism(test) + f" every {hc.get('interval', '30s')}"].append(f"compose {env}")
    for service, mechanisms in seen.items():
        kinds = {m.split(" every")[0] for m in mechanisms}
        if len(kinds) > 1 or len({m for m in mechanisms if "every" in m}) > 1:
            detail = "; ".join(f"{m}: {', '.join(sorted(set(w))[:4])}{' ...' if len(set(w)) > 4 else ''}" for m, w in sorted(mechanisms.items()))
            out.append(Finding("", f"{service}: health checked {len(mechanisms)} different ways", detail, REVIEW, service))
    return out


def _mechanism(text: str | None) -> str:
    if not text:
        return "no healthcheck"
    for word in ("curl", "wget", "pg_isready", "redis-cli", "urllib", "fetch", "nc "):
        if word in text:
            return {"urllib": "python urllib", "fetch": "node fetch", "nc ": "nc"}.get(word, word)
    return "other command"


def base_spelling(plan: ImportPlan) -> list[Finding]:
    spellings: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path, parsed, _ in _final_stages(plan):
        for stage in parsed.stages:
            if parsed.stage_index(stage.base) is not None:
                continue
            written = _resolved_base(parsed, stage.base)
            rv = _repo_version(written)
            if rv:
                spellings[(rv[0], _major(rv[1]) if rv[0] == "node" else rv[1])].add(written)
            elif ":" not in written.rsplit("/", 1)[-1] and "@" not in written and written != "scratch":
                spellings[(written, "latest")].add(written + " (no tag)")
    out = []
    for (repo, version), written in sorted(spellings.items()):
        if len(written) > 1:
            # The steps keep every base as written: say so, and whether the spellings are one image.
            same = len({normalize_image(w.removesuffix(" (no tag)")) for w in written}) == 1
            out.append(Finding("", f"{repo} {version} is spelled {len(written)} ways", ", ".join(sorted(written)),
                               "kept as written: " + ("the same image under other names" if same else
                                                      "different images of one version (one base would share its layers and fixes)")))  # fmt: skip
    return out


PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def pins(plan: ImportPlan) -> list[Finding]:
    files: dict[str, dict[str, str]] = {}
    for path, text in plan.facts.requirements.items():
        files[path] = {}
        for line in text.splitlines():
            m = PIN.match(line.strip())
            if m:
                files[path][_pkg(m.group(1))] = m.group(3)
    inline: dict[str, dict[str, str]] = defaultdict(dict)
    unpinned: list[str] = []
    for path, parsed in plan.dockerfiles.items():
        for stage in parsed.stages:
            for ins in stage.instructions:
                if ins.cmd != "RUN":
                    continue
                text = " ".join(ins.value)
                for command in re.split(r"&&|;|\|\|", text):
                    words = command.split()
                    if "pip" not in words[:3] and not any(w.endswith("/pip") for w in words[:3]):
                        continue
                    if "install" not in words:
                        continue
                    args = words[words.index("install") + 1 :]
                    skip = False
                    for arg in args:
                        if skip:
                            skip = False
                            continue
                        if arg in ("-r", "-c", "--requirement", "--constraint", "-t", "--target", "--prefix", "-i", "--index-url"):
                            skip = True
                            continue
                        if arg.startswith("-") or arg in ("\\",):
                            continue
                        m = PIN.match(arg)
                        if m:
                            inline[path][_pkg(m.group(1))] = m.group(3)
                        elif re.match(r"^[A-Za-z][A-Za-z0-9._-]*$", arg):
                            unpinned.append(f"{path}: {' '.join(command.split())}")
    out = []
    reference: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path, pins_ in [*files.items(), *inline.items()]:
        for pkg, version in pins_.items():
            reference[pkg].add((version, path))
            reference[_family(pkg)].add((version, path)) if _family(pkg) != pkg else None
    for path, pins_ in inline.items():
        for pkg, version in pins_.items():
            others = {(v, p) for v, p in reference.get(pkg, set()) | reference.get(_family(pkg), set()) if p != path and v != version}
            if others:
                where = ", ".join(sorted(f"{p} ({v})" for v, p in others))
                out.append(Finding("", f"{pkg}=={version} pinned in {path}", f"other pins: {where}", REVIEW))
            family = {_pkg(k) for p, d in files.items() for k in d if _family(k) == _family(pkg) and k != pkg}
            if family:
                out.append(Finding("", f"{pkg} in {path}", f"while requirements use {', '.join(sorted(family))} (another build of the same driver)", REVIEW))
    if unpinned:
        out.append(Finding("", "unpinned pip installs", "; ".join(sorted(set(unpinned))), REVIEW))
    return out


def _pkg(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _family(name: str) -> str:
    return re.sub(r"-(binary|bin|headless)$", "", _pkg(name))


def tag_collisions(plan: ImportPlan) -> list[Finding]:
    from dockergen.importer.read.compose import dockerfile_path

    roots = {e.name: e.name if not e.parent else next(x.name for x in plan.environments if x.name == _root(plan, e.name)) for e in plan.environments}
    builds: dict[str, set[tuple[str, str]]] = defaultdict(set)  # tag -> {(dockerfile/target, where)}
    for env, _, _, service in _services_by_env(plan):
        build = service.get("build")
        image = service.get("image")
        if not build or not image:
            continue
        what = dockerfile_path(build) + (f" target {build['target']}" if build.get("target") else "")
        for tag, switch in _variants(plan, env, image):
            builds[tag].add((what, f"{env} with {switch}" if switch else env))
    out = []
    for tag, uses in sorted(builds.items()):
        sources = {w for w, _ in uses}
        if len(sources) > 1:
            out.append(Finding("", f"image tag {tag} built from {len(sources)} different Dockerfiles",
                               "; ".join(f"{w} in {e}" for w, e in sorted(uses)), REVIEW))  # fmt: skip
        elif len({roots.get(e, e) for _, e in uses if " with " not in e}) > 1:
            out.append(Finding("", f"image tag {tag} built by {len({roots.get(e, e) for _, e in uses})} stacks",
                               f"{next(iter(sources))} in {', '.join(sorted(e for _, e in uses))}", REVIEW))  # fmt: skip
    return out


def _root(plan: ImportPlan, name: str) -> str:
    by_name = {e.name: e for e in plan.environments}
    while by_name[name].parent in by_name:
        name = by_name[name].parent  # type: ignore[assignment]
    return name


def value_spellings(plan: ImportPlan) -> list[Finding]:
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    values = _values(plan)
    del values
    for env, canonical, _, service in _services_by_env(plan):
        for key, value in (service.get("environment") or {}).items():
            if value is not None:
                for text, switch in _variants(plan, env, value):
                    seen[key][text.strip().lower()].add(f"{canonical}@{env}" + (f" with {switch}" if switch else ""))
    out = []
    for key, by_value in seen.items():
        for group in SYNONYMS:
            used = sorted(v for v in by_value if v in group)
            if len(used) > 1:
                out.append(Finding("", f"{key} spelled {' / '.join(used)}",
                                   "; ".join(f"{v}: {', '.join(sorted(by_value[v])[:4])}" for v in used), REVIEW))  # fmt: skip
    return out


def environment_beats_env_file(plan: ImportPlan) -> list[Finding]:
    out = []
    values = _values(plan)
    for env, canonical, _, service in _services_by_env(plan):
        files = service.get("env_file") or []
        environment = service.get("environment") or {}
        for entry in files:
            path = posixpath.normpath(entry["path"][2:] if entry["path"].startswith("./") else entry["path"])
            content = plan.facts.env_files.get(path, {})
            for key, value in content.items():
                if key in environment and environment[key] is not None:
                    effective = interpolate(environment[key], values)
                    if effective != value:
                        out.append(Finding("", f"{canonical} in {env}: environment {key} overrides {entry['path']}",
                                           f"`environment` gives {key}={effective!r} (from {environment[key]!r}), which beats "
                                           f"{entry['path']}'s value; the env_file value never arrives", REVIEW, canonical))  # fmt: skip
    return out


def command_repeats_cmd(plan: ImportPlan) -> list[Finding]:
    out = []
    used: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for env, canonical, _, service in _services_by_env(plan):
        build = service.get("build")
        if not build:
            continue
        from dockergen.importer.read.compose import dockerfile_path

        path = dockerfile_path(build)
        parsed = plan.dockerfiles.get(path)
        if parsed is None:
            continue
        try:
            summary = summarise(parsed, build.get("target"))
        except Exception:  # noqa: BLE001
            continue
        command = service.get("command")
        used[path].append((env, command is not None))
        if not command or not summary.cmd or not summary.cmd.startswith("["):
            continue
        image = json.loads(summary.cmd)
        mine = command if isinstance(command, list) else command.split()
        if len(image) == len(mine):
            changed = [(a, b) for a, b in zip(image, mine) if a != b]
            if 0 < len(changed) <= 2:
                what = ", ".join(f"{a} -> {b}" for a, b in changed)
                out.append(Finding("", f"{canonical} in {env}: command repeats the image CMD to change {what}",
                                   f"the Compose command is {path}'s CMD but for that value; a build arg or an environment "
                                   "variable would say it once", REVIEW, canonical))  # fmt: skip
    for path, uses in used.items():
        if uses and all(overridden for _, overridden in uses):
            summary = summarise(plan.dockerfiles[path], None)
            if summary.cmd:
                out.append(Finding("", f"{path}: default CMD never used",
                                   f"every environment that builds it overrides `command` ({', '.join(sorted({e for e, _ in uses}))}); "
                                   f"CMD {summary.cmd} is dead", REVIEW))  # fmt: skip
    return out


def outliers(plan: ImportPlan) -> list[Finding]:
    out = []
    for env in plan.environments:
        services = {plan.grouping.canonical[(env.name, o)]: s for o, s in plan.effective[env.name].services.items()}
        restarts = Counter(s.get("restart") for s in services.values() if s.get("restart"))
        if len(restarts) > 1:
            main, count = restarts.most_common(1)[0]
            odd = sorted(n for n, s in services.items() if s.get("restart") and s.get("restart") != main)
            if count >= 2 * len(odd):
                listed = ", ".join(f"{n}: {services[n].get('restart')}" for n in odd)
                out.append(Finding("", f"{env.name}: restart policy of {', '.join(odd)} differs",
                                   f"{listed}; the other {count} services use {main}", REVIEW))  # fmt: skip
        patterns = {}
        for name, s in services.items():
            if s.get("build") and s.get("image"):
                patterns[name] = s["image"].replace(name, "<service>")
        if len(patterns) >= 3:
            counts = Counter(patterns.values())
            main, count = counts.most_common(1)[0]
            odd = sorted(n for n, p in patterns.items() if p != main)
            if count >= 2 and odd and count >= 2 * len(odd):
                listed = ", ".join(f"{n}: {services[n]['image']}" for n in odd)
                out.append(Finding("", f"{env.name}: image naming of {', '.join(odd)} differs",
                                   f"{listed}; the other {count} follow {main}", REVIEW))  # fmt: skip
        from dockergen.importer.read.compose import dockerfile_path

        word = env.name.split("-")[0]
        built = {n: dockerfile_path(s["build"]) for n, s in services.items() if s.get("build") and word in (s.get("image") or "")}
        if not any(word in posixpath.basename(p) for p in built.values()):
            continue
        for name, path in built.items():
            image = services[name]["image"]
            shared = [e.name for e in plan.environments if e.name != env.name and any(
                o.get("build") and dockerfile_path(o["build"]) == path for o in plan.effective[e.name].services.values())]  # fmt: skip
            if shared and word not in posixpath.basename(path):
                out.append(Finding("", f"{env.name}: {name} has a {word} image name but no {word} build",
                                   f"{image} is built from {path}, the same Dockerfile as in {', '.join(shared[:3])}", REVIEW, name))  # fmt: skip
    return out


BUILD_TIME = re.compile(r"^(NEXT_PUBLIC_|VITE_|REACT_APP_|NUXT_PUBLIC_|GATSBY_|PUBLIC_)")


def build_time_env_at_runtime(plan: ImportPlan) -> list[Finding]:
    out = []
    from dockergen.importer.read.compose import dockerfile_path

    for env, canonical, _, service in _services_by_env(plan):
        build = service.get("build")
        keys = sorted(k for k in (service.get("environment") or {}) if BUILD_TIME.match(k))
        if not build or not keys:
            continue
        parsed = plan.dockerfiles.get(dockerfile_path(build))
        if parsed is None or parsed.target_index(build.get("target")) is None:  # a missing target: `missing_targets`
            continue
        summary = summarise(parsed, build.get("target"))
        chain = " ".join(summary.instructions)
        production = re.search(r"(npm|yarn|pnpm) run build|next build|vite build", chain) and not re.search(r"\b(dev|develop)\b", summary.cmd or "")
        if production:
            out.append(Finding("", f"{canonical} in {env}: {', '.join(keys)} set at run time",
                               "the image is a production build, which inlined these values at build time; the runtime value does nothing "
                               "(pass them as build args)", REVIEW, canonical))  # fmt: skip
    return out


def env_example(plan: ImportPlan) -> list[Finding]:
    facts = plan.facts
    if facts.env_example is None:
        return []
    used = set(facts.interpolated)
    documented = set(facts.env_example)
    out = []
    missing = sorted(used - documented)
    if missing:
        out.append(Finding("", f"{facts.env_example_path} lacks {len(missing)} variable(s) the Compose files use", ", ".join(missing),
                           "unified: the rendered .env.example lists every variable the Compose files read (with the original's "
                           "descriptions and defaults)"))  # fmt: skip
    if facts.dotenv:
        extra = sorted(documented - set(facts.dotenv))
        if extra:
            out.append(Finding("", f"{facts.env_example_path} has variables .env lacks", ", ".join(extra), REVIEW))
    shipped = sorted({f"{c}@{e}" for e, c, _, s in _services_by_env(plan) for f in s.get("env_file") or [] if f["path"] in ("./.env", ".env")})
    if shipped:
        secrets = sorted(k for k in facts.dotenv if looks_secret(k))
        out.append(Finding("", "env_file: .env ships every interpolation variable into containers",
                           f"{', '.join(shipped[:6])}{' ...' if len(shipped) > 6 else ''} get all of .env, including {', '.join(secrets[:6])}",
                           REVIEW))  # fmt: skip
    return out


def secrets_in_images(plan: ImportPlan) -> list[Finding]:
    out = []
    for path, parsed in sorted(plan.dockerfiles.items()):
        for stage in parsed.stages:
            for ins in stage.instructions:
                if ins.cmd == "ENV" and len(ins.value) % 2 == 0:
                    pairs = list(zip(ins.value[0::2], ins.value[1::2]))
                elif ins.cmd == "ARG":
                    pairs = [tuple(v.split("=", 1)) for v in ins.value if "=" in v]
                else:
                    continue
                for key, value in pairs:
                    if looks_secret(key) and value and not value.startswith("$"):
                        out.append(Finding("", f"secret baked into {path}", f"{ins.cmd} {key}=… (line {ins.line}): it stays in the image's history", REVIEW))
    return out


def hardcoded_ips(plan: ImportPlan) -> list[Finding]:
    out = []
    for env in plan.environments:
        services = plan.effective[env.name].services
        with_ips = []
        for original, s in services.items():
            ips = sorted({ip for v in (s.get("environment") or {}).values() if v for ip in IPV4.findall(v) if not ip.startswith(("0.", "127."))})
            if ips:
                with_ips.append(f"{original} ({', '.join(ips)})")
        if with_ips:
            out.append(Finding("", f"{env.name}: IP addresses in environment values", "; ".join(with_ips) + ": they break when the network changes; "
                               "other services use names", REVIEW))  # fmt: skip
        hosts = {o for o, s in services.items() if s.get("extra_hosts")}
        if hosts and len(hosts) < len(services):
            out.append(Finding("", f"{env.name}: extra_hosts on {len(hosts)} of {len(services)} services",
                               f"without: {', '.join(sorted(set(services) - hosts))}", REVIEW))  # fmt: skip
    return out


def host_ports(plan: ImportPlan) -> list[Finding]:
    published: dict[tuple[str, int, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    container_names: dict[str, list[str]] = defaultdict(list)
    kinds = {e.name: e.kind for e in plan.environments}
    for env, canonical, _, service in _services_by_env(plan):
        for port in service.get("ports") or []:
            if isinstance(port.get("target"), int) and port.get("published"):
                key = (canonical, port["target"], kinds[env])
                published[key][interpolate(str(port["published"]), _values(plan))].append(env)
        if service.get("container_name"):
            container_names[env].append(canonical)
    out = []
    for (service, target, kind), by_host in sorted(published.items()):
        if len(by_host) > 1:
            out.append(Finding("", f"{service}:{target} published on {len(by_host)} host ports in {kind} environments",
                               "; ".join(f"{h}: {', '.join(e)}" for h, e in sorted(by_host.items())), REVIEW, service))  # fmt: skip
    if container_names and len(container_names) < len(plan.environments):
        out.append(Finding("", f"container_name only in {', '.join(sorted(container_names))}",
                           "fixed container names stop two stacks (or two checkouts) from running side by side", REVIEW))  # fmt: skip
    return out


def host_mounts(plan: ImportPlan) -> list[Finding]:
    """Bind mounts of host paths outside the imported folder (``../x``, ``/:/host``, ``~/.ssh``):
    the spec carries them faithfully (it must reproduce the originals), and the report says
    which part of the host whoever runs the stack hands the container."""
    found: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for env in plan.environments:
        base = posixpath.dirname(env.files[0]) if env.files else ""  # Compose's project folder: the first file's
        for original, service in plan.effective[env.name].services.items():
            for item in service.get("volumes") or []:
                if isinstance(item, dict) and item.get("type") == "bind":
                    source = interpolate(str(item.get("source") or ""), _values(plan))
                    where = _host_place(source, base)
                    if where:
                        found[(plan.grouping.canonical[(env.name, original)], source, where)].append(env.name)
    return [Finding("", f"{service} bind-mounts {source}: {where}", f"in {', '.join(envs)}; carried into the spec as it was, "
                    "so the container reads (and unless read-only, writes) that part of the host", REVIEW, service)
            for (service, source, where), envs in sorted(found.items())]  # fmt: skip


def _host_place(source: str, base: str) -> str | None:
    """What ``source`` (a bind mount's, relative to the folder ``base``) reaches outside the project, or None."""
    if source.startswith("~"):
        return "a folder of the user's home, outside the project"
    if not source.startswith("/"):
        normal = posixpath.normpath(posixpath.join(base, source))
        return "outside the project folder" if normal == ".." or normal.startswith("../") else None
    normal = posixpath.normpath(source)
    if normal in ("/", "//"):
        return "the host's whole file system"
    if normal.endswith(".sock"):
        return "a host socket (the Docker or podman socket gives root on the host)"
    return "an absolute host path"


def version_key(plan: ImportPlan) -> list[Finding]:
    files = sorted(p for p, f in plan.facts.compose_files.items() if f.version is not None)
    if not files:
        return []
    return [Finding("", f"obsolete `version:` key in {len(files)} Compose files", ", ".join(files),
                    "unified: the rendered Compose files have none (Compose ignores it and warns)")]  # fmt: skip


def dockerignore_blind_spot(plan: ImportPlan) -> list[Finding]:
    contexts = set()
    for _, _, _, service in _services_by_env(plan):
        if service.get("build"):
            contexts.add(service["build"].get("context", "."))
    have = {c for c in contexts if posixpath.normpath(c.lstrip("./") or ".") in plan.facts.dockerignores}
    lacking = sorted(contexts - have)
    if have and lacking:
        moved = [c for c in lacking if any(c in n for m in plan.builds.merged.values() for n in m.notes)]
        action = REVIEW
        if moved:
            action = f"unified: builds from {', '.join(moved)} now use the shared context and its .dockerignore"
        return [Finding("", f"build contexts without a .dockerignore: {', '.join(lacking)}",
                        f"{', '.join(sorted(have))} has one; builds from the others send everything (caches, node_modules)", action)]  # fmt: skip
    return []


HOST_REF = re.compile(r"(?:https?://|--tcp[= ])([a-z][a-z0-9_-]*)[:/]")


def unknown_hosts_in_cmd(plan: ImportPlan) -> list[Finding]:
    out = []
    names_by_env = {e.name: set(plan.effective[e.name].services) for e in plan.environments}
    from dockergen.importer.read.compose import dockerfile_path

    users_of: dict[str, set[str]] = defaultdict(set)
    for env, _, _, service in _services_by_env(plan):
        if service.get("build"):
            users_of[dockerfile_path(service["build"])].add(env)
    for path, parsed, summary in _final_stages(plan):
        hosts = set(HOST_REF.findall(" ".join(x for x in (summary.cmd, summary.entrypoint) if x)))
        hosts |= {h for _, v in summary.env for h in HOST_REF.findall(v)}
        hosts -= {"localhost"}
        envs = users_of.get(path) or set()
        everywhere = {e for e in names_by_env}
        missing = {h for h in hosts if not any(h in names_by_env[e] for e in (envs or everywhere))}
        if missing:
            out.append(Finding("", f"{path} defaults point at {', '.join(sorted(missing))}",
                               f"no service of that name in {', '.join(sorted(envs)) or 'any environment'}; every use must override it",
                               REVIEW))  # fmt: skip
    return out


DETECTORS: list[Callable[[ImportPlan], list[Finding]]] = [
    stale_runtimes,
    expose_mismatch,
    image_versions,
    missing_targets,
    users,
    healthchecks,
    base_spelling,
    pins,
    tag_collisions,
    value_spellings,
    environment_beats_env_file,
    command_repeats_cmd,
    outliers,
    build_time_env_at_runtime,
    env_example,
    secrets_in_images,
    hardcoded_ips,
    host_ports,
    host_mounts,
    version_key,
    dockerignore_blind_spot,
    unknown_hosts_in_cmd,
]
