"""Read a YAML document dockergen was handed -- a spec, a Compose file to import, a
generated file edited by hand for absorb -- under one set of rules and limits.

* the text must be UTF-8 (the error names the line and column of the first bad byte);
* a syntax error is located at the file's line and column;
* tags other than plain YAML's own are refused where they stand (Compose's ``!reset`` and
  ``!override`` only where the caller reads Compose files), and so is an alias inside
  the anchor it refers to (ruamel would silently read it as null);
* ``plain`` copies the document to dicts, lists and scalars with aliases expanded, at
  most ``MAX_NODES`` values ("billion laughs") and ``MAX_DEPTH`` levels.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dockergen.errors import DockergenError, Location, Problem
from dockergen.safe_read import MAX_DEPTH, MAX_NODES

# Tags plain YAML resolves to by itself; any other (`!!python/tuple`, `!!binary`, Compose's
# `!reset`, a local `!secret`) would be read as something the file never says.
CORE_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp"))
COMPOSE_TAGS = frozenset({"!reset", "!override"})
INT_TAG = "tag:yaml.org,2002:int"
KEY_NOT_SCALAR = "a mapping key must be a plain value"
HOLDS_ITSELF = "an alias refers to the anchor that contains it"
# Python refuses to turn a decimal of more than 4,300 digits into an int (and a hex one of
# that size back into text): such a "number" would end the read, or a write, in a crash.
MAX_NUMBER_LENGTH = 1000
TOO_LONG_NUMBER = f"a number longer than {MAX_NUMBER_LENGTH} characters"


def decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DockergenError.single("not valid UTF-8", location=Location(shown, line, col), hint="save it as UTF-8") from None


def read_round_trip(
    text: str, shown: str, allowed_tags: frozenset[str] = frozenset(), rewrite: Callable[[Node], None] | None = None
) -> tuple[Any, list[Problem]]:
    """The document as ruamel's round-trip loader builds it (positions on every mapping
    and sequence), and the problems that still let it be read (a foreign tag, an alias in
    its own anchor); raises ``DockergenError`` for everything else, located. ``rewrite``
    may change the composed nodes before they are built (``spec.load.read_plain``'s)."""
    _refuse_deep_flow(text, shown)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        root = yaml.compose(text)
        if root is None:
            return None, []
        problems = node_problems(root, shown, allowed_tags)
        if any(p.message.startswith((KEY_NOT_SCALAR, TOO_LONG_NUMBER)) for p in problems):
            raise DockergenError(problems)  # ruamel cannot build such a mapping or number at all
        if rewrite is not None:
            rewrite(root)
        try:
            return yaml.constructor.construct_document(root), problems
        except AttributeError:
            if any(p.message.startswith(HOLDS_ITSELF) for p in problems):
                raise DockergenError(problems) from None  # merged into itself (`<<: *a` inside &a): ruamel cannot build it
            raise
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, shown) from None
    except NotImplementedError:
        # ruamel's round-trip reader gives up on some comment layouts ("overlap in comment")
        # before it reaches the syntax error behind them; the safe reader names that error.
        try:
            YAML(typ="safe").load(text)
        except MarkedYAMLError as exc:
            raise _syntax_error(exc, shown) from None
        raise DockergenError.single(
            "YAML comments laid out in a way the reader cannot place", location=Location(shown), hint="put each comment on a line of its own"
        ) from None
    except YAMLError as exc:
        message = " ".join(str(getattr(exc, "reason", None) or exc).split("\n")[0].split())
        raise DockergenError.single(f"YAML error: {message}", location=_at_offset(text, shown, getattr(exc, "position", None))) from None
    except RecursionError:
        raise DockergenError.single("values are nested too deeply to read", location=Location(shown)) from None


def _syntax_error(exc: MarkedYAMLError, shown: str) -> DockergenError:
    mark = exc.problem_mark or exc.context_mark
    loc = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
    message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
    hint = "indent with spaces, not tabs" if "\\t" in repr(exc) or "tab" in message else _syntax_hint(message, exc)
    return DockergenError.single(f"YAML syntax: {message}", location=loc, hint=hint)


