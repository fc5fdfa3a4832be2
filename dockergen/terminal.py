"""How dockergen shows tables, colour and progress: rich on a terminal, plain text otherwise.

Styled output only when the stream is a terminal, ``NO_COLOR`` is unset and ``TERM`` is not
``dumb`` (https://no-color.org); rich is imported only then, so piped output, CI logs and the
fast paths never load it, and what a script reads stays byte-stable.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

from dockergen.text import visible

# Severity / status words and the colour each gets on a terminal.
COLOURS = {
    "error": "bold red", "FAIL": "bold red", "warning": "yellow", "warn": "yellow", "note": "cyan",
    "ok": "green", "skip": "dim", "created": "green", "updated": "yellow", "deleted": "red",
}  # fmt: skip


def styled(stream: IO[str] | None = None) -> bool:
    stream = stream if stream is not None else sys.stdout
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _console(stream: IO[str]) -> Any:
    from rich.console import Console

    return Console(file=stream, highlight=False, soft_wrap=False)


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None, colour_column: int | None = None) -> None:
    """A table with a header on a terminal (``colour_column``'s words coloured by COLOURS);
    callers print their plain form themselves when ``styled()`` is False."""
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, title_justify="left", header_style="bold", show_edge=False, pad_edge=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        # a cell may hold a repository's file name or value: its control characters shown as escapes
        cells = [Text(visible(str(cell)), style=COLOURS.get(str(cell), "") if i == colour_column else "") for i, cell in enumerate(row)]
        grid.add_row(*cells)
    _console(sys.stdout).print(grid)


def word(text: str, stream: IO[str] | None = None) -> str:
    """``text`` coloured by COLOURS (ANSI) when ``stream`` is styled, else as it is."""
    stream = stream if stream is not None else sys.stdout
    style = COLOURS.get(text.strip())
    if not style or not styled(stream):
        return text
    codes = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
    return "\033[" + ";".join(codes[p] for p in style.split()) + "m" + text + "\033[0m"


class Progress:
    """What long work is doing now; shown on stderr only when stderr is a terminal."""

    def __init__(self, status: Any) -> None:
        self._status = status

    def update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)


@contextlib.contextmanager
def progress(text: str) -> Iterator[Progress]:
    if not styled(sys.stderr):
        yield Progress(None)
        return
    with _console(sys.stderr).status(text) as status:
        yield Progress(status)
