"""A project's template folder cannot run code, read outside itself or make a render hang:
every command that renders (render, check, validate, lint, doctor) refuses a hostile
template with a located exit-2 error, and nothing it asked for happened."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest

from tests.test_injection import run_cli
from tests.test_templates import SPEC  # a python service, `templates: tpl`

# One case reads `model_fields` off an instance, as an attacker would; pydantic warns.
pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_fields' attribute")

# Each would create PWNED in the project, or print a line of /etc/passwd, if it ran.
ESCAPES = {
    "mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__.os.system('touch PWNED') }}",
    "namespace-globals": "{{ namespace.__init__.__globals__.os.system('touch PWNED') }}",
    "self-reference": "{{ self._TemplateReference__context.parent }}",
    "range-globals": "{{ range.__func__.__globals__ }}",
    "model-method": "{{ user.model_validate.__globals__ }}",
    "model-fields-type": "{{ user.model_fields['name'].annotation.mro() }}",
    "attr-filter": "{{ (user|attr('__class__')).__init__.__globals__ }}",
    "str-format-attribute": "{{ '{0.__class__.__init__.__globals__}'.format(user) }}",
    "format-map": "{{ '{x}'.format_map({'x': 1}) }}",
    "include-absolute": "{% include '/etc/passwd' %}",
    "include-parent": "{% include '../../../../../../etc/passwd' %}",
    "import-parent": "{% import '../dockergen.yaml' as spec %}{{ spec }}",
    "extends-parent": "{% extends '../../../../etc/passwd' %}",
    "dict-global": "{{ dict(a=1) }}",
}
BOMBS = {
    "string-repeat": ('{{ "x" * 1000000000 }}', "more than"),
    "list-repeat": ("{{ [0] * 1000000000 }}", "more than"),
    "power": ("{{ 9 ** 9 ** 9 }}", "bits"),
    "printf-width": ('{{ "%999999999s" % "x" }}', "format width"),
    "printf-star": ('{{ "%*s"|format(1000000000, "x") }}', "format width"),
    "center": ('{{ "x"|center(1000000000) }}', "over the limit"),
    "indent": ('{{ ("x\\n" * 100000)|indent(1000) }}', "too long"),
    "replace": ('{{ ("x" * 1000)|replace("x", "x" * 1000)|replace("x", "x" * 1000) }}', "too long"),
    "join": ('{{ range(5000)|list|join("x" * 1000) }}', "too long"),
    "concat-doubling": ("{% set a = 'x' * 1000 %}" + "{% set a = a ~ a %}" * 20 + "{{ a }}", "more than"),
    "range": ("{% for i in range(100000000) %}{% endfor %}", "steps of work"),
    "nested-loops": ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "steps of work"),
    "recursive-loop": ("{% for x in [[1, 1]] recursive %}{{ loop([x, x]) }}{% endfor %}", ""),
    "recursion": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
    "output": ('{% for i in range(5000) %}{{ "x" * 999999 }}{% endfor %}', "longer than"),
    "random-is-not-deterministic": ("{{ [1, 2]|random }}", "random"),
}
COMMANDS = ["render", "check", "validate", "lint", "doctor"]


def project(tmp_path: Path, template: str) -> Path:
    (tmp_path / "api").mkdir(parents=True)
    (tmp_path / "tpl").mkdir()
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    (tmp_path / "tpl" / "python.Dockerfile.j2").write_text(template)
    return tmp_path


def assert_refused(root: Path, *args: str, why: str = "") -> str:
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    result = run_cli(root, *args)
    output = result.stdout + result.stderr
    assert result.exit_code == 2, (args, output, result.exception)
    assert re.match(r"^tpl/python\.Dockerfile\.j2(:\d+)?: error: template python\.Dockerfile\.j2: ", result.stderr), result.stderr
    assert why in result.stderr, result.stderr
    assert "Traceback" not in output and "root:x:0:0" not in output
    assert not (root / "PWNED").exists(), "the template ran code"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before, "nothing is written"
    return result.stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("template", ESCAPES.values(), ids=list(ESCAPES))
def test_a_template_cannot_reach_python_or_files_outside_its_folder(template: str, command: str, tmp_path: Path) -> None:
    assert_refused(project(tmp_path, template), command)


@pytest.mark.parametrize(("template", "why"), BOMBS.values(), ids=list(BOMBS))
def test_a_template_cannot_make_the_render_unbounded(template: str, why: str, tmp_path: Path) -> None:
    assert_refused(project(tmp_path, template), "render", why=why)


def test_a_symbolic_link_out_of_the_template_folder_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, '{% include "passwd.j2" %}')
    (root / "tpl" / "passwd.j2").symlink_to("/etc/passwd")
    assert "leaves the template folder" in assert_refused(root, "render")
    (root / "tpl" / "python.Dockerfile.j2").unlink()
    (root / "tpl" / "python.Dockerfile.j2").symlink_to("/etc/passwd")
    for command in COMMANDS:
        assert_refused(root, command)


def test_a_linked_folder_out_of_the_template_folder_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, '{% include "etc/passwd" %}')
    (root / "tpl" / "etc").symlink_to("/etc")
    assert "leaves the template folder" in assert_refused(root, "render")


def test_a_fifo_template_is_refused_without_being_opened(tmp_path: Path) -> None:
    """Refused by whichever reads it first (the lock's digest of the templates, or the loader)."""
    root = project(tmp_path, "")
    (root / "tpl" / "python.Dockerfile.j2").unlink()
    os.mkfifo(root / "tpl" / "python.Dockerfile.j2")
    result = run_cli(root, "render")
    assert result.exit_code == 2 and re.match(r"^tpl/python\.Dockerfile\.j2(:\d+)?: error: .*not a regular file", result.stderr), result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["api", "dockergen.yaml", "tpl"]


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"\xff\xfe{{ header }}", "not UTF-8"), (b"#" * 1_000_001, "larger than")],
    ids=["not-utf8", "too-large"],
)
def test_an_unreadable_template_is_a_located_error(content: bytes, why: str, tmp_path: Path) -> None:
    root = project(tmp_path, "")
    (root / "tpl" / "python.Dockerfile.j2").write_bytes(content)
    assert why in assert_refused(root, "render")


