"""Run the rules on a rendered project and turn their hits into located findings.

Each service rule runs once per environment; the same hit in several environments is one
finding listing them. A hit is located at the spec layer that set the value (the
highest layer mentioning it, ``null`` included, as ``provenance.labelled_layers``
replays them); a value nobody set (a missing healthcheck) is located at the service.
The spec's ``lint:`` settings then re-grade, switch off or exclude.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockergen.errors import DockergenError, Location, Problem
from dockergen.lint import hadolint
from dockergen.lint.rules import RULES, SEVERITIES, Hit, ImageView, Rule, ServiceView, parse_stages
from dockergen.pipeline import Rendered
from dockergen.provenance import labelled_layers
from dockergen.render.kubernetes import deploying
from dockergen.render.kubernetes.values import k8s_name
from dockergen.render.kubernetes.workload import Notes, environment_manifests
from dockergen.spec.model import Lint, LintRule
from dockergen.unknown_names import require_known

# hadolint codes that find what a dockergen rule finds; the dockergen finding is kept.
SAME_AS = {"DL3006": "DG016", "DL3007": "DG016"}
RANK = {severity: len(SEVERITIES) - i for i, severity in enumerate(SEVERITIES)}  # error 3, warning 2, note 1


@dataclass
class Finding:
    rule: str  # DG005, hadolint/DL3008
    name: str
    severity: str
    message: str
    location: Location
    why: str = ""
    fix: str = ""
    service: str | None = None
    environments: list[str] = field(default_factory=list)
    layer: str | None = None  # the spec layer that set the value
    related: list[Location] = field(default_factory=list)  # where it shows in a generated file
    help_uri: str | None = None

    def fails(self, fail_on: str) -> bool:
        return RANK[self.severity] >= RANK[fail_on]


@dataclass
class Result:
    findings: list[Finding]
    fail_on: str
    environments: list[str]
    hadolint: hadolint.HadolintRun | None  # None: not asked for
    rules: dict[str, Rule]  # the dockergen rules that ran (after `off`)

    @property
    def failed(self) -> bool:
        return any(f.fails(self.fail_on) for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}


def settings(rendered: Rendered) -> Lint:
    return rendered.spec.lint or Lint()


def check_settings(rendered: Rendered) -> None:
    """Unknown rule IDs and services in ``lint:`` are typos: bad input, exit 2."""
    config = settings(rendered)
    source = rendered.loaded.source
    problems = []
    for rule_id, value in (config.rules or {}).items():
        path = ("lint", "rules", rule_id)
        if rule_id.startswith("DG") and rule_id not in RULES:
            problems.append(Problem(f"unknown rule {rule_id!r}", source.locate(path), path, "`dockergen lint --list-rules` lists them"))
        if isinstance(value, LintRule):
            for index, name in enumerate(value.exclude or []):
                if name not in rendered.spec.services:
                    where = (*path, "exclude", index)
                    problems.append(Problem(f"unknown service {name!r}", source.locate(where), where, f"services: {', '.join(rendered.spec.services)}"))
    if problems:
        raise DockergenError(problems)


def run(rendered: Rendered, *, envs: list[str] | None = None, fail_on: str | None = None, use_hadolint: bool | None = None) -> Result:
    config = settings(rendered)
    check_settings(rendered)
    project, source = rendered.project, rendered.loaded.source
    names = list(project.environments)
    require_known("environment", envs or [], names, location=Location(source.file))
    chosen = [e for e in names if not envs or e in envs]
    overrides = _overrides(config)
    active = {rid: r for rid, r in RULES.items() if overrides.get(rid, (None, ()))[0] != "off"}
    dockerfiles = {f.path: f.content for f in rendered.files if f.kind == "dockerfile"}
    stages = {path: parse_stages(text) for path, text in dockerfiles.items()}

    grouped: dict[tuple[Any, ...], Finding] = {}

    def add(rule: Rule, hit: Hit, service: str | None, env: str | None, location: Location, layer: str | None) -> None:
        related = [Location(_shown(rendered, hit.file), hit.line)] if hit.file else []
        key = (rule.id, service, hit.message, str(location))
        finding = grouped.get(key)
        if finding is None:
            finding = grouped[key] = Finding(rule.id, rule.name, rule.severity, hit.message, location, rule.why, rule.fix, service, [], layer, related)
        if env is not None and env not in finding.environments:
            finding.environments.append(env)

    deployments = _deployments(rendered, chosen)
    service_rules = [r for r in active.values() if r.scope == "service"]
    for env_name in chosen:
        env = project.environments[env_name]
        documents = rendered.documents[env_name]["services"]
        for name, service in env.services.items():
            if service.test_of is not None:
                continue  # a copy of a service checked under its own name
            layers = labelled_layers(rendered.spec, env.info, name)
            view = ServiceView(
                env.info, name, service, documents.get(name, {}), stages.get(service.plan.dockerfile, ()) if service.plan else (),
                kubernetes=deployments.get(env_name, {}).get(k8s_name(name)), layers=tuple(layers),
            )
            for rule in service_rules:
                if rule.kinds is not None and env.info.kind not in rule.kinds:
                    continue
                if name in overrides.get(rule.id, (None, ()))[1]:
                    continue
                for hit in rule.check(view):
                    if hit.spec_path is not None:
                        location, layer = source.locate(hit.spec_path), None
                    else:
                        location, layer = _locate(source, layers, name, hit.path)
                    add(rule, hit, name, env_name, location, layer)
    used_images = {s.plan.dockerfile for e in chosen for s in project.environments[e].services.values() if s.plan}
    for rule in [r for r in active.values() if r.scope == "image"]:
        for plan in project.images:
            if plan.dockerfile not in used_images or plan.service in overrides.get(rule.id, (None, ()))[1]:
                continue
            for hit in rule.check(ImageView(plan, stages.get(plan.dockerfile, ()), source)):
                location = source.locate(hit.spec_path) if hit.spec_path else Location(_shown(rendered, plan.dockerfile), hit.line)
                add(rule, hit, plan.service, None, location, None)

    for rule in [r for r in active.values() if r.scope == "project"]:
        for hit in rule.check(rendered.spec):
            add(rule, hit, None, None, source.locate(hit.spec_path or ()), None)

    findings = list(grouped.values())
    lint_run = None
    wanted = config.hadolint if use_hadolint is None else use_hadolint
    if wanted and dockerfiles:
        lint_run = hadolint.run({p: t for p, t in dockerfiles.items() if p in used_images}, rendered.loaded.path.parent)
        ours = {(str(r.file), r.line) for f in findings if f.rule in set(SAME_AS.values()) for r in f.related}
        for h in lint_run.findings:
            location = Location(_shown(rendered, h.dockerfile), h.line, h.column)
            if h.code in SAME_AS and SAME_AS[h.code] in active and (location.file, location.line) in ours:
                continue  # the same finding as a dockergen rule, which also says where in the spec
            findings.append(
                Finding(f"hadolint/{h.code}", h.code, h.severity, h.message, location,
                        fix=f"see {hadolint.help_uri(h.code)}", help_uri=hadolint.help_uri(h.code))  # fmt: skip
            )
    findings = _apply_overrides(findings, overrides)
    findings.sort(key=lambda f: (f.location.file, f.location.line or 0, f.location.column or 0, f.rule, f.message))
    return Result(findings, fail_on or config.fail_on, chosen, lint_run, active)


def _deployments(rendered: Rendered, envs: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """environment -> Deployment name -> the Deployment, for the environments that deploy to Kubernetes."""
    if rendered.spec.output.kubernetes is None:
        return {}
    out = {}
    for target in deploying(rendered.project, rendered.loaded.source):
        if target.env.info.name in envs:
            resources = environment_manifests(rendered.project, target.env, rendered.loaded.source, Notes()).resources
            out[target.env.info.name] = {r["metadata"]["name"]: r for r in resources.values() if r["kind"] == "Deployment"}
    return out


def _overrides(config: Lint) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for rule_id, value in (config.rules or {}).items():
        if isinstance(value, str):
            out[rule_id] = (value, ())
        else:
            out[rule_id] = (value.severity, tuple(value.exclude or ()))
    return out


def _apply_overrides(findings: list[Finding], overrides: dict[str, tuple[str | None, tuple[str, ...]]]) -> list[Finding]:
    out = []
    for finding in findings:
        severity, _ = overrides.get(finding.rule, (None, ()))
        if severity == "off":
            continue
        if severity is not None:
            finding.severity = severity
        out.append(finding)
    return out


def _shown(rendered: Rendered, relative: str) -> str:
    """A generated file's path as the user reaches it: next to the spec as they named it."""
    folder = Path(rendered.loaded.source.file).parent
    return (folder / relative).as_posix() if str(folder) != "." else relative


def _locate(source: Any, layers: list[tuple[str, tuple[str, ...] | None, dict[str, Any]]], name: str, path: tuple[str | int, ...]) -> tuple[Location, str | None]:
    """Where the highest layer mentioning ``path`` (or an ancestor, as ``null``) set it."""
    for label, prefix, layer in reversed(layers):
        node: Any = layer
        matched: list[str | int] = []
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                break
            matched.append(part)
            if node is None:
                break
        if not matched or (len(matched) < len(path) and node is not None):
            continue
        if prefix is None:
            return source.locate(("services", name)), label
        return source.locate((*prefix, *matched)), label
    return source.locate(("services", name)), None
