"""The migration report: what went in, what came out, every decision and what to review.

One ``Report`` value is built from the plan (and the verification, when run); it is then
printed as aligned terminal tables or written as Markdown. Nothing here reads files.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from dockergen.importer.plan import ImportPlan
from dockergen.importer.records import CLASSES, UNEXPLAINED
from dockergen.importer.verify.run import VerifyResult, summary_line
from dockergen.text import visible


@dataclass(frozen=True)
class Section:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Report:
    title: str
    summary: tuple[str, ...]
    sections: tuple[Section, ...]


def build_report(
    plan: ImportPlan, spec_path: str, out_files: dict[str, int], verification: VerifyResult | None
) -> Report:
    inv = plan.inventory
    decisions = Counter(d.cls for d in plan.decisions)
    summary = [
        f"files in:  {len(inv.dockerfiles)} Dockerfiles, {len(inv.compose_files)} Compose files"
        f" ({len(inv.env_files)} env files, {len(inv.dockerignores)} .dockerignore read)",
        f"files out: {spec_path} (the spec); it renders {_files_out(out_files)}",
        f"environments: {len(plan.environments)}; services: {len(plan.spec.get('services', {}))}"
        f" (from {sum(len(m.services) for m in plan.effective.values())} Compose service definitions across environments)",
        "decisions: " + ", ".join(f"{decisions.get(c, 0)} {c}" for c in CLASSES),
        f"drift found: {len(plan.findings)} (listed below; each kept as it was unless it says otherwise)",
        f"not understood: {len(plan.problems)} file(s) (reported, import carried on)",
        f"Compose CLI: {plan.cli or 'not used (dockergen merged the files itself)'}; import took {plan.seconds:.1f}s",
    ]
    if verification is not None:
        summary.append("verify: " + summary_line(verification))
    sections = [
        Section(
            "Environments",
            ("environment", "was (-f set)", "kind", "engine", "project", "how it was found"),
            tuple((e.name, " ".join(e.files), e.kind, e.engine, e.project, e.why) for e in plan.environments),
        ),
        Section("Services", ("service", "was called", "Dockerfiles (variant label)", "environments"), _service_rows(plan)),
        Section(
            "Variants (each carried verbatim as a target; what differs between them)",
            ("service", "target", "was", "base image", "user", "ports", "healthcheck", "command", "built in"),
            _variant_rows(plan),
        ),
        Section(
            "Decisions",
            ("class", "what", "detail"),
            tuple((d.cls, d.what, d.detail) for d in sorted(plan.decisions, key=lambda d: (CLASSES.index(d.cls), d.what))),
            "kept: became spec data; unified: accidental drift the spec resolves (value and why); "
            "carried verbatim: escape hatch, unchanged; baked-in: dockergen's own improvement",
        ),
        Section(
            "Drift found (review)",
            ("#", "drift", "detail", "what the import did"),
            tuple((f.code, f.title, f.detail, f.action) for f in plan.findings),
        ),
    ]
    if plan.problems:
        sections.append(Section("Not understood (skipped, import carried on)", ("file", "why"), tuple((p.path, p.what) for p in plan.problems)))
    review = _review(plan)
    if review:
        sections.append(Section("Review", ("",), tuple((r,) for r in review)))
    if verification is not None:
        status = ", ".join(f"{env}: {state}" for env, state in verification.compared.items())
        sections.append(Section("Verification", ("class", "environments", "service", "what", "original", "rendered", "why"),
                                verification_rows(plan, verification), status))  # fmt: skip
    return Report(f"dockergen import: {plan.root}", tuple(summary), tuple(sections))


def verification_rows(plan: ImportPlan, verification: VerifyResult) -> tuple[tuple[str, ...], ...]:
    """Every difference, one row per difference and the environments it occurs in."""
    order = [e.name for e in plan.environments]
    grouped: dict[tuple[str, ...], list[str]] = {}
    for d in verification.differences:
        key = (d.cls, d.service or "", d.path, d.original, d.rendered, d.why)
        grouped.setdefault(key, []).append(d.env or "(all)")
    rows = []
    for (cls, service, path, original, rendered, why), envs in grouped.items():
        envs = sorted(set(envs), key=lambda e: order.index(e) if e in order else -1)
        where = "all" if len(envs) == len(order) and len(order) > 1 else ", ".join(envs)
        rows.append((cls, where, service, path, original, rendered, why))
    rows.sort(key=lambda r: (r[0] != UNEXPLAINED, CLASSES.index(r[0]) if r[0] in CLASSES else 9, r[2], r[3]))
    return tuple(rows)


def _files_out(counts: dict[str, int]) -> str:
    names = {"dockerfile": "Dockerfile", "compose": "Compose base", "overlay": "overlay", "dockerignore": ".dockerignore",
             "env-example": ".env.example", "lock": "lock file"}  # fmt: skip
    parts = [f"{n} {names.get(k, k)}{'s' if n != 1 and k in ('dockerfile', 'overlay') else ''}" for k, n in counts.items()]
    return ", ".join(parts) + f" ({sum(counts.values())} files)"


def _service_rows(plan: ImportPlan) -> tuple[tuple[str, ...], ...]:
    rows = []
    names: dict[str, set[str]] = {}
    envs: dict[str, list[str]] = {}
    for (env, original), canonical in plan.grouping.canonical.items():
        names.setdefault(canonical, set()).add(original)
        if env not in envs.setdefault(canonical, []):
            envs[canonical].append(env)
    dockerfiles: dict[str, list[str]] = {}
    for path, owner in plan.builds.owner.items():
        dockerfiles.setdefault(owner, []).append(f"{path} ({plan.builds.labels.get(path, '-')})")
    for service in plan.spec.get("services", {}):
        entry = plan.spec["services"][service]
        uses = f"runs {entry['uses']}'s image" if entry.get("uses") else ""
        rows.append(
            (
                service,
                ", ".join(sorted(names.get(service, set()) - {service})) or "-",
                "; ".join(sorted(dockerfiles.get(service, []))) or uses or "-",
                ", ".join(envs.get(service, [])) or "(profile only)",
            )
        )
    return tuple(rows)


def _variant_rows(plan: ImportPlan) -> tuple[tuple[str, ...], ...]:
    from dockergen.importer.read.compose import dockerfile_path
    from dockergen.importer.read.dockerfile import summarise

    built_in: dict[str, list[str]] = {}
    for env in plan.environments:
        for service in plan.effective[env.name].services.values():
            if service.get("build"):
                path = dockerfile_path(service["build"])
                if env.name not in built_in.setdefault(path, []):
                    built_in[path].append(env.name)
    rows = []
    for service, merged in sorted(plan.builds.merged.items()):
        variants = sorted({p for p, _ in merged.stage_map})
        if len(variants) < 2:
            continue
        for path in variants:
            parsed = plan.dockerfiles[path]
            last = len(parsed.stages) - 1
            summary = summarise(parsed, last)
            command = " ".join(x for x in (summary.entrypoint, summary.cmd) if x) or "-"
            rows.append((
                service, merged.stage_map[(path, last)], path, summary.base_image.replace("docker.io/library/", ""),
                summary.user, " ".join(p.replace("/tcp", "") for p in summary.expose) or "-",
                (summary.healthcheck or "none").split(" CMD ", 1)[-1], command,
                ", ".join(built_in.get(path, [])) or "no Compose file",
            ))  # fmt: skip
    return tuple(rows)


def _review(plan: ImportPlan) -> list[str]:
    out = list(plan.notes)
    if plan.builds.merged:
        variants = any(len({p for p, _ in m.stage_map}) > 1 for m in plan.builds.merged.values())
        out.append(
            "`dockergen render` refuses to overwrite files it did not write: after review run `dockergen render --force`, "
            "which replaces the Dockerfiles it merged into (and .dockerignore, .env.example); then delete "
            + ("the variant Dockerfiles listed above and " if variants else "")
            + "the old Compose files (keep them until `dockergen verify --against` passed in CI)."
        )
    if plan.builds.merged:
        out.append(
            "The Dockerfiles are carried as generic `steps`. Services whose variants are really one app (same runtime, same "
            "entry point) are candidates for the python/node presets, which give cache mounts, a non-root user and "
            "pinned, qualified bases: move them over one at a time and re-run `dockergen verify --against`."
        )
    return out


def _short(text: str, limit: int = 90) -> str:
    """``text`` on one terminal line: a file's name or value from the repository may hold
    control, bidi or line-separator characters, shown as escapes."""
    text = visible(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def terminal(report: Report, verbose: bool = False) -> str:
    lines = [visible(report.title), ""]
    lines += [f"  {visible(s)}" for s in report.summary]
    for section in report.sections:
        rows = section.rows
        title = section.title
        if section.title == "Verification":
            title = "Verification (every difference, grouped by the environments it occurs in)"
        lines += ["", title]
        if not rows:
            lines.append("  (none)")
            continue
        lines += _table(section.header, rows, verbose)
    return "\n".join(lines) + "\n"


def _table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], verbose: bool) -> list[str]:
    limit = 10_000 if verbose else 60
    cells = [[_short(c, limit if i < len(header) - 1 else 4 * limit) for i, c in enumerate(row)] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    widths[-1] = 0
    fmt = lambda row: "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    out = [fmt(header)] if any(header) else []
    out += [fmt(tuple(r)) for r in cells]
    return out


def markdown(report: Report) -> str:
    lines = [f"# {_md_text(report.title, leads=True)}", ""]
    lines += [f"- {_md_text(s, leads=True)}" for s in report.summary]
    for section in report.sections:
        lines += ["", f"## {_md_text(section.title)}", ""]
        if section.note:
            lines += [f"_{_md_text(section.note)}_", ""]
        if not section.rows:
            lines.append("(none)")
            continue
        if section.header == ("",):
            lines += [f"- {_md_text(r[0], leads=True)}" for r in section.rows]
            continue
        lines.append("| " + " | ".join(section.header) + " |")
        lines.append("|" + "---|" * len(section.header))
        for row in section.rows:
            lines.append("| " + " | ".join(_md_text(c) or " " for c in row) + " |")
    return "\n".join(lines) + "\n"


# What would open a block (heading, quote, list, fence, rule, table) at the start of a list
# item or a heading's text: its last character is escaped. A single backquote opens no block
# but a code span, which an escape would turn inside out: only a fence's third one is escaped.
_BLOCK_START = re.compile(r"```|[!-/:-@\[-_{-~]|[0-9]+[.)]")


def _md_text(text: object, leads: bool = False) -> str:
    """``text`` (a path, a value from the files read) as inline Markdown on one line: every
    line break folded into a space, ``|`` kept inside its table cell, ``<`` kept from opening
    an HTML tag or a ``<!--`` comment that would hide the rest of the report, invisible
    characters shown as escapes; ``leads``: it starts a list item or a heading, where a
    leading ``#``, ``>``, ``-``, ``1.`` ... would open a block of its own."""
    flat = visible(" ".join(str(text).split())).replace("|", "\\|").replace("<", "\\<")
    opening = _BLOCK_START.match(flat) if leads and not flat.startswith("\\") else None
    return flat if opening is None else flat[: opening.end() - 1] + "\\" + flat[opening.end() - 1 :]
