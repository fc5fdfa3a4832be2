"""The Dockerfile variants of one service as the stages of one generic Dockerfile.

Every variant (``backend.Dockerfile``, ``backend.alpine.Dockerfile``, ...) keeps its
instructions verbatim (heredocs, ``--mount``, ``ONBUILD`` included), its parser directives,
its ``ARG``s before the first ``FROM`` and its comments; what changes is only what one file
with many targets needs:

* a Dockerfile of one variant keeps its stage names; with several, a variant's last stage
  (the target environments build) is named after its label, and the others
  ``<label>-<stage>`` (the default variant's keep theirs); every ``FROM``/``--from``/
  ``--mount=from=`` reference follows the new names;
* when the variants declare the same ``ARG`` before ``FROM`` with different defaults, each
  variant's defaults are substituted into its ``FROM`` instead (an in-stage ``ARG X`` that
  inherited such a default keeps it as ``ARG X=<default>``);
* a variant built from another context (``./backend``) has its ``COPY``/``ADD`` sources
  rewritten to the shared context, so all targets build from one context;
* stages identical after all that are written once.

A variant that cannot be carried this way (another escape character than its siblings',
``FROM`` depending on a build argument whose default the variants disagree on and that
environments set differently, ``ONBUILD COPY`` under a moved context) is reported as an
obstacle, and the service keeps its original Dockerfiles.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field

from dockergen import presets
from dockergen.importer.read.dockerfile import ParsedDockerfile, collapse_ws, repo_path, substitute

DEFAULT_LABEL = "default"


@dataclass(frozen=True)
class Variant:
    path: str  # root-relative Dockerfile path
    parsed: ParsedDockerfile
    label: str
    context: str  # root-relative build context it is built with
    build_args: tuple[tuple[tuple[str, str], ...], ...] = ()  # the args each use passes
    serves_in_test: bool = False  # a test environment builds it for a service that serves there


@dataclass(frozen=True)
class MergedBuild:
    service: str
    context: str
    dockerfile: str
    stages: tuple[dict, ...]  # {"name", "from", "steps", "platform"?, "comments", "step_comments"}
    stage_map: dict[tuple[str, int], str]  # (variant path, stage index) -> stage name
    notes: tuple[str, ...] = ()
    obstacles: tuple[str, ...] = field(default=())
    contexts: dict[str, str] = field(default_factory=dict)  # variant path -> the context it was built from
    global_args: tuple[str, ...] = ()  # ARG declarations before the first FROM, as written
    directives: tuple[tuple[str, str], ...] = ()
    comments: tuple[str, ...] = ()  # the primary variant's comments above its first ARG/FROM

    def target_for(self, variant: str, parsed: ParsedDockerfile, target: str | None) -> str | None:
        index = parsed.target_index(target)
        return None if index is None else self.stage_map.get((variant, index))


def variant_label(path: str, stem: str) -> str:
    """``docker/backend.alpine.Dockerfile`` (stem ``backend``) -> ``alpine``; plain -> ``default``."""
    name = posixpath.basename(path)
    lower = name.lower()
    rest = lower
    for kw in ("dockerfile", "containerfile"):
        rest = re.sub(rf"(^|[._-]){kw}([._-]|$)", r"\1\2", rest)
    rest = rest.strip("._-")
    if stem and rest.startswith(stem.lower()):
        rest = rest[len(stem) :].strip("._-")
    elif stem and rest.endswith(stem.lower()):  # Dockerfile-api (stem api)
        rest = rest[: -len(stem)].strip("._-")
    return _name(rest) if rest else DEFAULT_LABEL


def _name(text: str) -> str:
    out = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if not out or not out[0].isalpha():
        out = f"v-{out}" if out else DEFAULT_LABEL
    return out[:63]


def common_context(contexts: list[str]) -> str:
    parts = [posixpath.normpath(c.lstrip("./") or ".").split("/") if c not in (".", "./") else [] for c in contexts]
    prefix: list[str] = []
    for items in zip(*parts):
        if len(set(items)) != 1:
            break
        prefix.append(items[0])
    return "./" + "/".join(prefix) if prefix else "."


def merge_variants(service: str, variants: list[Variant], dockerfile: str, context: str) -> MergedBuild:
    """One Dockerfile for ``variants`` (the primary variant first)."""
    obstacles: list[str] = []
    notes: list[str] = []
    single = len(variants) == 1
    stages: list[dict] = []
    seen: dict[tuple, str] = {}
    taken: set[str] = set()
    stage_map: dict[tuple[str, int], str] = {}
    global_args, keep_args = _shared_global_args(variants)
    escapes = {dict(v.parsed.directives).get("escape", "\\") for v in variants}
    if len(escapes) > 1:
        obstacles.append(f"the variants use different escape characters ({', '.join(sorted(escapes))})")
    names = _stage_names(variants, single)
    for variant in variants:
        parsed = variant.parsed
        for problem in parsed.obstacles:
            obstacles.append(f"{variant.path}: {problem}")
        defaults = {} if keep_args else {k: v for k, v in parsed.global_args}
        if not keep_args:
            _check_from_args(variant, defaults, obstacles)
        local: dict[int, str] = {}
        for stage in parsed.stages:
            base = substitute(stage.base, {k: v for k, v in parsed.global_args}) if keep_args else substitute(stage.base, defaults)
            parent = parsed.stage_index(base)
            if parent is not None and parent < stage.index:
                # `FROM builder-${DEVICE}` stays an expression while every stage it could name keeps its name.
                source = stage.base if keep_args and "$" in stage.base and _names_kept(parsed, local) else local[parent]
            else:
                if "$" in base and not keep_args:
                    obstacles.append(f"{variant.path}: FROM {stage.base} cannot be resolved")
                source = stage.base if keep_args else base
            steps = [_rewrite(ins, parsed, stage.index, local, variant, context, defaults, obstacles) for ins in stage.instructions]
            # The file's own header comment goes above its first stage, but for the primary's (the Dockerfile's).
            comments = (*(parsed.global_comments if stage.index == 0 and variant is not variants[0] else ()), *stage.comments)
            step_comments = {i: ins.comments for i, ins in enumerate(stage.instructions) if ins.comments}
            key = (source, stage.platform, tuple(steps))
            if key in seen:
                local[stage.index] = seen[key]
                stage_map[(variant.path, stage.index)] = seen[key]
                _keep_comments(next(s for s in stages if s["name"] == seen[key]), comments, step_comments)
                continue
            name = _unique(names[(variant.path, stage.index)], taken)
            seen[key] = name
            local[stage.index] = name
            stage_map[(variant.path, stage.index)] = name
            entry: dict = {"name": name, "from": source, "steps": steps}
            if single and stage.name is None and stage.index == len(parsed.stages) - 1:
                entry["unnamed"] = True  # named for targets; its FROM keeps no `AS` where none is written
            if stage.platform:
                entry["platform"] = stage.platform
            entry["comments"] = comments
            entry["step_comments"] = step_comments
            stages.append(entry)
        if variant.context != context:
            notes.append(f"{variant.path}: built from {variant.context} before; COPY sources now relative to {context}")
    contexts = {v.path: v.context for v in variants}
    primary = variants[0].parsed
    return MergedBuild(service, context, dockerfile, tuple(stages), stage_map, tuple(notes), tuple(obstacles), contexts,
                       global_args, primary.directives, primary.global_comments)  # fmt: skip


def _keep_comments(entry: dict, comments: tuple[str, ...], step_comments: dict[int, tuple[str, ...]]) -> None:
    """A stage written once for two variants keeps the comments of both."""
    entry["comments"] = (*entry["comments"], *(c for c in comments if c not in entry["comments"]))
    for index, lines in step_comments.items():
        mine = entry["step_comments"].get(index, ())
        entry["step_comments"][index] = (*mine, *(c for c in lines if c not in mine))


def _shared_global_args(variants: list[Variant]) -> tuple[tuple[str, ...], bool]:
    """The ``ARG``s before ``FROM`` for the one Dockerfile, and whether they can be kept as
    such: yes unless two variants give one argument different defaults."""
    defaults: dict[str, str | None] = {}
    lines: list[str] = []
    for variant in variants:
        for key, value in variant.parsed.global_args:
            if key in defaults and defaults[key] != value:
                return (), False
            defaults[key] = value
        for line in variant.parsed.global_arg_lines:
            if line not in lines:
                lines.append(line)
    return tuple(lines), True


def _stage_names(variants: list[Variant], single: bool) -> dict[tuple[str, int], str]:
    """A name for each stage: its own in a Dockerfile of one variant; else the variant's
    label for a last stage, ``<label>-<own>`` for the others (the default variant's keep theirs)."""
    out: dict[tuple[str, int], str] = {}
    for variant in variants:
        last = len(variant.parsed.stages) - 1
        for stage in variant.parsed.stages:
            own = stage.name or (DEFAULT_LABEL if stage.index == last and single else f"stage-{stage.index}")
            if single:
                wanted = own
            elif stage.index == last:
                wanted = variant.label
            else:
                wanted = own if variant.label == DEFAULT_LABEL else f"{variant.label}-{own}"
            if wanted == presets.TARGET_BY_KIND["test"] and variant.serves_in_test:
                wanted = "tests"  # a test environment runs a `test` stage as a suite: no ports, no probe
            out[(variant.path, stage.index)] = _name(wanted)
    return out


def _names_kept(parsed: ParsedDockerfile, local: dict[int, str]) -> bool:
    """Every named stage written so far is still called what the original called it."""
    return all(local[s.index] == s.name for s in parsed.stages if s.index in local and s.name)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}-{n}"[:63]
        n += 1
    taken.add(candidate)
    return candidate


