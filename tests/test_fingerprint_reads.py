"""The fingerprint a generated file's header records, read without hashing its body, and
the SHA-256 behind every fingerprint, whichever implementation computes it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen import fingerprint
from dockergen.fingerprint import FINGERPRINT_PREFIX, MARK, read_seal, recorded_fingerprint, stamp
from tests.conftest import ROOT

# Pieces that make headers interesting: the mark, the prefix, line ends, bytes that are not
# UTF-8 or only part of a sequence (right before a newline too), padding past 2,048 bytes.
PIECES = [b"\n", b"\r\n", b"\r", MARK.encode(), FINGERPRINT_PREFIX.encode(), b"sha256:0123abcd", b" ", b"\t", b"#", b"\xe2", b"\x82\xac", b"\xff", b"\xc3", "é".encode(), b"\x00", b"x" * 300]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(PIECES) | st.binary(max_size=8), max_size=40))
def test_the_header_alone_gives_what_read_seal_records(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert recorded_fingerprint(data) == read_seal(data).recorded


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), st.integers(0, 8))
def test_a_stamped_file_records_its_own_fingerprint(body: str, above: int) -> None:
    content = "\n".join([*(f"# line {i}" for i in range(above)), f"# {MARK} from dockergen.yaml.", body])
    stamped = stamp(content).encode("utf-8")
    seal = read_seal(stamped)
    assert recorded_fingerprint(stamped) == seal.recorded is not None and seal.intact


@given(st.binary(max_size=5000))
def test_both_implementations_give_the_same_digests(data: bytes) -> None:
    expected = hashlib.sha256(data).hexdigest()
    assert fingerprint._own_sha256(data).hexdigest() == expected == fingerprint.sha256(data).hexdigest()
    grown = fingerprint.sha256()
    grown.update(data[:7])
    grown.update(data[7:])
    assert grown.hexdigest() == expected


def test_check_loads_no_hashlib_and_a_render_hashes_with_it() -> None:
    """``check`` of a clean tree stays on the interpreter's own SHA-256 (loading OpenSSL is
    a tenth of it); once pydantic has loaded hashlib, fingerprints use it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    program = "import sys; sys.argv[0] = 'dockergen'; from dockergen.launcher import main; main()"
    # -S: without the interpreter's site hooks, so that only dockergen's own imports count (a
    # `.pth` of a system Python may import certifi, and typing with it, before any of ours).
    result = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", program, "check"], cwd=ROOT / "examples" / "platform", capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "dockergen.fingerprint" in loaded and not {"hashlib", "_hashlib", "typing", "dataclasses", "dockergen.errors"} & loaded
    probe = "import dockergen.fingerprint as f, sys; a = type(f.sha256()); import hashlib; b = type(f.sha256()); print(a is type(f._own_sha256()), b is type(hashlib.sha256()))"
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert shown.stdout.split() == ["True", "True"], shown.stderr
