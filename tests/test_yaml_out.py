"""The Compose emitter: whatever it writes, YAML readers read back as the same data."""

from __future__ import annotations

import io
import random
import re

import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dockergen.render.comment import comment_lines
from dockergen.render.yaml_out import dump_yaml

TRICKY = [
    "", " ", "yes", "No", "on", "off", "y", "n", "null", "~", "true", "1e3", "0x1F", "0o17", "010", "08:00", "22:22",
    "1_000", ".inf", "-.5", "+1", "12.5", "2026-11-23", "- item", "-c", "--reload", "?x", "? x", ":x", "a: b", "a #b",
    "a#b", "key:", "*alias", "&anchor", "!tag", "|", ">", "%", "@x", "`x", "'q'", '"q"', "[1]", "{a}", "a, b",
    "line\nbreak", "tab\there", "trailing ", " leading", "back\\slash", "dollar $HOME ${VAR:-x} $$", "ünïcödé",
    "emoji 😀", "\u2028", "\x7f", "\x00", "\ufeff", "$${POSTGRES_USER:-postgres}", "http://x:8000/health",
    "127.0.0.1:5432:5432", "8000:8000", "__import__('urllib.request').request.urlopen('http://127.0.0.1:8000/h',timeout=4)",
]  # fmt: skip


def reload(text: str) -> object:
    return YAML(typ="safe", pure=True).load(text)


@pytest.mark.parametrize("value", TRICKY)
def test_every_tricky_string_reads_back_unchanged(value: str) -> None:
    doc = {"services": {"x": {"environment": {"V": value}, "command": [value], value or "k": value}}}
    text = dump_yaml(doc, "# header")
    assert reload(text) == doc
    # YAML 1.1 readers (PyYAML, older tools) must agree too.
    assert pyyaml.safe_load(text) == doc


def test_random_documents_round_trip() -> None:
    rng = random.Random(20261123)
    alphabet = "ab:-#{}[]&*!|>'\"%@` \n\t$\\,?yesno0189.e+_ü😀"

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    def value(depth: int) -> object:
        kind = rng.randint(0, 6 if depth < 3 else 3)
        if kind == 0:
            return text()
        if kind == 1:
            return rng.choice([None, True, False, 0, -3, 2.5, 1.0])
        if kind in (2, 3):
            return text() or "x"
        if kind == 4:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {text() or f"k{i}": value(depth + 1) for i in range(rng.randint(0, 3))}

    for _ in range(300):
        doc = {"root": value(0), "other": [value(1)]}
        assert reload(dump_yaml(doc, "#")) == doc


def test_same_layout_as_ruamel_for_compose_shaped_data() -> None:
    doc = {
        "name": "p",
        "services": {
            "api": {
                "image": "shop/api:${TAG:-prod}",
                "command": ["uvicorn", "app:app", "--port", "8000"],
                "ports": [{"target": 8000, "published": "8000"}, "127.0.0.1:5678:5678"],
                "environment": {"A": "1", "B": "yes", "C": None},
                "deploy": {"resources": {"limits": {"cpus": 1.0, "memory": "512M"}}},
                "healthcheck": {"test": ["CMD", "true"], "retries": 3},
            }
        },
        "volumes": {"db-data": None},
    }
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    # Same layout; we quote with double quotes, and also YAML 1.1 booleans.
    expected = re.sub(r"'([^'\n]*)'", r'"\1"', buffer.getvalue()).replace("B: yes", 'B: "yes"')
    assert dump_yaml(doc, "#") == "#\n" + expected


HOSTILE_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from("\n\r\x85\u2028\u2029\x00\x1b\t\ufeff\"'\\:#-?&*!|>%@`{}[],$ ~yn01e."), st.characters(codec="utf-8")),
    max_size=12,
)
SCALARS = st.one_of(HOSTILE_TEXT, st.integers(), st.floats(), st.booleans(), st.none(), st.text(min_size=1000, max_size=1100))
DOCUMENTS = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.one_of(HOSTILE_TEXT, st.text(min_size=1020, max_size=1100)), inner, max_size=3)), max_leaves=12
)


def _same(a: object, b: object) -> bool:
    """Equal, with NaN equal to itself."""
    if isinstance(a, float) and isinstance(b, float) and a != a:
        return b != b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b and type(a) is type(b)


@given(doc=st.dictionaries(HOSTILE_TEXT, DOCUMENTS, max_size=4), header=HOSTILE_TEXT)
@settings(max_examples=300, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_document_and_header_read_back_the_same_in_yaml_1_1_and_1_2(doc: dict, header: str) -> None:
    """Keys of any length (an implicit key stops at 1024 characters), any float (inf, nan,
    1e+20), a header comment holding any line break: every reader sees ``doc``, nothing more."""
    text = dump_yaml(doc, "\n".join(comment_lines(header)))
    for load in (YAML(typ="safe", pure=True).load, pyyaml.safe_load, lambda t: pyyaml.load(t, Loader=pyyaml.CSafeLoader)):
        assert _same(load(text) or {}, doc), text