# What the parser's words mean for someone editing the file, most common first.
_SYNTAX_HINTS = (
    ("duplicate key", "each key may appear once per mapping"),
    ("expected <block end>", "this line's indentation matches no key above it: line it up, with spaces, with the keys of its mapping"),
    ("mapping values are not allowed here", "quote a value that holds `: ` (`command: \"echo a: b\"`), or check that this "
                                            "line is not indented under a value"),  # fmt: skip
    ("undefined alias", "`*name` repeats the value anchored earlier with `&name`: anchor it first, or quote a value that starts with `*`"),
    ("could not find expected ':'", "a key needs `: ` after it; quote a value that spans lines"),
)


def _syntax_hint(message: str, exc: MarkedYAMLError) -> str | None:
    if "quoted scalar" in str(exc.context or "") and exc.context_mark is not None:
        return f"the quote opened at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1} is never closed"
    if "<stream end>" in message or "end of stream" in message:
        return "the file ends inside an open `[`, `{` or quote: close it"
    return next((hint for words, hint in _SYNTAX_HINTS if words in message), None)


_FLOW_TOKENS = re.compile(r"""[\[\]{}'"#|>\n]""")
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*[ \t]*(#.*)?$")
_BLOCK_STARTS = frozenset(":-?")
_FLOW_STARTS = frozenset(":-?[{,")


def _refuse_deep_flow(text: str, shown: str) -> None:
    """Flow collections (``[[[...``) nested deeper than MAX_DEPTH, found before ruamel's
    scanner sees them: its work grows with the square of the nesting (20,000 levels: over
    a minute). Brackets count only where YAML can start a collection (after ``:``, ``-``,
    ``,`` or another bracket, or first on a line); quoted text and comments are skipped."""
    depth, line_start, at = 0, 0, 0
    for match in _FLOW_TOKENS.finditer(text):
        position = match.start()
        if position < at:
            continue  # inside a quoted scalar or a comment already skipped
        char = match.group()
        if char == "\n":
            line_start = position + 1
            continue
        before = text[line_start:position].rstrip()
        # In block context a value starts after `:`, `-`, `?` or first on a line; inside a
        # flow collection also after a bracket or a comma.
        starts_value = not before or before[-1] in (_FLOW_STARTS if depth else _BLOCK_STARTS)
        if char == "#":
            if not before or text[position - 1] in " \t":
                end = text.find("\n", position)
                at = len(text) if end == -1 else end
            continue
        if char in "'\"":
            if starts_value:
                at = _quote_end(text, position, char)
            continue
        if char in "|>":
            line_end = text.find("\n", position)
            line_end = len(text) if line_end == -1 else line_end
            if starts_value and not depth and _BLOCK_HEADER.match(text, position, line_end):
                at = _block_end(text, line_start, line_end)  # a literal or folded block: text, not YAML
            continue
        if char in "[{" and starts_value:
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, position) + 1
                raise DockergenError.single(f"values are nested more than {MAX_DEPTH} levels deep",
                                            location=Location(shown, line, position - line_start + 1))  # fmt: skip
        elif char in "]}" and depth:
            depth -= 1


def _block_end(text: str, line_start: int, line_end: int) -> int:
    """Where the block scalar introduced on the line at ``line_start`` ends: at the first
    non-blank line indented no deeper than that line."""
    header = text[line_start:line_end]
    indent = len(header) - len(header.lstrip(" "))
    at = line_end
    while at < len(text):
        end = text.find("\n", at + 1)
        end = len(text) if end == -1 else end
        line = text[at + 1 : end]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            return at
        at = end
    return len(text)


