from __future__ import annotations

import json

import click

from dockergen.spec.schema import spec_json_schema

SCHEMA_ID = "https://dockergen.dev/schema/dockergen.schema.json"


def schema_text() -> str:
    schema = spec_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema(output_format: str = "json") -> int:
    """Print the spec's JSON Schema, or its Markdown reference."""
    if output_format == "markdown":
        from dockergen.reference import reference_markdown

        click.echo(reference_markdown(), nl=False)
    else:
        click.echo(schema_text(), nl=False)
    return 0
