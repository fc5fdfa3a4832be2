"""Resource bombs get a clear refusal (exit 2, a located message), never a crash or a hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAD = "version: 1\nproject: x\nservices:\n  a:\n    image: busybox:1\n    compose:\n"


def laughs() -> str:
    text = HEAD + "      l0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 12):  # 9^12 values once expanded
        text += f"      l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


def nested_block(depth: int) -> str:
    text, indent = HEAD, "      "
    for i in range(depth):
        text += f"{indent}k{i}:\n"
        indent += "  "
    return text + f"{indent}v: 1\n"


CASES = [
    ("billion-laughs", laughs(), "spec expands to more than 500000 values (YAML aliases?)"),
    ("oversized", "#" * (5 * 1024 * 1024 + 1), "the limit is 5242880"),
    ("deep-flow", HEAD + "      x: " + "[" * 20000 + "]" * 20000 + "\n", "7:74: error: values are nested more than 64 levels deep"),
    ("deep-block", nested_block(80), "nested more than 64 levels deep"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_refused_clearly(name: str, text: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "dockergen", "render"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["dockergen.yaml"]


# A merge key sends the spec down the careful (round-trip) read, where the check runs.
CAREFUL = HEAD + "      x-merged: {<<: {k: 1}}\n"
TEXT_WITH_BRACKETS = {
    "block-scalar": CAREFUL + "      x-script: |\n        " + "[" * 70 + "\n        done\n",
    "folded-scalar": CAREFUL + "      x-note: >-\n        " + "{" * 70 + "\n",
    "double-quoted": CAREFUL + '      x-q: "' + "[" * 70 + '"\n',
    "single-quoted": CAREFUL + "      x-q: 'it''s " + "[" * 70 + "'\n",
    "plain-text": CAREFUL + "      x-cmd: echo " + "[" * 70 + "\n",
    "comment": CAREFUL + "      x-c: 1  # " + "[" * 70 + "\n",
}


@pytest.mark.parametrize("name", sorted(TEXT_WITH_BRACKETS))
def test_brackets_in_text_are_not_nesting(name: str, tmp_path: Path) -> None:
    """The depth check that runs before ruamel's scanner counts only brackets that open a
    collection, never those inside text."""
    (tmp_path / "dockergen.yaml").write_text(TEXT_WITH_BRACKETS[name])
    result = subprocess.run([sys.executable, "-m", "dockergen", "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
