"""Reading the spec: the fast read (ruamel's C loader) gives exactly the data of the
careful read (round-trip loader, with positions), and positions are read only when
something asks for one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockergen.importer.read.compose import _read_round_trip
from dockergen.importer.read.go_yaml import compose_scalars
from dockergen.spec.load import SourceMap, _c_yaml, _careful_read, _read_positions, load_spec, parse_spec, read_plain
from tests.test_errors import run_cli

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(
    [*ROOT.glob("examples/*/dockergen.yaml"), ROOT / "specs" / "reference.yaml", *ROOT.glob("tests/fixtures/**/dockergen.yaml")]
)

# Documents where the two readers could part ways: YAML 1.2 scalars, quoting styles,
# block scalars, anchors, unicode, empty values, and values the fast read must hand over.
TRICKY = {
    "scalars": "a: yes\nb: no\nc: on\nd: 0o17\ne: 017\nf: 0x1F\ng: 1_000\nh: .inf\ni: -.5e3\nj: ~\nk: null\nl: true\n",
    "strings": "a: 'it''s'\nb: \"tab\\tand \\u00e9\"\nc: |\n  line one\n  line two\nd: >-\n  folded\n  text\ne: plain # comment\n",
    "anchors": "base: &b {x: 1, y: [1, 2]}\nuse: *b\nlist: [&i item, *i]\n",
    "unicode": "name: caf\u00e9 \u2603\nemoji: \"\\U0001F600\"\n",
    "empty": "a:\nb: []\nc: {}\nd: ''\n",
    "date": "when: 2001-12-14\nstamp: 2001-12-14t21:59:43.10-05:00\n",
    "merge": "base: &b {x: 1, y: 2}\nuse:\n  z: 0\n  <<: *b\n  x: 3\n",
    "merge-flow": "base: &b {x: 1}\nuse: {<<: *b, y: 2}\n",
    "merge-explicit": "base: &b {x: 1}\nuse:\n  ? << # the key\n  : *b\n",
    "merge-tagged": "base: &b {x: 1}\nuse:\n  !!merge <<  : *b\n",
    "heredoc": "steps: |\n  RUN <<EOF\n  echo hi\n  EOF\nshell: 'cat <<-END | tr a b'\nshift: a << b\n",
    "tag": "a: !custom value\n",
    "int-key": "1: one\n",
    "binary": "a: !!binary aGVsbG8=\n",
    "explicit": "a: !!str 12\nb: !!float 1\nc: !!int '0x1F'\nd: !!bool yes\ne: !!null ''\n=: eq\nf: {=: [=]}\n",
    "duplicate": "a: 1\nb: {c: 1, c: 2}\n",
    "recursive": "a: &r [1, *r]\n",
    "value-tag": "a: =\n",
    "bad-float": "a: !!float abc\n",
}


def _both(text: str) -> tuple[object, object]:
    return read_plain(text), _careful_read(text, SourceMap("x.yaml", _positions={}))[0]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_spec_takes_the_fast_read_and_gets_the_same_data(spec: Path) -> None:
    fast, careful = _both(spec.read_text(encoding="utf-8"))
    assert fast is not None, "a plain spec should not need the careful read"
    # json keeps key order: the order of services and keys reaches the output.
    assert json.dumps(fast) == json.dumps(careful)


POSITION_CASES = {
    "flow": "a: {b: [1, {c: 2}], 'd e': \"x\"}\nf: [ g , h ]\n",
    "block": "a:\n  - b: 1\n    c:\n      - x\n      -   y\n  -\n    d: 2\nz: |\n  text\n  more\nw: >-\n  f\n",
    "unicode": "caf\u00e9:\n  na\u00efve: [\u2603, \"\\U0001F600\"]\n  after: 1\n",
    "comments": "# head\na: 1  # trailing\n\n# between\nb:\n  # inside\n  - 1\n",
    "aliases": "x: &a {k: [1, 2]}\ny: *a\nz: [&s v, *s]\n",
}


@pytest.mark.parametrize(
    "text", [*(p.read_text(encoding="utf-8") for p in SPECS), *POSITION_CASES.values(), *TRICKY.values()],
    ids=[*(str(p.relative_to(ROOT)) for p in SPECS), *POSITION_CASES, *(f"tricky-{name}" for name in TRICKY)],
)
def test_positions_from_the_c_composer_are_the_round_trip_loaders(text: str) -> None:
    """A plain document's positions are read, when asked for, from the C composer's nodes."""
    if read_plain(text) is None:
        return  # the careful read took it, positions and all
    careful = SourceMap("x.yaml", _positions={})
    _careful_read(text, careful)
    assert _read_positions(text, "x.yaml") == careful.positions


COMPOSE_FILES = sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*") if p.suffix in (".yml", ".yaml") and "compose" in p.name)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_import_reads_compose_files_the_same_either_way(path: Path) -> None:
    """`import` reads Compose files with the fast read too, when it can take them (with
    Compose's Go reading of scalars, as import asks for it: `0400` is octal either way)."""
    text = path.read_text(encoding="utf-8")
    fast = read_plain(text, compose_scalars)
    if fast is not None:
        assert json.dumps(fast) == json.dumps(_read_round_trip(text))
    elif "<<" not in text and "!" not in text:
        # Only tags, merge keys and what libyaml's stricter scanner refuses (`[/tmp:size=32m]`:
        # a `:` in a flow sequence, which Compose reads) need the round-trip read.
        with pytest.raises(Exception, match="unexpected ':'|mapping values are not allowed"):
            _c_yaml().compose(text)


def test_import_takes_the_fast_read_for_most_of_the_legacy_compose_files() -> None:
    taken = [p.name for p in COMPOSE_FILES if read_plain(p.read_text(encoding="utf-8")) is not None]
    assert len(COMPOSE_FILES) >= 13 and len(taken) >= 9, taken


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_documents_read_the_same_either_way(name: str) -> None:
    text = TRICKY[name]
    fast, careful_or_error = read_plain(text), None
    try:
        careful_or_error = _careful_read(text, SourceMap("x.yaml", _positions={}))[0]
    except Exception as exc:  # noqa: BLE001 - compared below
        careful_or_error = exc
    if fast is not None:
        assert json.dumps(fast) == json.dumps(careful_or_error)
    # parse_spec returns whatever the careful read returns, or raises what it raises.
    try:
        loaded = parse_spec(text.encode(), "x.yaml").data
    except Exception as exc:  # noqa: BLE001
        assert type(exc) is type(careful_or_error) and str(exc) == str(careful_or_error)
    else:
        assert json.dumps(loaded) == json.dumps(careful_or_error)


def test_values_the_fast_read_cannot_take_go_the_careful_way() -> None:
    for name in ("date", "merge", "merge-flow", "merge-explicit", "merge-tagged", "tag", "int-key", "binary", "duplicate", "recursive", "value-tag", "bad-float"):
        assert read_plain(TRICKY[name]) is None, name
    assert read_plain(TRICKY["heredoc"]) is not None  # a heredoc is no merge key: an imported spec's steps hold them


def test_positions_are_read_only_when_asked_for(tmp_path: Path) -> None:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text("version: 1\nproject: demo\nservices:\n  api:\n    image: nginx\n")
    loaded = load_spec(spec)
    assert loaded.source._positions is None
    assert loaded.source.has(("services", "api", "image")) and not loaded.source.has(("services", "db"))
    assert loaded.source._positions is None
    location = loaded.source.locate(("services", "api", "image"))
    assert (location.line, location.column) == (5, 5)


def test_a_key_brought_in_by_a_merge_is_located_where_it_is_written(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(
        "version: 1\nproject: demo\nservices:\n"
        "  api: &small\n    image: nginx\n    resources: {limits: {memory: 4GiB}}\n"
        "  worker:\n    <<: *small\n    command: [sleep, '1']\n"
    )
    result = run_cli(tmp_path, "validate")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert any(line.startswith("dockergen.yaml:6:") and "services.worker.resources.limits.memory" in line for line in lines), result.stderr


def test_a_syntax_error_behind_a_comment_ruamel_cannot_place_is_located(tmp_path: Path) -> None:
    # ruamel's round-trip reader raises NotImplementedError ("overlap in comment") here
    # instead of the syntax error.
    spec = tmp_path / "dockergen.yaml"
    spec.write_text("version: 1\nproject: p\nservices:      # one\n  b with it\n\nc:             # two\n  d: 1\n  - e\n")
    result = run_cli(tmp_path, "validate", "--spec", str(spec))
    assert result.returncode == 2
    assert "dockergen.yaml:8:3: error: YAML syntax: did not find expected key" in result.stderr, result.stderr
    assert "internal error" not in result.stderr
