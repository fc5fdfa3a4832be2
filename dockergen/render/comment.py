"""Comment lines (``# ...``) for every generated file: the only place they are written.

Dockerfiles, Compose YAML, ``.env.example`` and ``.dockerignore`` all read ``#`` to the end
of the line, but disagree on what ends one: BuildKit and git stop at ``\\n`` only, YAML 1.1
and go-yaml (Compose) also at U+0085, U+2028 and U+2029. A text's own ``\\n`` starts a new
comment line; every other character some reader could take for a line break, a control
character or an invisible bidi character is shown as an escape, so a comment can neither end
early nor hide what follows it.
"""

from __future__ import annotations

from dockergen.text import visible


def comment_lines(text: str) -> list[str]:
    """``text`` as comment lines, one per ``\\n``-separated line."""
    return [("# " + visible(line)).rstrip() for line in text.split("\n")]
