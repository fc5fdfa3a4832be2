"""Dockerfiles as plain values, parsed by BuildKit's own parser (PyPI ``dockerfile``).

``parse_dockerfile`` turns text into stages and one-line instructions; ``summarise``
describes what one build target produces (base image, effective instructions, user,
ports, healthcheck, entrypoint/cmd, env) in a form that is independent of stage names,
of the build context's location and of ``ARG`` spelling in ``FROM``, so that two
Dockerfiles can be compared semantically.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field

from dockergen.text import is_number

# Instructions BuildKit knows; anything else is "not understood".
KNOWN = {
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip
DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
ARG_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class DockerfileError(ValueError):
    """A Dockerfile that cannot be parsed at all."""


@dataclass(frozen=True)
class Instruction:
    cmd: str  # upper-case keyword
    original: str  # the instruction on one line (continuations joined by the parser)
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    line: int
    sub_cmd: str | None = None
    heredoc: bool = False
    comments: tuple[str, ...] = ()
    heredocs: tuple[str, ...] = ()  # each heredoc's content, as BuildKit reads it  # the comment lines right above it, without their `#`
    escape: str = "\\"  # the Dockerfile's escape character (`# escape=`)


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # `AS name`, lower-cased like BuildKit does
    base: str  # the FROM argument, as written
    from_flags: tuple[str, ...]
    instructions: tuple[Instruction, ...]
    comments: tuple[str, ...] = ()  # the comment lines above its FROM

    @property
    def platform(self) -> str | None:
        """``FROM --platform=X`` -> ``X``."""
        return next((f.split("=", 1)[1] for f in self.from_flags if f.startswith("--platform=")), None)


@dataclass(frozen=True)
class ParsedDockerfile:
    path: str
    syntax: str | None
    escape: str | None
    global_args: tuple[tuple[str, str | None], ...]
    stages: tuple[Stage, ...]
    obstacles: tuple[str, ...] = ()  # what prevents carrying it as generic stages
    directives: tuple[tuple[str, str], ...] = ()  # parser directives, in order (syntax, escape, check)
    global_arg_lines: tuple[str, ...] = ()  # each ARG before the first FROM, as written after `ARG`
    global_comments: tuple[str, ...] = ()  # comments above the first ARG/FROM (after the directives)

    def stage_index(self, ref: str) -> int | None:
        """The stage a ``FROM``/``--from`` reference names (by name or index), else None."""
        lowered = ref.lower()
        for stage in self.stages:
            if stage.name == lowered:
                return stage.index
        if is_number(ref) and int(ref) < len(self.stages):
            return int(ref)
        return None

    def target_index(self, target: str | int | None) -> int | None:
        if isinstance(target, int):
            return target if 0 <= target < len(self.stages) else None
        if target is None:
            return len(self.stages) - 1 if self.stages else None
        for stage in self.stages:
            if stage.name == target.lower():
                return stage.index
        return None


def parse_dockerfile(path: str, text: str) -> ParsedDockerfile:
    """Parse ``text``; raise ``DockerfileError`` when it is not a Dockerfile at all."""
    import dockerfile  # BuildKit's parser; imported here so the rest of dockergen never needs it

    if "\0" in text:  # the parser takes a C string: it would read the file as ending there
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DockerfileError(f"line {line}: a NUL byte, which no Dockerfile holds")
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        raise DockerfileError(str(exc)) from None
    directives = _directives(text)
    lines = text.replace("\r\n", "\n").split("\n")
    obstacles: list[str] = []
    global_args: list[tuple[str, str | None]] = []
    global_lines: list[str] = []
    global_comments: tuple[str, ...] = ()
    stages: list[Stage] = []
    current: dict | None = None
    previous_end = len(directives)  # comments start after the directives
    for c in commands:
        cmd = c.cmd.upper()
        comments = _comments_between(lines, previous_end, c.start_line)
        if not c.heredocs:  # comments between a `\` continuation's lines (in a heredoc, `#` lines are its text)
            comments += _comments_between(lines, c.start_line, c.end_line + 1)
        previous_end = c.end_line
        ins = Instruction(
            cmd,
            c.original,
            tuple(c.flags),
            tuple(c.value),
            bool(c.json),
            c.start_line,
            c.sub_cmd.upper() if c.sub_cmd else None,
            bool(c.heredocs),
            comments,
            tuple(h.content for h in c.heredocs),
            directives.get("escape", "\\"),
        )
        if cmd not in KNOWN:
            raise DockerfileError(f"line {c.start_line}: unknown instruction {c.cmd!r}")
        if cmd == "FROM":
            if not c.value:
                raise DockerfileError(f"line {c.start_line}: FROM without an image")
            if len(c.value) not in (1, 3) or len(c.value) == 3 and c.value[1].upper() != "AS":
                # as BuildKit refuses it (a lone carriage return is no line break to it, but blank)
                raise DockerfileError(f"line {c.start_line}: FROM takes an image and an optional `AS name`, not {c.original!r}")
            name = c.value[2].lower() if len(c.value) >= 3 and c.value[1].upper() == "AS" else None
            if any(not f.startswith("--platform=") for f in c.flags):
                obstacles.append(f"line {c.start_line}: FROM {' '.join(c.flags)}")
            if current is not None:
                stages.append(_stage(current))
            elif not global_lines:
                global_comments, comments = comments, ()
            current = {"index": len(stages), "name": name, "base": c.value[0], "flags": tuple(c.flags), "ins": [], "comments": comments}
            continue
        if current is None:
            if cmd != "ARG":
                raise DockerfileError(f"line {c.start_line}: {cmd} before the first FROM")
            if not global_lines:
                global_comments = comments
            global_lines.append(_after_keyword(c.original, "ARG"))
            for item in c.value:
                key, sep, default = item.partition("=")
                global_args.append((key, _unquote(default) if sep else None))
            continue
        current["ins"].append(ins)
    if current is None:
        raise DockerfileError("no FROM instruction")
    stages.append(_stage(current))
    return ParsedDockerfile(
        path, directives.get("syntax"), directives.get("escape"), tuple(global_args), tuple(stages), tuple(obstacles),
        tuple(directives.items()), tuple(global_lines), global_comments,
    )  # fmt: skip


def _stage(raw: dict) -> Stage:
    return Stage(raw["index"], raw["name"], raw["base"], raw["flags"], tuple(raw["ins"]), raw["comments"])


def _after_keyword(original: str, keyword: str) -> str:
    return original[len(keyword) :].strip() if original[: len(keyword)].upper() == keyword else original


def _comments_between(lines: list[str], after: int, before: int) -> tuple[str, ...]:
    """The comment lines between line ``after`` and line ``before`` (1-based): those above an
    instruction, blank lines between them dropped."""
    out: list[str] = []
    for line in lines[after : before - 1]:
        stripped = line.strip()
        if stripped.startswith("#"):
            out.append(stripped[1:].strip() if stripped[1:2] != " " else stripped[2:].rstrip())
    return tuple(out)


def _directives(text: str) -> dict[str, str]:
    """Parser directives: leading ``# key=value`` comments before anything else."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        match = DIRECTIVE.match(line.strip())
        if not match:
            break
        out[match.group(1).lower()] = match.group(2)
    return out


