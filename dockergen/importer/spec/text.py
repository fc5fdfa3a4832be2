"""The spec as the text ``import`` writes: a header saying where it came from, and why the
built-in policies are switched off."""

from __future__ import annotations

from dockergen.importer.plan import ImportPlan
from dockergen.render.yaml_out import dump_yaml

SCHEMA_LINE = "# yaml-language-server: $schema=https://dockergen.dev/schema/dockergen.schema.json"


def spec_text(plan: ImportPlan) -> str:
    inv = plan.inventory
    header = "\n".join(
        [
            SCHEMA_LINE,
            f"# Imported by `dockergen import` from {len(inv.dockerfiles)} Dockerfiles and {len(inv.compose_files)} Compose files.",
            "# Each environment resolves to what its original files said; prove it with `dockergen verify --against .`.",
            "# After reviewing the migration report: `dockergen render --force` (it replaces the files it merged).",
        ]
    )
    text = dump_yaml(plan.spec, header)
    note = (
        "# dockergen's built-in policies (restart, resource limits, dropped capabilities, source bind mounts,\n"
        "# data volumes, preset healthchecks) are switched off here, so that every environment keeps exactly\n"
        "# what its files said; delete a line to adopt that policy (`dockergen verify` then lists the change).\n"
    )
    return text.replace("\ndefaults:\n", "\n" + note + "defaults:\n", 1)
