"""Spec values with line breaks, quotes, `$` and backslashes: each is either written as
exactly that value (read back with BuildKit's own Dockerfile parser and its quoting
rules) or refused with exit 2 and a located message. Never an extra instruction."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import yaml as pyyaml  # a YAML 1.1 reader, like older Compose and podman-compose
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from dockergen.cli import main


def run_cli(cwd: Path, *args: str) -> Result:
    """The real CLI, in process (click's runner) for speed; ``cwd`` as the working directory."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(previous)


def api_service(**extra: Any) -> dict[str, Any]:
    """A python service; ``extra`` keys are dotted paths into it (``build.env``)."""
    service: dict[str, Any] = {
        "build": {"family": "python", "context": "api", "port": 8000, "python": {"app": "app.main:app"}},
    }
    for dotted, value in extra.items():
        node = service
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return service


def write_spec(directory: Path, service: dict[str, Any], name: str = "dockergen.yaml") -> Path:
    spec = {"version": 1, "project": "demo", "environments": {"dev": {}, "prod": {}}, "services": {"api": service}}
    path = directory / name
    # JSON is YAML: every escape in a value survives exactly.
    path.write_text(json.dumps(spec, indent=2))
    return path


def render_ok(directory: Path, service: dict[str, Any]) -> tuple[dockerfile.Command, ...]:
    directory.mkdir(parents=True, exist_ok=True)
    write_spec(directory, service)
    result = run_cli(directory, "render", "-q")
    assert result.exit_code == 0, result.stderr
    return dockerfile.parse_string((directory / "api" / "Dockerfile").read_text())


def render_refused(directory: Path, service: dict[str, Any]) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    write_spec(directory, service)
    result = run_cli(directory, "render")
    assert result.exit_code == 2, (result.output, result.exception)
    assert sorted(p.name for p in directory.iterdir()) == ["dockergen.yaml"], "a refused spec writes nothing"
    return result.stderr


PLAIN = {
    "build.env": {"A": "plain"},
    "build.labels": {"org.example.note": "plain"},
    "build.packages": {"runtime": ["libpq5"]},
    "build.python.prod_command": ["app"],
}


def like_baseline(**changes: Any) -> dict[str, Any]:
    """The baseline service with ``changes`` (dotted paths) instead of its harmless values."""
    return api_service(**{**PLAIN, **changes})


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[dockerfile.Command, ...]:
    """The instructions of the Dockerfile with harmless values in every tested place."""
    return render_ok(tmp_path_factory.mktemp("baseline"), like_baseline())


def instructions(commands: tuple[dockerfile.Command, ...]) -> list[str]:
    return [c.cmd for c in commands]


def buildkit_word(word: str, escape: str = "\\") -> str:
    """A double-quoted ENV/LABEL word as BuildKit's shell lexer reads it (``shell/lex.go``,
    ``processDoubleQuote``) under the Dockerfile's ``escape`` character: escape + ``"``, ``$``
    or itself are escapes, any other escape character stays, an unescaped ``$`` would expand a
    variable and an unescaped ``"`` ends the word."""
    assert word.startswith('"') and word.endswith('"') and len(word) >= 2, word
    body, out, i = word[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == escape and i + 1 < len(body) and body[i + 1] in '"$' + escape:
            out.append(body[i + 1])
            i += 2
            continue
        assert c != "$", f"unescaped $ would be expanded by the builder: {word}"
        assert c != '"', f"unescaped quote ends the word early: {word}"
        out.append(c)
        i += 1
    return "".join(out)


TRICKY = [
    'a"b$c\\d',
    "$HOME",
    "${HOME:-/root}",
    "trailing backslash\\",
    "\\\\double",
    '"',
    "it's",
    "tab\there",
    "# not a comment",
    "a && b ; c | d `id` $(id)",
    "ünïcødé ✓",
    "",
    " padded ",
]


@pytest.mark.parametrize("escape", ["\\", "`"])
@pytest.mark.parametrize("value", [*TRICKY, 'x" EVIL="1', "tick`", 'x`" EVIL=`"1', "`$HOME"], ids=repr)
def test_a_double_quoted_value_is_one_word_under_either_escape_character(value: str, escape: str) -> None:
    """Under `# escape=`` a `\\"` is a backslash and the closing quote: `dq` escapes with the
    Dockerfile's own escape character, so the value stays one ARG's one word."""
    from dockergen.render.quote import directive, double_quoted

    parsed = dockerfile.parse_string(f"{directive('escape', escape)}\nFROM scratch\nARG A={double_quoted(value, escape)}\nLABEL a={double_quoted(value, escape)}\n")
    assert [c.cmd for c in parsed] == ["FROM", "ARG", "LABEL"]
    (arg,), (_, label) = parsed[1].value, parsed[2].value
    assert buildkit_word(arg.removeprefix("A="), escape) == value and buildkit_word(label, escape) == value


@pytest.mark.parametrize("value", TRICKY, ids=[repr(v) for v in TRICKY])
def test_env_value_round_trips_through_buildkit(value: str, tmp_path: Path, baseline: tuple) -> None:
    commands = render_ok(tmp_path, like_baseline(**{"build.env": {"A": value}}))
    assert instructions(commands) == instructions(baseline), "an ENV value must never add or remove an instruction"
    envs = [c for c in commands if c.cmd == "ENV" and c.value[0] == "A"]
    assert len(envs) == 1
    assert len(envs[0].value) == 2, envs[0].value
    assert buildkit_word(envs[0].value[1]) == value


@pytest.mark.parametrize("value", TRICKY, ids=[repr(v) for v in TRICKY])
def test_label_value_round_trips_through_buildkit(value: str, tmp_path: Path, baseline: tuple) -> None:
    commands = render_ok(tmp_path, like_baseline(**{"build.labels": {"org.example.note": value}}))
    assert instructions(commands) == instructions(baseline)
    labels = [c for c in commands if c.cmd == "LABEL" and not c.value[0].startswith("org.opencontainers.image.")]  # those are prod's OCI labels
    assert [c.value[0] for c in labels] == ["org.example.note"]
    assert buildkit_word(labels[0].value[1]) == value


@pytest.mark.parametrize(
    ("field", "key", "value"),
    [
        ("build.env", "A", "a\nRUN touch /pwned"),
        ("build.env", "A", "a\rRUN touch /pwned"),
        ("build.labels", "org.example.note", "x\nRUN touch /pwned"),
        ("build.env", "A B", "x"),
        ("build.env", "A=B", "x"),
        ("build.env", "A\nRUN", "x"),
        ("build.labels", "$KEY", "x"),
    ],
    ids=[
        "env-newline",
        "env-carriage-return",
        "label-newline",
        "env-key-space",
        "env-key-equals",
        "env-key-newline",
        "label-key-dollar",
    ],
)
def test_env_and_label_values_that_cannot_be_one_dockerfile_word_are_refused(
    field: str, key: str, value: str, tmp_path: Path
) -> None:
    stderr = render_refused(tmp_path, api_service(**{field: {key: value}}))
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.(env|labels)\.", stderr), stderr
    assert "line breaks are not allowed" in stderr or "not a valid ENV/LABEL key" in stderr


COMMANDS = [
    ["sh", "-c", 'echo "$HOME"\nRUN touch /pwned \\'],
    ["app", "--greeting", "it's \"quoted\" and \\back\\slashed\\"],
    ["app", "]", "[", "\u2028", "ünï"],
    ["app", "${NOT_EXPANDED}", "$$"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=[repr(a) for a in COMMANDS])
def test_prod_command_is_exec_form_with_the_exact_arguments(argv: list[str], tmp_path: Path, baseline: tuple) -> None:
    commands = render_ok(tmp_path, like_baseline(**{"build.python.prod_command": argv}))
    assert instructions(commands) == instructions(baseline)
    last = commands[-1]
    assert last.cmd == "CMD" and last.json, last.original
    assert list(last.value) == argv


@pytest.mark.parametrize("name", ["libpq5", "python3-psycopg2=2.9.5-1", "g++", "lib.so~1:amd64", "a,b"])
def test_package_names_are_written_as_one_word_each(name: str, tmp_path: Path, baseline: tuple) -> None:
    commands = render_ok(tmp_path, like_baseline(**{"build.packages": {"runtime": [name]}}))
    assert instructions(commands) == instructions(baseline)
    installs = [c for c in commands if c.cmd == "RUN" and "apt-get install" in c.value[0]]
    assert len(installs) == 1
    words = installs[0].value[0].split()
    assert words[-1] == name
    assert words.count(name) == 1


BAD_PACKAGES = [
    "curl\nRUN touch /pwned",
    "curl && touch /pwned",
    "$(id)",
    "`id`",
    "a\\",
    "'q'",
    '"q"',
    "a b",
    "--allow-unauthenticated",  # an option to apt-get, not a package
    "-oAPT::Get::AllowUnauthenticated=1",
    "",
]


@pytest.mark.parametrize("name", BAD_PACKAGES, ids=[repr(n) for n in BAD_PACKAGES])
def test_package_names_with_shell_or_dockerfile_syntax_are_refused_at_their_line(name: str, tmp_path: Path) -> None:
    stderr = render_refused(tmp_path, api_service(**{"build.packages": {"build": ["gcc", name]}}))
    spec_lines = (tmp_path / "dockergen.yaml").read_text().splitlines()
    match = re.match(r"^dockergen\.yaml:(\d+):(\d+): error: services\.api\.build\.packages\.build\[1\]: ", stderr)
    assert match, stderr
    line, col = int(match[1]), int(match[2])
    assert spec_lines[line - 1][col - 1 :].startswith(json.dumps(name)), "points at the offending item"


@pytest.mark.parametrize("path", ["/health", "/api/v1/health?verbose=1&x=(2)", "/-/ready", "/%7Euser/a:b@c;d,e*f+g!h=i"])
def test_http_health_path_is_probed_exactly(path: str, tmp_path: Path, baseline: tuple) -> None:
    commands = render_ok(tmp_path, api_service(**{"healthcheck": {"http": path}}))
    (check,) = [c for c in commands if c.cmd == "HEALTHCHECK"]
    assert check.value[0] == "CMD" and check.json, check.original
    argv = list(check.value[1:])
    assert argv[:2] == ["python", "-c"]
    # The probe is valid Python whose only string literal is exactly the URL.
    code = ast.parse(argv[2])
    literals = [n.value for n in ast.walk(code) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert f"http://127.0.0.1:8000{path}" in literals
    # Compose runs the same probe: no `$` for it to interpolate.
    compose = pyyaml.safe_load((tmp_path / "compose.yaml").read_text())
    assert compose["services"]["api"]["healthcheck"]["test"] == ["CMD", *argv]


BAD_PATHS = [
    "/health\nRUN touch /pwned",
    "/h'+__import__('os').system('id')+'",
    "/health$HOME",
    "/health${X}",
    "/health\\",
    "/a b",
    '/a"b',
    "/a#frag",
    "health",
]


@pytest.mark.parametrize("path", BAD_PATHS, ids=[repr(p) for p in BAD_PATHS])
def test_http_health_paths_that_are_not_plain_url_paths_are_refused(path: str, tmp_path: Path) -> None:
    stderr = render_refused(tmp_path, api_service(**{"healthcheck": {"http": path}}))
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.healthcheck\.http: ", stderr), stderr


@pytest.mark.parametrize(
    "test",
    ["wget -q -O- http://127.0.0.1:8000/ \\", "wget -q -O- http://127.0.0.1:8000/ \\  ", ["CMD-SHELL", "true \\"]],
    ids=["string", "string-trailing-space", "cmd-shell-list"],
)
def test_shell_healthcheck_ending_in_a_line_continuation_is_refused(test: Any, tmp_path: Path) -> None:
    """In shell form it would continue into (and swallow) the next instruction."""
    stderr = render_refused(tmp_path, api_service(healthcheck={"test": test}))
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.healthcheck\.test: ", stderr), stderr
    assert "may not end with" in stderr


def test_shell_healthcheck_with_a_line_break_stays_inside_one_instruction(tmp_path: Path, baseline: tuple) -> None:
    shell = "true\nRUN touch /pwned"
    commands = render_ok(tmp_path, like_baseline(healthcheck={"test": shell}))
    assert instructions(commands) == [*instructions(baseline)[:-1], "HEALTHCHECK", "CMD"]
    (check,) = [c for c in commands if c.cmd == "HEALTHCHECK"]
    assert check.json and check.value == ("CMD", "/bin/sh", "-c", shell)


def test_shell_healthcheck_is_written_verbatim_as_one_instruction(tmp_path: Path, baseline: tuple) -> None:
    shell = "wget -q -O- 'http://127.0.0.1:8000/?a=\"b\"' || exit 1"
    commands = render_ok(tmp_path, like_baseline(healthcheck={"test": shell}))
    assert instructions(commands) == [*instructions(baseline)[:-1], "HEALTHCHECK", "CMD"]
    (check,) = [c for c in commands if c.cmd == "HEALTHCHECK"]
    # Exec form around the shell: a text that looks like JSON or ends in `\` stays a text.
    assert check.json and check.value == ("CMD", "/bin/sh", "-c", shell)


def test_exec_healthcheck_arguments_round_trip(tmp_path: Path) -> None:
    argv = ["CMD", "sh", "-c", "a\nb \\", "it's \"q\""]
    commands = render_ok(tmp_path, api_service(healthcheck={"test": argv}))
    (check,) = [c for c in commands if c.cmd == "HEALTHCHECK"]
    assert check.json and list(check.value) == argv


def test_generic_step_ending_in_a_line_continuation_is_refused(tmp_path: Path) -> None:
    stage = {"name": "prod", "from": "alpine:3.20", "steps": ["RUN echo hi \\", "USER 10001"]}
    service = {"target": "prod", "build": {"family": "generic", "stages": [stage]}}
    stderr = render_refused(tmp_path, service)
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.stages\[0\]\.steps\[0\]: ", stderr), stderr


def generic_service(steps: list[str]) -> dict[str, Any]:
    stage = {"name": "prod", "from": "alpine:3.20", "steps": steps}
    return {"target": "prod", "build": {"family": "generic", "context": "api", "stages": [stage]}}


# Each is one instruction over several lines; the import carries heredoc Dockerfiles this way.
MULTI_LINE_STEPS = [
    "RUN <<EOF\nset -e\necho hi\nEOF",
    "RUN <<EOF\nset -e\necho hi\nEOF\n",  # a YAML block scalar's final line break
    'RUN <<"EOF"\necho "$HOME" \\\n\n\n  indented  \nEOF',
    "COPY <<EOF /etc/app.conf\nkey = value\n\n# a comment in the file, not in the Dockerfile\n[section]   \nEOF",
    "RUN <<-EOT sh\n\techo tabs\n\tEOT",
    "RUN <<A <<B\necho a\nA\necho b\nB",
    "RUN apt-get update \\\n && apt-get install -y curl",
    "RUN set -e; \\\n# a comment line inside the continuation\n    echo done",
]


@pytest.mark.parametrize("step", MULTI_LINE_STEPS, ids=[repr(s) for s in MULTI_LINE_STEPS])
def test_a_multi_line_step_that_is_one_instruction_is_written_verbatim(step: str, tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_spec(tmp_path, generic_service([step, "USER 10001"]))
    result = run_cli(tmp_path, "render", "-q")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "api" / "Dockerfile").read_text()
    assert step.rstrip("\n") + "\nUSER 10001\n" in text, "heredoc bodies keep their blank lines and spaces"
    commands = dockerfile.parse_string(text)
    assert [c.cmd.upper() for c in commands] == ["FROM", step.split()[0], "USER"]
    assert commands[-1].original == "USER 10001"


BAD_STEPS = {
    "open-heredoc": ("RUN <<EOF\necho hi", "unterminated heredoc"),
    "heredoc-terminator-indented": ("RUN <<EOF\necho hi\n  EOF", "unterminated heredoc"),
    "trailing-continuation": ("RUN echo hi \\", "swallow the next instruction"),
    "continuation-then-blank": ("RUN echo hi \\\n", "swallow the next instruction"),
    "two-instructions": ("RUN echo hi\nUSER root", "this is 2"),
    "three-instructions": ("RUN a\nRUN b\nRUN c", "this is 3"),
    "heredoc-then-instruction": ("RUN <<EOF\nx\nEOF\nUSER root", "this is 2"),
    "comment-only": ("# just a comment", "not only a comment"),
    "escape-directive": ("# escape=`", "not only a comment"),
    "syntax-directive": ("# syntax=evil/frontend", "not only a comment"),
    "comment-before": ("# note\nRUN echo hi", "not a comment or blank line"),
    "blank-before": ("\nRUN echo hi", "not a comment or blank line"),
    "from": ("FROM alpine AS evil", "may not be FROM"),
    "from-lowercase": ("from alpine", "may not be FROM"),
    "onbuild-from": ("ONBUILD FROM alpine", "cannot trigger FROM"),
    "unknown-instruction": ("RNU echo hi", "not a Dockerfile instruction"),
    "no-arguments": ("RUN", "needs arguments"),
    "empty": ("", "may not be empty"),
    "blank": ("   ", "may not be empty"),
    "carriage-return": ("RUN a\rUSER root", "line break"),
    "crlf": ("RUN a\r\nUSER root", "line break"),
    "nul-truncates-the-parser": ("RUN echo ok\0\nUSER root", "control character"),
    "line-separator": ("RUN echo a\u2028USER root", "line break"),
    "next-line": ("RUN echo a\x85USER root", "line break"),
    "escape-char": ("RUN echo \x1b[2Khidden", "control character"),
    "bidi-override": ("RUN echo \u202eevil", "invisible formatting character"),
}


@pytest.mark.parametrize(("step", "why"), BAD_STEPS.values(), ids=list(BAD_STEPS))
def test_a_step_that_is_not_exactly_one_instruction_is_refused_at_its_line(step: str, why: str, tmp_path: Path) -> None:
    stderr = render_refused(tmp_path, generic_service(["RUN true", step]))
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.stages\[0\]\.steps\[1\]: ", stderr), stderr
    assert why in stderr, stderr
    assert "\n" not in stderr.rstrip("\n"), "the message stays on one line"


def test_generic_steps_are_one_instruction_each(tmp_path: Path) -> None:
    steps = ['RUN echo "a\\b $HOME"', "USER 10001", 'CMD ["sh", "-c", "echo \\"x\\""]']
    tmp_path.mkdir(exist_ok=True)
    stage = {"name": "prod", "from": "alpine:3.20", "steps": steps}
    write_spec(tmp_path, {"target": "prod", "build": {"family": "generic", "context": "api", "stages": [stage]}})
    result = run_cli(tmp_path, "render", "-q")
    assert result.exit_code == 0, result.stderr
    commands = dockerfile.parse_string((tmp_path / "api" / "Dockerfile").read_text())
    assert [c.original for c in commands] == ["FROM alpine:3.20 AS prod", *steps]


@pytest.mark.parametrize("field", ["build.workdir", "build.python.requirements", "build.base_image"])
def test_paths_and_images_with_dockerfile_syntax_are_refused_at_their_line(field: str, tmp_path: Path) -> None:
    stderr = render_refused(tmp_path, api_service(**{field: "/app\nRUN touch /pwned"}))
    assert re.match(rf"^dockergen\.yaml:\d+:\d+: error: services\.api\.{re.escape(field)}: ", stderr), stderr


BAD_INSTALL_FILES = [".npmrc\nRUN touch /pwned", ".npmrc .", "/etc/passwd", "../secrets/.npmrc", "a/../../b", ".", "$HOME/.npmrc", "-x"]


@pytest.mark.parametrize("path", BAD_INSTALL_FILES, ids=[repr(p) for p in BAD_INSTALL_FILES])
def test_install_files_outside_the_context_or_with_dockerfile_syntax_are_refused_at_their_line(path: str, tmp_path: Path) -> None:
    """Each is copied as `COPY <path> <path>`: the destination must stay in the app directory."""
    service = {"build": {"family": "node", "context": "api", "port": 3000, "node": {"install_files": [".npmrc", path]}}}
    stderr = render_refused(tmp_path, service)
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.node\.install_files\[1\]: ", stderr), stderr


def test_install_files_are_one_copy_each_at_the_same_path(tmp_path: Path) -> None:
    files = [".npmrc", ".yarn/releases", "packages/a@1/package.json"]
    service = {"build": {"family": "node", "context": "api", "port": 3000, "node": {"package_manager": "pnpm", "install_files": files}}}
    for relative in ["package.json", "pnpm-lock.yaml", *files]:  # validation refuses copied files that are not there
        (tmp_path / "api" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "api" / relative).write_text("")
    commands = render_ok(tmp_path, service)
    copies = [c.value for c in commands if c.cmd == "COPY" and not c.flags]
    assert copies[:4] == [("package.json", "pnpm-lock.yaml", "./"), *((f, f) for f in files)]


def test_dockerignore_patterns_are_one_line_each(tmp_path: Path) -> None:
    stderr = render_refused(tmp_path, api_service(**{"build.ignore": ["*.log\n!secrets.env"]}))
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.ignore\[0\]: ", stderr), stderr


def test_a_spec_file_name_with_a_line_break_is_refused(tmp_path: Path) -> None:
    """The name is copied into every generated file's header comment."""
    name = "x\nRUN touch pwned.yaml"
    write_spec(tmp_path, api_service(), name=name)
    result = run_cli(tmp_path, "render", "--spec", name)
    assert result.exit_code == 2
    assert "control character" in result.stderr
    assert "\n" not in result.stderr.rstrip("\n"), "the message itself stays on one line"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


COMPOSE_VALUES = {
    "MULTILINE": "line one\nkey: value\n  indented: x\n- item\n",
    "COLON": "a: b",
    "HASH": "x # y",
    "QUOTES": "'single' \"double\"",
    "BACKSLASH": "C:\\path\\n",
    "YES": "yes",
    "OFF": "off",
    "OCTAL": "0123",
    "FLOAT": "1e3",
    "EMPTY": "",
    "NULLISH": "null",
    "TILDE": "~",
    "LEADING_SPACE": "  x",
    "BRACKETS": "[not, a, list]",
    "ANCHOR": "&a *b !tag",
}


def test_compose_environment_values_round_trip_through_the_generated_yaml(tmp_path: Path) -> None:
    service = api_service(environment=COMPOSE_VALUES)
    render_ok(tmp_path, service)
    for env in ("dev", "prod"):
        for reader in ("ruamel", "pyyaml"):
            docs = []
            for name in ("compose.yaml", f"compose.{env}.yaml"):
                text = (tmp_path / name).read_text()
                docs.append((YAML(typ="safe").load(text) if reader == "ruamel" else pyyaml.safe_load(text)) or {})
            merged: dict[str, Any] = {}
            for doc in docs:
                merged.update(doc.get("services", {}).get("api", {}).get("environment", {}) or {})
            assert merged == COMPOSE_VALUES, (env, reader)


def test_explain_and_diff_show_spec_values_escaped_not_to_the_terminal(tmp_path: Path) -> None:
    """A value holding terminal control sequences (set a title, clear the screen, return to
    the line's start to print over it) is shown escaped, never acted on."""
    hostile = "ok\x1b]0;owned\x07\x1b[2J\rHIDDEN"
    spec = {"version": 1, "project": "demo", "environments": {"dev": {}, "prod": {}},
            "services": {"db": {"image": "example/db:1", "environments": {"dev": {"environment": {"A": hostile}}}}}}  # fmt: skip
    (tmp_path / "dockergen.yaml").write_text(json.dumps(spec))
    for args in (["explain", "db", "--env", "dev"], ["diff", "dev", "prod"]):
        result = run_cli(tmp_path, *args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\r" not in result.output and "\x07" not in result.output
        assert "ok\\u001b]0;owned\\u0007" in result.output


@pytest.mark.parametrize("name", ["escape=`.yaml", "syntax=evil.yaml", "check=skip=all.yaml"])
def test_a_spec_file_name_cannot_become_a_parser_directive(name: str, tmp_path: Path, baseline: tuple) -> None:
    """The name is in the second header line; were it read as `# escape=`` ` the `\\`
    continuations of the RUN instructions would stop joining lines (more instructions)."""
    write_spec(tmp_path, like_baseline(), name=name)
    result = run_cli(tmp_path, "render", "-q", "--spec", name)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "api" / "Dockerfile").read_text()
    assert text.startswith("# syntax=docker/dockerfile:1\n# Generated by dockergen from ")
    assert instructions(dockerfile.parse_string(text)) == instructions(baseline)


@pytest.mark.parametrize(("name", "line"), [("#spec.yaml", "/#spec.yaml"), ("!spec.yaml", "/!spec.yaml"), ("*.yaml", "\\*.yaml"), ("spec[1].yaml", "spec\\[1].yaml")])
def test_the_spec_s_name_in_dockerignore_matches_only_the_spec(name: str, line: str, tmp_path: Path) -> None:
    """dockergen's own files in a build context are listed in its .dockerignore: a name is a
    literal there, never a comment, an exception or a glob over the context's files."""
    service = api_service()
    service["build"]["context"] = "."
    write_spec(tmp_path, service, name=name)
    (tmp_path / "requirements.txt").write_text("")  # the context holds code: its manifests must exist
    result = run_cli(tmp_path, "render", "-q", "--spec", name)
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / ".dockerignore").read_text().split("\n")
    assert line in lines and name not in lines


def escaped_generic_service(steps: list[str], escape: str) -> dict[str, Any]:
    service = generic_service(steps)
    service["build"]["directives"] = {"escape": escape}
    service["build"]["global_args"] = ["BASE=alpine"]
    return service


@pytest.mark.parametrize(
    ("escape", "bad", "good"),
    [("`", "RUN echo swallowed `", "RUN dir C:\\"), ("\\", "RUN echo swallowed \\", "RUN echo `")],
    ids=["backtick", "backslash"],
)
def test_steps_are_checked_under_the_escape_the_dockerfile_declares(escape: str, bad: str, good: str, tmp_path: Path) -> None:
    """Under `# escape=`` ` a trailing backtick continues the line and a trailing `\\` is text."""
    stderr = render_refused(tmp_path / "bad", escaped_generic_service(["RUN true", bad, "USER 10001"], escape))
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.stages\[0\]\.steps\[1\]: .*swallow", stderr), stderr
    (tmp_path / "good").mkdir()
    write_spec(tmp_path / "good", escaped_generic_service([good, "USER 10001"], escape))
    result = run_cli(tmp_path / "good", "render", "-q")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "good" / "api" / "Dockerfile").read_text()
    assert [c.cmd for c in dockerfile.parse_string(text)] == ["ARG", "FROM", step_cmd(good), "USER"]
    if escape != "\\":
        assert text.split("\n")[1] == f"# escape={escape}"


def step_cmd(step: str) -> str:
    return step.split()[0]


def test_a_global_arg_is_checked_under_the_declared_escape(tmp_path: Path) -> None:
    service = escaped_generic_service(["RUN true"], "`")
    service["build"]["global_args"] = ["A=1 `"]
    stderr = render_refused(tmp_path, service)
    assert re.match(r"^dockergen\.yaml:\d+:\d+: error: services\.api\.build\.global_args: .*swallow", stderr), stderr
