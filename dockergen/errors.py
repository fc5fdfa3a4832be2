"""The user-facing error tree.

Every error a user can cause carries where it happened (file, line, column) and the
path of the offending field, so the CLI can print ``file:line:col: error: path: msg``.
Anything that is not a ``DockergenError`` is a bug in dockergen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockergen.text import visible


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """One finding about the user's input."""

    message: str
    location: Location | None = None
    path: tuple[str | int, ...] = ()
    hint: str | None = None
    severity: str = "error"  # or "warning": reported, never fatal

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field_path = f"{format_path(self.path)}: " if self.path else ""
        text = f"{where}{self.severity}: {field_path}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        # One line, whatever a key, a file name or a template put in it.
        return visible(text, allowed="")


def format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class DockergenError(Exception):
    """Bad input: reported as one or more problems, exit code 2."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.render() for p in self.problems)

    @classmethod
    def single(cls, message: str, **kwargs: object) -> DockergenError:
        return cls([Problem(message, **kwargs)])  # type: ignore[arg-type]
