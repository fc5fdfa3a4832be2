"""SARIF 2.1.0 output (for GitHub code scanning and other SARIF viewers).

One run, tool ``dockergen``; hadolint's findings are results of the same run under rule
IDs ``hadolint/<code>``. Paths are relative to the current directory (``%SRCROOT%``), as
the spec path was given, which is the repository root when run from there in CI.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dockergen import __version__
from dockergen.errors import Location
from dockergen.lint.engine import Finding, Result

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def to_sarif(result: Result, cwd: Path | None = None) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in result.rules.values():
        index[rule.id] = len(rules)
        rules.append(
            {
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": f"{rule.summary} {rule.why}"},
                "help": {"text": f"{rule.why}\nFix: {rule.fix}", "markdown": f"{rule.why}\n\n**Fix:** {rule.fix}"},
                "defaultConfiguration": {"level": LEVEL[rule.severity]},
                "properties": {"tags": ["containers", *rule.tags], **({"environmentKinds": sorted(rule.kinds)} if rule.kinds else {})},
            }
        )
    for finding in result.findings:
        if finding.rule not in index:  # hadolint's rules, described by their first finding
            index[finding.rule] = len(rules)
            entry: dict[str, Any] = {"id": finding.rule, "name": finding.name, "shortDescription": {"text": finding.message}}
            if finding.help_uri:
                entry["helpUri"] = finding.help_uri
            rules.append(entry)
    results = [_result(f, index[f.rule]) for f in result.findings]
    root = (cwd or Path.cwd()).resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dockergen",
                        "semanticVersion": __version__,
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "failOn": result.fail_on,
                    "environments": result.environments,
                    "hadolint": None if result.hadolint is None else (result.hadolint.version or "not installed"),
                },
            }
        ],
    }


def _location(location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": Path(location.file).as_posix(), "uriBaseId": "%SRCROOT%"}}
    if location.line is not None:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    where = f" in {', '.join(finding.environments)}" if finding.environments else ""
    subject = f"{finding.service}: " if finding.service else ""
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": f"{subject}{finding.message}{where}. {finding.fix}"},
        "locations": [_location(finding.location)],
        # Stable across edits that only move lines: code scanning matches alerts by it.
        "partialFingerprints": {"dockergen/v1": _fingerprint(finding)},
        "properties": {"environments": finding.environments, **({"service": finding.service} if finding.service else {})},
    }
    if finding.related:
        out["relatedLocations"] = [{"id": i, **_location(loc), "message": {"text": "rendered here"}} for i, loc in enumerate(finding.related)]
    return out


def _fingerprint(finding: Finding) -> str:
    key = "\0".join([finding.rule, finding.location.file, finding.service or "", finding.message])
    return hashlib.sha256(key.encode()).hexdigest()[:32]