@pytest.mark.parametrize(
    ("template", "line"),
    [("FROM x\n{% if %}\n", 2), ("FROM x\n\n{{ 1 / 0 }}\n", 3), ("{{ header }}\n{{ nope.x }}\n", 2)],
    ids=["syntax", "zero-division", "undefined"],
)
def test_a_template_error_names_the_template_line(template: str, line: int, tmp_path: Path) -> None:
    stderr = assert_refused(project(tmp_path, template), "render")
    assert stderr.startswith(f"tpl/python.Dockerfile.j2:{line}: error: template python.Dockerfile.j2: "), stderr


def test_a_template_may_not_change_the_escape_character(tmp_path: Path) -> None:
    """The quoting of spec values (render/quote.py) assumes BuildKit's default `\\`."""
    stderr = assert_refused(project(tmp_path, "# escape=`\n{{ header }}\nFROM {{ base_image|word }}\n"), "render")
    assert "escape character" in stderr


def test_a_template_must_write_the_header(tmp_path: Path) -> None:
    """Without it the file would not be marked generated (and `check` could not see edits)."""
    assert "header" in assert_refused(project(tmp_path, "FROM alpine\n"), "render")


def test_a_template_written_with_the_sandbox_s_means_renders(tmp_path: Path) -> None:
    """Data, macros of its own and the built-in ones, loops, conditionals, filters and plain
    string methods are all a template needs."""
    template = """\
# syntax=docker/dockerfile:1
{{ header }}
{% import "_macros.j2" as m %}
{% import "parts/labels.j2" as parts %}
FROM {{ base_image|word }} AS prod
{{ parts.team("payments") }}
{{ m.env_block(env) }}{% for name in ["a", "b"] if name != "b" %}
LABEL {{ ("x-" ~ name)|key }}={{ loop.index|dq }}
{% endfor %}
{% if workdir.startswith("/") %}WORKDIR {{ workdir|word }}{% endif %}
USER {{ user.uid }}:{{ user.gid }}
CMD {{ prod_command|exec }}
"""
    root = project(tmp_path, template)
    (root / "tpl" / "parts").mkdir()
    (root / "tpl" / "parts" / "labels.j2").write_text('{% macro team(name) %}LABEL team={{ name|upper|dq }}{% endmacro %}')
    (root / "tpl" / "parts" / "alias.j2").symlink_to("labels.j2")  # a link inside the folder is fine
    result = run_cli(root, "render", "-q")
    assert result.exit_code == 0, result.stderr
    commands = dockerfile.parse_string((root / "api" / "Dockerfile").read_text())
    assert [c.cmd for c in commands] == ["FROM", "LABEL", "LABEL", "WORKDIR", "USER", "CMD"]
    assert commands[1].value == ("team", '"PAYMENTS"') and commands[2].value == ("x-a", '"1"')


