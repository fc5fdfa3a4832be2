"""The importer reads a ``.env`` exactly as Compose does: generated files of every spelling
Compose accepts (export, ``KEY: value``, comments, quotes of both kinds spanning lines,
escapes, ``${OTHER}``), judged by the real ``docker-compose config``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.importer.read.envfile import parse_dotenv, read_env_file
from tests.tools import compose

KEYS = ("K0", "K1", "K2", "K_3", "K4")
UNSET = "@unset"
COMPOSE = "services:\n  s:\n    image: x\n    environment:\n" + "".join(f"      {k}: '${{{k}-{UNSET}}}'\n" for k in KEYS)

TEXT = st.lists(st.sampled_from(list("ab #=:'\"\\$ntx{}-") + ["${K0}", "${K1:-d}", "\t", "é"]), max_size=10).map("".join)
QUOTED_TEXT = st.lists(st.sampled_from(list("ab #='\"\\$nt") + ["\\n", "\\\"", "\\\\", "\n", "${K0}", "\\$", "'", "\\a", "\\q", "\\'", "\\t", "$$"]), max_size=10).map("".join)


@st.composite
def assignment(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(KEYS))
    prefix = draw(st.sampled_from(["", "export ", "  ", "export  "]))
    sep = draw(st.sampled_from(["=", " = ", ": ", ":", "= "]))
    form = draw(st.sampled_from(["bare", "single", "double"]))
    if form == "bare":
        value = draw(TEXT)
    elif form == "single":
        value = "'" + draw(QUOTED_TEXT).replace("'", "") + "'"
    else:
        body = draw(QUOTED_TEXT)
        value = '"' + body.replace('"', '\\"').replace('\\\\"', '\\\\\\"') + '"'
    tail = draw(st.sampled_from(["", " # note", "  ", "\t# x"])) if form != "bare" else ""
    return prefix + key + sep + value + tail


LINE = st.one_of(assignment(), st.sampled_from(["", "# comment", "  # indented = comment", "#K0=no"]), st.just("K1"), st.sampled_from(["='orphan'", "K2='a' K3=b"]))


def composes_reading(text: str) -> dict[str, str] | None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "compose.yaml").write_text(COMPOSE)
        (root / ".env").write_text(text, encoding="utf-8")
        result = compose(root, [root / "compose.yaml"], "config", "--format", "json")
        if result.returncode != 0:
            return None
        env = json.loads(result.stdout)["services"]["s"]["environment"]
        return {k: v.replace("$$", "$") for k, v in env.items() if v != UNSET}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=6), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_the_env_file_reads_as_compose_reads_it(lines: list[str], newline: str, final: bool) -> None:
    text = newline.join(lines) + (newline if final else "")
    expected = composes_reading(text)
    if expected is None:
        return  # Compose refuses the file: nothing to agree with
    got = {k: v for k, v in parse_dotenv(text).items() if k in KEYS}
    assert got == expected, repr(text)


@pytest.mark.parametrize("text, expected", [
    ('DB_URL="postgres://u@db/app" # the app database\n', {"DB_URL": "postgres://u@db/app"}),
    ("GREETING=hello # says hi\n", {"GREETING": "hello"}),
    ("export TZ=UTC\n", {"TZ": "UTC"}),
    ("KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nNEXT=1\n", {"KEY": "-----BEGIN KEY-----\nabc\n-----END KEY-----", "NEXT": "1"}),
    ("LITERAL='a\\n${HOME}'\n", {"LITERAL": "a\\n${HOME}"}),
    ('LINES="a\\nb"\n', {"LINES": "a\nb"}),
    ("BASE=/srv\nDATA=${BASE}/data\n", {"BASE": "/srv", "DATA": "/srv/data"}),
    ("COLOR=#fff\n", {"COLOR": "#fff"}),
])  # fmt: skip
def test_real_env_file_spellings(tmp_path: Path, text: str, expected: dict[str, str]) -> None:
    (tmp_path / ".env").write_text(text)
    assert read_env_file(tmp_path, ".env") == expected
    names = "".join(f"      {k}: '${{{k}-{UNSET}}}'\n" for k in expected)
    (tmp_path / "compose.yaml").write_text("services:\n  s:\n    image: x\n    environment:\n" + names)
    result = compose(tmp_path, [tmp_path / "compose.yaml"], "config", "--format", "json")
    env = json.loads(result.stdout)["services"]["s"]["environment"]
    assert {k: v.replace("$$", "$") for k, v in env.items()} == expected