def collapse_ws(text: str, escape: str = "\\") -> str:
    """Runs of blanks outside quotes as one space: what a shell (and JSON) reads the same.
    ``escape`` quotes the next character (a Dockerfile's backquote makes ``\\`` plain)."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    separator = False  # the last character written is a collapsible blank
    for ch in text:
        if escaped:
            out.append(ch)
            escaped = separator = False
            continue
        if quote is None and ch in " \t":
            if not separator:
                out.append(" ")
                separator = True
            continue
        separator = False
        out.append(ch)
        if ch == escape and quote != "'":
            escaped = True
        elif quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return "".join(out).strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def substitute(text: str, args: dict[str, str | None]) -> str:
    """Expand ``$VAR``/``${VAR}``/``${VAR:-x}``/``${VAR:+x}`` with ``args`` (BuildKit's rules for FROM)."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        value = args.get(name)
        whole = match.group(0)
        if match.group(1) and match.group(2) is not None:
            if ":+" in whole or "+" in whole.split(name, 1)[1][:2]:
                return match.group(2) if value else ""
            return value if value else match.group(2)
        return value or ""

    return ARG_REF.sub(repl, text)


# ---------------------------------------------------------------- semantic summary


@dataclass(frozen=True)
class TargetSummary:
    """What building one target yields, independent of names and of the context's location."""

    base_image: str
    instructions: tuple[str, ...]  # canonical, the FROM chain's stages in order
    user: str
    expose: tuple[str, ...]
    workdir: str
    entrypoint: str | None
    cmd: str | None
    healthcheck: str | None
    env: tuple[tuple[str, str], ...]
    stage_digests: tuple[str, ...] = field(default=(), compare=False)

    def fields(self) -> dict[str, object]:
        return {
            "base image": self.base_image,
            "user": self.user,
            "exposed ports": " ".join(self.expose) or "(none)",
            "workdir": self.workdir,
            "entrypoint": self.entrypoint or "(none)",
            "cmd": self.cmd or "(none)",
            "healthcheck": self.healthcheck or "(none)",
            "env": " ".join(f"{k}={v}" for k, v in self.env) or "(none)",
        }


def normalize_image(ref: str) -> str:
    """Docker's reference normalisation: ``python:3.11`` == ``docker.io/library/python:3.11``."""
    if "$" in ref or ref == "scratch":
        return ref
    name, digest = (ref.split("@", 1) + [""])[:2]
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    elif first == "index.docker.io":
        name = "docker.io/" + name.split("/", 1)[1]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def summarise(
    parsed: ParsedDockerfile, target: str | int | None, build_args: dict[str, str] | None = None, context: str = "."
) -> TargetSummary:
    """Describe ``target`` (default: the last stage). ``context`` is the build context relative
    to the repository root, so ``COPY`` sources are compared as repository paths."""
    index = parsed.target_index(target)
    if index is None:
        raise DockerfileError(f"{parsed.path}: no stage {target!r}")
    args: dict[str, str | None] = {k: v for k, v in parsed.global_args}
    args.update(build_args or {})
    given = dict(build_args or {})
    cache: dict[int, tuple[str, list[str]]] = {}

    def digest_of(i: int) -> str:
        image, lines = chain(i)
        return hashlib.sha256(json.dumps([image, lines]).encode()).hexdigest()[:12]

    def chain(i: int) -> tuple[str, list[str]]:
        if i in cache:
            return cache[i]
        stage = parsed.stages[i]
        base = substitute(stage.base, args)
        parent = parsed.stage_index(base)
        if parent is not None and parent < i:
            image, lines = chain(parent)
            lines = list(lines)
        else:
            image, lines = normalize_image(base), []
        lines.append(f"--- stage ({' '.join(stage.from_flags)})".rstrip(" ()") if stage.from_flags else "--- stage")
        for ins in stage.instructions:
            lines.append(_canonical(ins, parsed, i, digest_of, context, args, given))
        cache[i] = (image, lines)
        return cache[i]

    image, lines = chain(index)
    return _derive(image, tuple(lines), parsed, index, args)


def _derive(image: str, lines: tuple[str, ...], parsed: ParsedDockerfile, index: int, args: dict) -> TargetSummary:
    user, workdir, entrypoint, cmd, healthcheck = "(base image's)", "(base image's)", None, None, None
    expose: list[str] = []
    env: dict[str, str] = {}
    order: list[int] = []
    i: int | None = index
    while i is not None:
        order.append(i)
        stage = parsed.stages[i]
        parent = parsed.stage_index(substitute(stage.base, args))
        i = parent if parent is not None and parent < i else None
    for i in reversed(order):
        for ins in parsed.stages[i].instructions:
            if ins.cmd == "USER":
                user = " ".join(ins.value)
            elif ins.cmd == "WORKDIR":
                workdir = posixpath.join(workdir if workdir.startswith("/") else "/", ins.value[0])
            elif ins.cmd == "EXPOSE":
                expose.extend(v if "/" in v else f"{v}/tcp" for v in ins.value)
            elif ins.cmd == "ENTRYPOINT":
                entrypoint, cmd = _form(ins), None
            elif ins.cmd == "CMD":
                cmd = _form(ins)
            elif ins.cmd == "HEALTHCHECK":
                healthcheck = _healthcheck_text(ins)
            elif ins.cmd == "ENV":
                env.update(_env_pairs(ins))
    return TargetSummary(
        image, lines, user, tuple(sorted(set(expose))), workdir, entrypoint, cmd, healthcheck, tuple(sorted(env.items()))
    )


def _form(ins: Instruction) -> str:
    return json.dumps(list(ins.value)) if ins.json else f"/bin/sh -c {collapse_ws(ins.value[0], ins.escape) if ins.value else ''}"


def _healthcheck_text(ins: Instruction) -> str:
    if ins.value and ins.value[0].upper() == "NONE":
        return "NONE"
    flags = " ".join(sorted(ins.flags))
    rest = list(ins.value[1:]) if ins.value and ins.value[0].upper() == "CMD" else list(ins.value)
    body = json.dumps(rest) if ins.json else collapse_ws(" ".join(rest), ins.escape)
    return f"{flags} CMD {body}".strip()


def _env_pairs(ins: Instruction) -> dict[str, str]:
    values = list(ins.value)
    if len(values) % 2:
        return {}
    return {values[i]: values[i + 1] for i in range(0, len(values), 2)}


FROM_FLAG = re.compile(r"^--from=(.+)$")
MOUNT_FROM = re.compile(r"(\bfrom=)([^,\s]+)")
MOUNT_SOURCE = re.compile(r"(\b(?:source|src)=)([^,\s]+)")


def _effective_arg(item: str, parsed: ParsedDockerfile, given: dict) -> str:
    """``ARG k[=d]`` as the value it takes: a build arg wins, then the inline default,
    then the global default of the same name."""
    key, sep, default = item.partition("=")
    if key in given:
        return f"{key}={given[key]}"
    if sep:
        return f"{key}={_unquote(default)}"
    inherited = dict(parsed.global_args).get(key)
    return f"{key}={inherited}" if inherited is not None else key


def _canonical(
    ins: Instruction, parsed: ParsedDockerfile, here: int, digest_of, context: str, args: dict, given: dict  # noqa: ANN001
) -> str:
    """One instruction, with stage references replaced by the referenced stage's content
    digest and ``COPY``/``ADD`` sources made relative to the repository root."""
    flags = []
    copy_from_stage = False
    for flag in ins.flags:
        match = FROM_FLAG.match(flag)
        if match:
            ref = match.group(1)
            target = parsed.stage_index(ref)
            if target is not None and target < here:
                flag = f"--from=<stage {digest_of(target)}>"
                copy_from_stage = True
            else:
                flag = f"--from={normalize_image(ref)}"
                copy_from_stage = True
        elif flag.startswith("--mount="):

            def repl(m: re.Match[str]) -> str:
                target = parsed.stage_index(m.group(2))
                return m.group(1) + (f"<stage {digest_of(target)}>" if target is not None and target < here else m.group(2))

            if MOUNT_FROM.search(flag):
                flag = MOUNT_FROM.sub(repl, flag)
            elif "type=bind" in flag:
                flag = MOUNT_SOURCE.sub(lambda m: m.group(1) + repo_path(context, m.group(2)), flag)
        flags.append(flag)
    value = list(ins.value)
    if ins.cmd in ("COPY", "ADD") and not copy_from_stage and len(value) >= 2:
        value = [repo_path(context, src) for src in value[:-1]] + [value[-1]]
    if ins.cmd == "ARG":
        value = [_effective_arg(item, parsed, given) for item in value]
    if not ins.json:
        value = [collapse_ws(v, ins.escape) for v in value]
    body = json.dumps(value) if ins.json or ins.cmd in ("COPY", "ADD", "ENV", "LABEL", "ARG", "EXPOSE", "VOLUME") else " ".join(value)
    sub = f" {ins.sub_cmd}" if ins.sub_cmd else ""
    heredocs = "".join(f"\n<<{json.dumps(content)}" for content in ins.heredocs)
    return f"{ins.cmd}{sub} {' '.join(flags)} {body}".replace("  ", " ").strip() + heredocs


def repo_path(context: str, src: str) -> str:
    """A ``COPY`` source as a path from the repository root (URLs and variables untouched)."""
    if "://" in src or src.startswith("$") or src.startswith("<<"):
        return src
    trailing = src.endswith("/") or src in (".", "./")
    joined = posixpath.normpath(posixpath.join(context, src.lstrip("/")))
    return joined + "/" if trailing and joined != "." else ("./" if joined == "." else joined)
