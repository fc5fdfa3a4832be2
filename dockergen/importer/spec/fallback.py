"""What the next attempt carries verbatim when the spec an import wrote does not render.

The importer makes a value a spec field only where the field takes it, but some checks run
later (across fields, in the renderer). A problem the renderer reports at a service's field
sends that Compose key of that service to the ``compose:`` escape hatch (a build: its
Dockerfiles stay as they are); one under ``defaults`` sends the key of every service; one in
the escape hatch itself leaves the key out, and one about a service as a whole (no image, no
build: Compose refuses the original too) leaves the service out; ``--verify`` then lists
what that changes. Pure: problems in, the next options out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from dockergen.errors import Problem
from dockergen.importer.plan import ImportOptions

# Spec fields whose Compose key has another name (`build_args` refused alone, e.g. a name
# that looks secret, goes to the hatch alone: the Dockerfile still merges).
COMPOSE_KEY = {"target": "build", "build": "build", "uses": "build", "resources": "deploy"}
NOT_A_KEY = ("description", "environments", "enabled", "kubernetes")


def next_options(options: ImportOptions, problems: Iterable[Problem]) -> ImportOptions | None:
    """``options`` with the keys ``problems`` name moved one step further (native -> escape
    hatch -> left out); None when no problem names a key that can still move."""
    carried, left_out = dict(options.carried), dict(options.left_out)
    for problem in problems:
        found = _key_of(problem.path)
        if found is None:
            continue
        service, key, in_hatch = found
        if key == "*":
            left_out.setdefault((service, key), problem.message.splitlines()[0][:200])
            continue
        why = problem.message.splitlines()[0][:200]
        if not in_hatch and (service, key) not in carried and ("*", key) not in carried:
            carried[(service, key)] = why
        else:
            left_out.setdefault((service, key), why)
    if (carried, left_out) == (options.carried, options.left_out):
        return None
    return replace(options, carried=carried, left_out=left_out)


def _key_of(path: tuple[str | int, ...]) -> tuple[str, str, bool] | None:
    """(service or "*", Compose key or "*" for the whole service, whether the path is inside the
    escape hatch) of a spec path."""
    parts = list(path)
    if parts[:1] == ["services"] and len(parts) == 2:
        return str(parts[1]), "*", False  # the service as a whole
    if parts[:1] == ["services"] and len(parts) >= 3:
        service, rest = str(parts[1]), parts[2:]
        if rest[:1] == ["environments"] and len(rest) >= 3:
            rest = rest[2:]
    elif parts[:1] == ["defaults"] and len(parts) >= 2:
        service, rest = "*", parts[1:]
    elif parts[:1] == ["environments"] and parts[2:3] == ["defaults"] and len(parts) >= 4:
        service, rest = "*", parts[3:]
    else:
        return None
    field = rest[0]
    if not isinstance(field, str) or field in NOT_A_KEY:
        return None
    if field == "compose":
        return (service, str(rest[1]), True) if len(rest) >= 2 else None
    return service, COMPOSE_KEY.get(field, field), False
