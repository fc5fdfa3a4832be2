"""A Compose file read without the Compose CLI takes each plain scalar as Compose (Go's YAML)
does, not as YAML 1.2 or 1.1: `017` is octal, `2024-05-01` a Go time, `1_000` a thousand.
The real `docker-compose config` judges every value, in one call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockergen.importer.read.compose import load_compose_file, normalize_service, Paths
from dockergen.importer.read.go_yaml import go_scalar
from tests.tools import compose

VALUES = [
    "017", "0017", "-017", "08", "0o17", "0x1F", "0b101", "1_000", "0_17", "+12", "-0", "-00", "-0x0", "0", "00",
    "99999999999999999999", "18446744073709551615", "-9223372036854775809", "1e3", "1.50", ".5", "+.5", "-.5e3", "1.",
    "2024-05-01", "2024-5-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43Z", "2001-12-14 21:59:43.10",
    "2001-12-14T21:59:43", "2001-12-14 21:59:43.10 -5", "2024-13-01", "1:20", "yes", "on", "0.0.0.0", "1.2.3",
    "12abc", "0x", "1e", "--1", "+", ".", "1__0", "0b2", "09.5", "6.02e+23", "1e400", "9" * 400, "0O17", "2024-01-01T10:00:00+99:99",
]  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scalars")
    lines = "".join(f"      V{i}: {value}\n" for i, value in enumerate(VALUES))
    (root / "compose.yaml").write_text(f"services:\n  app:\n    image: alpine:3.20\n    environment:\n{lines}    configs:\n"
                                       "      - {source: conf, mode: 0440}\nconfigs:\n  conf:\n    file: ./conf\n")  # fmt: skip
    (root / "conf").write_text("x\n")
    return root


def test_each_plain_scalar_is_the_text_compose_passes_the_container(project: Path) -> None:
    done = compose(project, [project / "compose.yaml"], "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)["services"]["app"]["environment"]
    mine = normalize_service(load_compose_file(project, "compose.yaml").services["app"], Paths(project, project))["environment"]
    wrong = {VALUES[int(k[1:])]: (mine[k], v) for k, v in theirs.items() if mine[k] != v}
    assert wrong == {}, wrong  # value: (read here, Compose's)


def test_an_octal_looking_mode_is_octal(project: Path) -> None:
    done = compose(project, [project / "compose.yaml"], "config", "--format", "json")
    theirs = json.loads(done.stdout)["services"]["app"]["configs"][0]["mode"]
    assert (int(theirs, 8) if isinstance(theirs, str) else theirs) == 0o440  # Compose's JSON spells it "0440"
    assert load_compose_file(project, "compose.yaml").services["app"]["configs"][0]["mode"] == 0o440


def test_a_quoted_scalar_stays_text() -> None:
    assert go_scalar("abc") is None and go_scalar("017") == ("tag:yaml.org,2002:int", 15)
