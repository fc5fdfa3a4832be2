"""Shell completion of values from the spec: environment and service names.

Completion runs on every Tab, so the spec is only parsed as YAML (no validation,
resolution or rendering) and any problem simply completes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STANDARD_ENVIRONMENTS = ("dev", "test", "staging", "prod", "podman")  # presets.STANDARD_ENVIRONMENTS


def _spec(ctx: Any) -> dict[str, Any]:
    spec = ctx.params.get("spec") or Path("dockergen.yaml")
    try:
        from dockergen.safe_read import read_regular
        from dockergen.spec.load import parse_spec

        data = parse_spec(read_regular(spec), str(spec)).data  # the spec's own reader and limits
    except Exception:  # noqa: BLE001 - a broken spec completes nothing
        return {}
    return data if isinstance(data, dict) else {}


def environments(ctx: Any, param: Any, incomplete: str) -> list[str]:
    data = _spec(ctx)
    declared = data.get("environments")
    names = list(declared) if isinstance(declared, dict) else list(STANDARD_ENVIRONMENTS) if data else []
    return [str(n) for n in names if str(n).startswith(incomplete)]


def services(ctx: Any, param: Any, incomplete: str) -> list[str]:
    declared = _spec(ctx).get("services")
    return [str(n) for n in (declared if isinstance(declared, dict) else {}) if str(n).startswith(incomplete)]