def test_code_another_compiler_cached_for_the_template_is_not_run(tmp_path: Path) -> None:
    """Compiled templates are cached per user between runs; code compiled without the
    sandbox (by an older dockergen, say) for the very same source is never loaded: it would
    compute `*` unchecked (the sandbox compiles operators to its own bounded calls)."""
    root = project(tmp_path / "p", '{{ header }}\nLABEL size={{ ("x" * 2000000)|length }}\n')
    cache_root = tmp_path / "tmp"
    cache_root.mkdir()
    prime = (
        "import jinja2, sys; env = jinja2.Environment(loader=jinja2.FileSystemLoader(sys.argv[1]),"
        " bytecode_cache=jinja2.FileSystemBytecodeCache(pattern='dockergen-%s.cache')); env.get_template('python.Dockerfile.j2')"
    )
    env = {**os.environ, "TMPDIR": str(cache_root)}
    subprocess.run([sys.executable, "-c", prime, str(root / "tpl")], check=True, env=env)
    assert list(cache_root.rglob("dockergen-*.cache")), "the unsandboxed compile was cached"
    result = subprocess.run([sys.executable, "-m", "dockergen", "render"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "error: template python.Dockerfile.j2: repeating would make a value of more than" in result.stderr


def test_compiled_templates_cached_cold_warm_or_damaged_render_the_same_bytes(tmp_path: Path) -> None:
    """The per-user cache of compiled templates changes nothing a render writes: with no
    cache, with the entries the first render wrote, and with every entry damaged (cut short,
    garbage after Jinja's header, empty), the same bytes; a damaged entry is compiled anew,
    never an internal error."""
    import jinja2.bccache

    root = tmp_path / "p"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "fastapi-celery", root)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "DOCKERGEN_NO_CACHE": "1"}  # no render cache: every run renders its Dockerfiles
    (tmp_path / "tmp").mkdir()

    def render(out: str) -> dict[str, bytes]:
        result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--out", str(tmp_path / out)], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return {p.relative_to(tmp_path / out).as_posix(): p.read_bytes() for p in sorted((tmp_path / out).rglob("*")) if p.is_file()}

    cold = render("cold")
    entries = sorted((tmp_path / "tmp").rglob("dockergen-*.cache"))
    assert entries, "the render cached its compiled templates"
    assert render("warm") == cold
    for n, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes([data[: len(data) // 2], jinja2.bccache.bc_magic + b"\x80\x04not a pickle", b""][n % 3])
    assert render("damaged") == cold
    assert all(entry.stat().st_size > len(jinja2.bccache.bc_magic) + 16 for entry in entries), "damaged entries were compiled again"


def test_a_template_swapped_for_a_fifo_after_its_stat_is_refused_not_waited_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader judges the file it opened: a stat that saw a regular file must not lead
    to a blocking read of the FIFO that replaced it (the window between the two calls)."""
    import threading

    import jinja2

    from dockergen.render.sandbox import TemplateLoader

    (tmp_path / "regular.j2").write_text("x")
    os.mkfifo(tmp_path / "swapped.j2")
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: real_stat(tmp_path / "regular.j2") if str(path).endswith("swapped.j2") else real_stat(path, *a, **k))
    outcome: list[BaseException | str] = []

    def load() -> None:
        try:
            outcome.append(TemplateLoader(str(tmp_path)).get_source(jinja2.Environment(), "swapped.j2")[0])
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "the loader blocked on the FIFO"
    assert isinstance(outcome[0], jinja2.TemplateError) and "not a regular file" in str(outcome[0]), outcome


def test_compiled_templates_are_cached_per_dockergen_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jinja runs a filter on literal text (`{{ "a b"|word }}`) once, at compile time, and the
    result sits in the cached code: another dockergen (an upgrade, an edited checkout) whose
    filters quote differently must not reuse it."""
    from dockergen.render import dockerfile_template

    cache = dockerfile_template._TemplateCache()
    keys = set()
    for signature in ("one dockergen", "another dockergen"):
        monkeypatch.setattr(dockerfile_template, "code_signature", lambda signature=signature: signature)
        keys.add(cache.get_cache_key("python.Dockerfile.j2"))
    assert len(keys) == 2
