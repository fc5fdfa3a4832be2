"""The one error for a name given on the command line that the spec does not declare
(``--env prdo``, ``explain ap``): what was asked, the closest declared names, and all of them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from dockergen.errors import DockergenError, Location, Problem


def suggestion(name: str, known: Sequence[str]) -> str:
    """``did you mean 'prod'? `` for a near miss, else the empty string."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == name.lower()]
    return f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""


def require_known(kind: str, asked: Iterable[str], known: Iterable[str], *, location: Location | None = None, listed: str = "declared") -> None:
    """Raise one problem per name of ``asked`` not in ``known`` (``kind``: "environment",
    "service"), each with its did-you-mean and the list of ``known`` names."""
    names = list(known)
    problems = [
        Problem(f"unknown {kind} {name!r}", location, hint=f"{suggestion(name, names)}{listed}: {', '.join(names) or 'none'}")
        for name in dict.fromkeys(asked)
        if name not in names
    ]
    if problems:
        raise DockergenError(problems)