def _quote_end(text: str, start: int, quote: str) -> int:
    """Just past the quoted scalar opening at ``start`` (\\" escapes in double quotes, '' in single)."""
    at = start + 1
    while True:
        end = text.find(quote, at)
        if end == -1:
            return len(text)
        if quote == '"' and _escaped(text, end):
            at = end + 1
        elif quote == "'" and text.startswith("''", end):
            at = end + 2
        else:
            return end + 1


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def node_problems(root: Node, shown: str, allowed_tags: frozenset[str] = frozenset()) -> list[Problem]:
    """Foreign tags and aliases inside their own anchor, each at its node; every node is
    looked at once, however often aliases repeat it."""
    problems: list[Problem] = []
    done: set[int] = set()
    open_: set[int] = set()

    def walk(node: Node, depth: int, path: tuple[str | int, ...]) -> None:
        if id(node) in open_:
            problems.append(Problem(f"{HOLDS_ITSELF} (a value that holds itself)",
                                    _at_mark(shown, node), path, hint="use the alias outside its anchor's value"))  # fmt: skip
            return
        if id(node) in done or depth > MAX_DEPTH:
            return  # too deep: reported when the document is copied
        tag = str(getattr(node.tag, "value", node.tag))
        if tag not in CORE_TAGS and tag not in allowed_tags:
            shown_tag = "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag
            problems.append(Problem(f"YAML tag {shown_tag} is not allowed here", _at_mark(shown, node), path,
                                    hint="write the plain value; in a spec layer, null drops an inherited value"))  # fmt: skip
        if tag == INT_TAG and len(node.value) > MAX_NUMBER_LENGTH:
            problems.append(Problem(TOO_LONG_NUMBER, _at_mark(shown, node), path, hint="quote it to make it a string"))
        open_.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    problems.append(Problem(f"{KEY_NOT_SCALAR} (a list or a mapping is used as a key)", _at_mark(shown, key), path,
                                            hint="a key is a plain word; a `? ` or `[...]:` line makes a complex key"))  # fmt: skip
                walk(key, depth + 1, path)
                walk(value, depth + 1, (*path, key.value) if isinstance(key.value, str) else path)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, depth + 1, (*path, index))
        open_.discard(id(node))
        done.add(id(node))

    walk(root, 0, ())
    return problems


def _at_mark(shown: str, node: Node) -> Location:
    return Location(shown, node.start_mark.line + 1, node.start_mark.column + 1)


def _at_offset(text: str, shown: str, offset: int | None) -> Location:
    if not isinstance(offset, int) or not 0 <= offset <= len(text):
        return Location(shown)
    line = text.count("\n", 0, offset) + 1
    return Location(shown, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def plain(doc: Any, shown: str, tagged: Callable[[str, Any], Any] | None = None) -> Any:
    """``doc`` (as ``read_round_trip`` built it) as plain dicts, lists and scalars, a fresh
    copy per alias use; ``tagged(tag, value)`` turns an allowed tagged value into what the
    caller keeps (default: the value)."""
    counter = [0]

    def copy(node: Any, depth: int) -> Any:
        counter[0] += 1
        if depth > MAX_DEPTH:
            raise DockergenError.single(f"values are nested more than {MAX_DEPTH} levels deep", location=Location(shown))
        if counter[0] > MAX_NODES:
            raise DockergenError.single(f"the file expands to more than {MAX_NODES} values (YAML aliases?)", location=Location(shown))
        tag = getattr(getattr(node, "tag", None), "value", None)
        if isinstance(node, CommentedMap):
            value: Any = {str(k): copy(v, depth + 1) for k, v in node.items()}
        elif isinstance(node, CommentedSeq):
            value = [copy(v, depth + 1) for v in node]
        elif isinstance(node, TaggedScalar):
            value = node.value
        elif isinstance(node, bool) or node is None or isinstance(node, int | float):
            return node
        else:
            return str(node)
        return tagged(tag, value) if tagged is not None and tag in COMPOSE_TAGS else value

    return copy(doc, 0)


def read_document(raw: bytes, shown: str, allowed_tags: frozenset[str] = frozenset()) -> Any:
    """Bytes -> plain data, every problem raised located (see the module docstring)."""
    doc, problems = read_round_trip(decode(raw, shown), shown, allowed_tags)
    if problems:
        raise DockergenError(problems)
    return plain(doc, shown)