def _check_from_args(variant: Variant, defaults: dict, obstacles: list[str]) -> None:
    for stage in variant.parsed.stages:
        if "$" not in stage.base:
            continue
        plain = substitute(stage.base, defaults)
        for args in variant.build_args:
            with_args = substitute(stage.base, {**defaults, **dict(args)})
            if with_args != plain:
                obstacles.append(
                    f"{variant.path}: FROM {stage.base} is {with_args} with the build args an environment passes, not {plain}"
                )


FROM_FLAG = re.compile(r"(--from=)(\S+)")
MOUNT_FROM = re.compile(r"(--mount=\S*?\bfrom=)([^,\s]+)")
MOUNT_SOURCE = re.compile(r"(--mount=\S*?\b(?:source|src)=)([^,\s]+)")


def _rewrite(ins, parsed: ParsedDockerfile, here: int, local: dict[int, str], variant: Variant, context: str,  # noqa: ANN001
             defaults: dict, obstacles: list[str]) -> str:  # fmt: skip
    # A heredoc's body is a file or a script: its blanks are kept as they are.
    text = ins.original.rstrip("\n") if ins.heredoc else collapse_ws(ins.original.rstrip(), ins.escape)

    def stage_ref(match: re.Match[str]) -> str:
        ref = match.group(2)
        target = parsed.stage_index(ref)
        if target is not None and target < here:
            return match.group(1) + local[target]
        return match.group(0)

    prefix_end = _flags_end(text, ins)
    head, tail = text[:prefix_end], text[prefix_end:]
    head = FROM_FLAG.sub(stage_ref, head)
    head = MOUNT_FROM.sub(stage_ref, head)
    moved = variant.context != context
    offset = posixpath.relpath(variant.context, context) if moved else "."
    if moved and ins.cmd == "RUN" and "type=bind" in head and "from=" not in head:
        head = MOUNT_SOURCE.sub(lambda m: m.group(1) + repo_path(offset, m.group(2)), head)
    if ins.cmd in ("COPY", "ADD") and moved and not ins.heredoc and not any(f.startswith("--from=") for f in ins.flags):
        sources = [repo_path(offset, src) for src in ins.value[:-1]]
        args = [*sources, ins.value[-1]]
        if ins.json or any(" " in a for a in args):
            tail = " " + json.dumps(args)
        else:
            tail = " " + " ".join(args)
    if ins.cmd == "ONBUILD" and moved and ins.sub_cmd in ("COPY", "ADD"):
        obstacles.append(f"{variant.path}: line {ins.line}: ONBUILD {ins.sub_cmd} under a moved build context")
    if ins.cmd == "ARG":
        items = []
        for item in ins.value:
            key, sep, _ = item.partition("=")
            if not sep and defaults.get(key) is not None:
                items.append(f"{key}={_quote_arg(defaults[key])}")
            else:
                items.append(item)
        if items != list(ins.value):
            return "ARG " + " ".join(items)
    return head + tail


def _quote_arg(value: str) -> str:
    return value if re.match(r"^[A-Za-z0-9._+/@:=~%,-]*$", value) and value else json.dumps(value)


def _flags_end(text: str, ins) -> int:  # noqa: ANN001
    """Where the instruction's flags end (keyword and ``--flag`` words), in ``text``."""
    pos = len(ins.cmd) if text[: len(ins.cmd)].upper() == ins.cmd else text.find(" ")
    if ins.cmd == "ONBUILD" and ins.sub_cmd:
        match = re.match(rf"\s*{ins.sub_cmd}", text[pos:], re.IGNORECASE)
        if match:
            pos += match.end()
    while True:
        match = re.match(r"\s+--\S+", text[pos:])
        if not match:
            return pos
        pos += match.end()
