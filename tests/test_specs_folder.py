"""specs/ stays true: the committed schema is the models' schema, and the reference spec
validates, renders and validates against that schema."""

from __future__ import annotations

import json

import jsonschema
from ruamel.yaml import YAML

from dockergen.commands.schema import schema_text
from dockergen.pipeline import render
from tests.conftest import EXAMPLES, ROOT

SPECS = ROOT / "specs"


def test_committed_schema_is_what_the_models_export() -> None:
    assert (SPECS / "dockergen.schema.json").read_text() == schema_text()


def test_reference_spec_renders_every_environment() -> None:
    result = render(SPECS / "reference.yaml")
    assert set(result.project.environments) == {"dev", "test", "staging", "prod", "podman", "alpine"}
    paths = {f.path for f in result.files}
    assert {"api/Dockerfile", "api/Dockerfile.alpine", "web/Dockerfile", "compose.yaml", "compose.podman.yaml"} <= paths


def test_schema_accepts_every_shipped_spec_and_rejects_a_typo() -> None:
    schema = json.loads(schema_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    yaml = YAML(typ="safe")
    for path in [SPECS / "reference.yaml", *(e / "dockergen.yaml" for e in EXAMPLES)]:
        errors = list(validator.iter_errors(yaml.load(path.read_text())))
        assert errors == [], (path, errors[:1])
    bad = yaml.load((SPECS / "reference.yaml").read_text())
    bad["services"]["api"]["healtcheck"] = {"http": "/health"}
    assert list(validator.iter_errors(bad))


def test_reference_output_passes_the_real_tools(tmp_path) -> None:  # noqa: ANN001
    from dockergen.write import write_files
    from tests.tools import compose, hadolint

    result = render(SPECS / "reference.yaml")
    write_files(tmp_path, result.files)
    for f in result.files:
        if f.kind == "dockerfile":
            lint = hadolint(tmp_path / f.path)
            assert lint.returncode == 0, lint.stdout
    for env in result.project.environments.values():
        checked = compose(tmp_path, [tmp_path / "compose.yaml", tmp_path / env.info.compose_file], "config", "-q", env={"POSTGRES_PASSWORD": "x"})
        assert checked.returncode == 0, (env.info.name, checked.stderr)


def test_docs_spec_reference_is_generated_and_up_to_date() -> None:
    from dockergen.reference import reference_markdown

    text = (ROOT / "docs" / "spec-reference.md").read_text()
    assert text == reference_markdown(), "run: dockergen schema --format markdown > docs/spec-reference.md"
    for field in ("healthcheck", "source_mount", "debug_port", "secrets", "flavours"):
        assert f"| `{field}` |" in text


def test_field_descriptions_follow_pydantics_own_docstring_rule() -> None:
    """The models skip `use_attribute_docstrings` (slow to import); the schema reads the same
    docstrings itself. Built with pydantic's rule from the same source, it must be identical."""
    import sys
    import types
    from pathlib import Path

    from dockergen.spec import model
    from dockergen.spec.schema import spec_json_schema

    source = Path(model.__file__).read_text()
    assert source.count('ConfigDict(extra="forbid", frozen=True)') == 1
    twin = types.ModuleType("dockergen_model_with_pydantic_docstrings")
    twin.__file__ = model.__file__  # pydantic reads each class's source through it
    sys.modules[twin.__name__] = twin
    try:
        exec(compile(source.replace('ConfigDict(extra="forbid", frozen=True)', 'ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)'), model.__file__, "exec"), twin.__dict__)  # noqa: S102
        expected = twin.Spec.model_json_schema(by_alias=True)
    finally:
        del sys.modules[twin.__name__]
    assert spec_json_schema() == expected
    assert expected["$defs"]["Node"]["properties"]["package_manager"]["description"].startswith("Installs exactly")
