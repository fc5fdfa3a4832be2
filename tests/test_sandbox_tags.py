"""The e2e stand-in images carry the patch tags dockergen pins by default, so that an
unmodified Dockerfile builds on the sandbox without a registry."""

from __future__ import annotations

import re

from dockergen import presets
from tests.conftest import ROOT

SETUP = (ROOT / "tools" / "container-sandbox-setup.sh").read_text()


def test_every_python_stand_in_minor_is_also_tagged_with_its_pinned_patch_release() -> None:
    minors = set(re.findall(r"\b(3\.\d+)-slim\b", SETUP))
    assert minors >= {"3.11", "3.12", "3.13"}
    for minor in minors:
        assert f"{presets.PYTHON_PATCH_RELEASES[minor]}-slim" in SETUP, minor


def test_every_node_stand_in_major_is_also_tagged_with_its_pinned_patch_release() -> None:
    majors = set(re.findall(r"docker\.io/library/node:(\d+)-slim\b", SETUP))
    assert majors >= {"18", "20", "22"}
    for major in majors:
        assert f"docker.io/library/node:{presets.NODE_PATCH_RELEASES[major]}-slim" in SETUP, major
