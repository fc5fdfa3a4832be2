"""Write generated files: all rendered first, each replaced atomically, unchanged files untouched."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockergen.errors import DockergenError, Location
from dockergen.render.project import RenderedFile


@dataclass(frozen=True)
class WriteResult:
    written: list[str]
    unchanged: list[str]


def target_path(out_dir: Path, relative: str) -> Path:
    """``out_dir / relative``, refusing anything that would land outside ``out_dir``."""
    root = out_dir.resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise DockergenError.single(f"refusing to write outside the output directory: {relative}", location=Location(relative))
    return path


def write_files(out_dir: Path, files: list[RenderedFile]) -> WriteResult:
    staged: list[tuple[Path, Path]] = []
    unchanged: list[str] = []
    written: list[str] = []
    try:
        for f in files:
            path = target_path(out_dir, f.path)
            data = f.content.encode("utf-8")
            if path.is_file() and path.read_bytes() == data:
                unchanged.append(f.path)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".dockergen-tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            staged.append((Path(tmp), path))
            written.append(f.path)
        # Every file is on disk in full before any target is replaced.
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise DockergenError.single(f"cannot write: {exc}", location=Location(str(exc.filename or out_dir))) from None
    return WriteResult(written, unchanged)
