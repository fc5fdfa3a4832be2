"""The warm server (``dockergen server start``) with real processes: a server in a runtime
folder of the test's own, the console script run as a subprocess, each command compared
with the same command run in-process (DOCKERGEN_NO_SERVER=1): output bytes, exit code,
files written. The server's own count of commands served shows which path a run took."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockergen.warm.place import untrusted_folder, untrusted_socket

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "platform"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm server needs SO_PEERCRED (Linux)")


class Server:
    def __init__(self, tmp: Path, code: Path = ROOT) -> None:
        self.tmp = tmp
        self.runtime = tmp / "run"
        self.runtime.mkdir(mode=0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKERGEN_", "XDG_"))}
        # CI=true: a command that finds no server starts none (tests/test_warm_autostart.py
        # tests that); these tests start and count the server themselves.
        self.env = env | {"XDG_RUNTIME_DIR": str(self.runtime), "XDG_CACHE_HOME": str(tmp / "cache"), "DOCKERGEN_NO_CACHE": "1",
                          "PYTHONPATH": str(code), "CI": "true"}  # fmt: skip
        self.pid: int | None = None

    def run(self, cwd: Path, *args: str, served: bool = True, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        env = self.env if served else self.env | {"DOCKERGEN_NO_SERVER": "1"}
        return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, env=env, capture_output=True, timeout=120, **kwargs)

    def start(self) -> None:
        started = self.run(self.tmp, "server", "start", "--idle-minutes", "10")
        assert started.returncode == 0, started.stderr
        self.pid = int(re.search(rb"pid (\d+)", started.stdout)[1])

    def served(self) -> int | None:
        """How many commands the server forked a child for; None when none answers."""
        status = self.run(self.tmp, "server", "status")
        found = re.search(rb"(\d+) commands served", status.stdout)
        return int(found[1]) if found else None

    def stop(self) -> None:
        self.run(self.tmp, "server", "stop")
        if self.pid is not None:
            gone_or_fail(self.pid)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


def live_processes(field: int, value: int) -> list[int]:
    """Live (not zombie) processes whose ``/proc/<pid>/stat`` field ``field`` (counted after
    the command name: 1 the parent, 3 the session) is ``value``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[field]) == value:
            found.append(int(entry.name))
    return found


def in_session(session: int) -> list[int]:
    """Live processes of ``session`` (the server and every child it forked share it)."""
    return live_processes(3, session)


def gone_or_fail(pid: int) -> None:
    deadline = time.monotonic() + 30
    while (alive(pid) or in_session(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid) and not in_session(pid), f"server {pid} or a child of it is still running"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.start()
    try:
        yield running
    finally:
        if running.pid is not None and alive(running.pid):
            os.kill(running.pid, signal.SIGCONT)
        running.stop()


def project(tmp: Path, name: str, edit: str = "") -> Path:
    """A copy of the platform example (its rendered tree and lock) with ``edit`` added to
    the spec's first plain value, so no fast path answers."""
    copy = tmp / name
    shutil.copytree(EXAMPLE, copy)
    spec = copy / "dockergen.yaml"
    if edit:
        spec.write_text(spec.read_text().replace("LOG_LEVEL: debug", f"LOG_LEVEL: debug-{edit}", 1))
    return copy


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def broken(copy: Path) -> None:
    spec = copy / "dockergen.yaml"
    spec.write_text(spec.read_text().replace("services:\n", "services:\n  bad name!: {}\n", 1))


CASES = [
    # (name, arguments, exit code, what to do to the copy before)
    ("render after a value edit", ["render"], 0, None),
    ("validate after a value edit", ["validate"], 0, None),
    ("check finds the drift", ["check"], 1, None),
    ("check --diff finds the drift", ["check", "--diff"], 1, None),
    ("validate of a broken spec", ["validate"], 2, broken),
    ("render of a broken spec writes nothing", ["render"], 2, broken),
    ("explain", ["explain", "backend", "--env", "prod"], 0, None),
    ("lint", ["lint", "--no-hadolint"], None, None),
    ("lint with hadolint when installed (a subprocess of the child)", ["lint", "--format", "json"], None, None),
    ("a bad option", ["render", "--no-such-option"], 2, None),
    ("help of a served command", ["validate", "--help"], 0, None),
]


@pytest.mark.parametrize(("name", "args", "code", "setup"), CASES, ids=[c[0] for c in CASES])
def test_a_served_command_prints_writes_and_exits_as_it_does_in_process(server: Server, name: str, args: list[str], code: int | None, setup) -> None:  # noqa: ANN001
    served_copy, own_copy = project(server.tmp, "served", "x"), project(server.tmp, "own", "x")
    for copy in (served_copy, own_copy):
        if setup:
            setup(copy)
    before = server.served()
    served = server.run(served_copy, *args)
    assert server.served() == before + 1, "the command did not go through the server"
    own = server.run(own_copy, *args, served=False)
    assert server.served() == before + 1, "DOCKERGEN_NO_SERVER=1 went through the server"
    assert (served.returncode, served.stdout, served.stderr) == (own.returncode, own.stdout, own.stderr)
    assert code is None or served.returncode == code, served.stderr
    assert tree(served_copy) == tree(own_copy)
    assert b"Traceback" not in served.stderr


@pytest.mark.parametrize("args", [["render"], ["explain", "backend", "--env", "prod"]])
def test_a_served_command_sees_the_terminal_as_it_does_in_process(server: Server, args: list[str]) -> None:
    """On a pseudo-terminal: the same colours and layout (the child writes to the client's own
    terminal): a render's summary table, and explain's."""
    import pty

    outputs = []
    for served in (True, False):
        copy = project(server.tmp, f"tty-{served}", "x")
        leader, follower = pty.openpty()
        env = {**(server.env if served else server.env | {"DOCKERGEN_NO_SERVER": "1"}), "TERM": "xterm-256color", "COLUMNS": "100"}
        env.pop("NO_COLOR", None)
        child = subprocess.Popen([sys.executable, "-m", "dockergen", *args], cwd=copy, env=env, stdin=follower, stdout=follower, stderr=follower)
        os.close(follower)
        data = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            data += chunk
        os.close(leader)
        outputs.append((child.wait(timeout=120), data))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 0 and b"\x1b[" in outputs[0][1], "expected colours on a terminal"
    assert server.served() == 1


def test_a_served_command_leaves_the_imports_to_the_server(server: Server) -> None:
    copy = project(server.tmp, "p", "x")
    env = server.env | {"PYTHONPROFILEIMPORTTIME": "1"}  # not -X importtime: other options are another interpreter's server
    result = subprocess.run([sys.executable, "-m", "dockergen", "validate"], cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and server.served() == 1
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", result.stderr, re.MULTILINE))
    assert imported & {"pydantic", "click", "jinja2", "ruamel", "socket", "signal", "dockergen.cli"} == set(), "the client imports the standard library it needs only"


def test_other_code_stops_the_server_and_the_command_runs_in_process(tmp_path: Path) -> None:
    code = tmp_path / "code"
    shutil.copytree(ROOT / "dockergen", code / "dockergen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", code / "templates")
    running = Server(tmp_path, code)
    running.start()
    try:
        copy = project(tmp_path, "p", "x")
        assert running.run(copy, "validate").returncode == 0
        assert running.served() == 1
        module = code / "dockergen" / "text.py"
        module.write_text(module.read_text() + "\n# edited after the server started\n")
        first = running.run(copy, "validate")
        again = running.run(copy, "validate", served=False)
        assert (first.returncode, first.stdout, first.stderr) == (again.returncode, again.stdout, again.stderr) == (0, again.stdout, b"")
        gone_or_fail(running.pid)
        assert running.served() is None
    finally:
        running.stop()


@pytest.mark.parametrize("damage", ["mode 755", "another owner"])
def test_a_socket_folder_others_can_reach_is_not_used_and_start_refuses_it(server: Server, damage: str) -> None:
    folder = server.runtime / "dockergen"
    try:
        damaged(folder, damage)
        copy = project(server.tmp, "p", "x")
        result = server.run(copy, "validate")
        assert (result.returncode, result.stderr) == (0, b"")
        refused = server.run(server.tmp, "server", "start")
    finally:
        os.chown(folder, os.getuid(), os.getgid())
        folder.chmod(0o700)
    assert refused.returncode == 2
    assert (b"others may enter it" if damage == "mode 755" else b"belongs to uid 65534") in refused.stderr
    assert server.served() == 0, "a command went through a socket in an untrusted folder"


def damaged(folder: Path, damage: str) -> None:
    if damage == "another owner":
        if os.getuid() != 0:
            pytest.skip("only root can give a folder to another user")
        os.chown(folder, 65534, 65534)
    else:
        folder.chmod(0o755)


@pytest.mark.skipif(os.getuid() != 0, reason="connecting as another user needs root")
def test_the_server_refuses_another_user(server: Server) -> None:
    """A user who reaches the socket (here: folder and socket opened to all) gets no answer."""
    import _socket

    from dockergen.warm.wire import receive, send

    folder = server.runtime / "dockergen"
    socket_file = next(folder.glob("*.sock"))
    folder.chmod(0o711)
    socket_file.chmod(0o666)
    try:
        pid = os.fork()
        if pid == 0:  # another user, inside the folder (the test's own folders above it are closed)
            answered = 2
            try:
                os.chdir(folder)
                os.setgid(65534)
                os.setuid(65534)
                sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                sock.settimeout(10)
                sock.connect(socket_file.name)
                answered = 0
                send(sock, {"op": "status"})
                receive(sock)
                answered = 1
            except Exception:  # noqa: BLE001 - after the connect: refused, closed unanswered (EOF, or EPIPE on the send)
                pass
            finally:
                os._exit(answered)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, "another user got an answer (1) or could not connect (2)"
    finally:
        folder.chmod(0o700)
        socket_file.chmod(0o600)
    assert server.served() == 0


def test_a_server_killed_mid_request_leaves_the_command_to_run_in_process(server: Server) -> None:
    copy, own = project(server.tmp, "p", "x"), project(server.tmp, "own", "x")
    os.kill(server.pid, signal.SIGSTOP)  # the request waits in the socket's queue
    with open(server.tmp / "out", "wb") as out, open(server.tmp / "err", "wb") as err:
        client = subprocess.Popen([sys.executable, "-m", "dockergen", "render"], cwd=copy, env=server.env, stdout=out, stderr=err)
        time.sleep(0.5)
        os.kill(server.pid, signal.SIGKILL)
        assert client.wait(timeout=120) == 0
    expected = server.run(own, "render", served=False)
    assert ((server.tmp / "out").read_bytes(), (server.tmp / "err").read_bytes()) == (expected.stdout, expected.stderr)
    assert tree(copy) == tree(own)
    gone_or_fail(server.pid)
    # The dead server's socket is left behind: commands still run, and start replaces it.
    assert server.run(copy, "validate").returncode == 0
    server.start()
    assert server.served() == 0


def children_of(pid: int) -> list[int]:
    return live_processes(1, pid)


def writing_child(server: Server, pipe: int) -> int:
    """The server's child that holds ``pipe`` as its stdout: it runs the command, blocked
    on a full pipe nobody reads, and its client waits for the exit code."""
    deadline, wanted = time.monotonic() + 60, os.readlink(f"/proc/self/fd/{pipe}")
    while time.monotonic() < deadline:
        for child in children_of(server.pid):
            try:
                if os.readlink(f"/proc/{child}/fd/1") == wanted:
                    return child
            except OSError:
                continue
        time.sleep(0.01)
    raise AssertionError("the command never reached the server")


def drained(pipe: int) -> bytes:
    chunks = []
    while chunk := os.read(pipe, 1 << 16):
        chunks.append(chunk)
    os.close(pipe)
    return b"".join(chunks)


@pytest.mark.parametrize("who", ["the user stops the command", "something kills the child"])
def test_a_child_that_dies(server: Server, who: str) -> None:
    """Stopped by the user (SIGTERM to the command): it exits as stopped and does not run
    again. Killed behind its back: the command runs again in-process. The child is caught
    once it holds the client's stdout (a pipe nobody reads until then, smaller than the
    250 KB `schema` prints): mid-command, while its client waits for the exit code."""
    schema = server.run(server.tmp, "schema", served=False).stdout
    read_end, write_end = os.pipe()
    client = subprocess.Popen([sys.executable, "-m", "dockergen", "schema"], cwd=server.tmp, env=server.env, stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    child = writing_child(server, read_end)
    if who == "the user stops the command":
        client.send_signal(signal.SIGTERM)  # passed on to the child
        assert client.wait(timeout=120) == 128 + signal.SIGTERM
        assert len(drained(read_end)) < len(schema), "the command ran again"
    else:
        os.kill(child, signal.SIGKILL)
        printed = drained(read_end)
        assert client.wait(timeout=120) == 0
        assert printed.endswith(schema), "what the child printed, if anything, then the whole run's"


def test_a_server_that_does_not_answer_is_given_up_on_and_the_command_runs_once(server: Server) -> None:
    copy, own = project(server.tmp, "p", "x"), project(server.tmp, "own", "x")
    os.kill(server.pid, signal.SIGSTOP)
    out, err = server.tmp / "out", server.tmp / "err"
    with open(out, "wb") as out_file, open(err, "wb") as err_file:
        client = subprocess.Popen([sys.executable, "-m", "dockergen", "render"], cwd=copy, env=server.env, stdout=out_file, stderr=err_file)
        assert client.wait(timeout=120) == 0
    os.kill(server.pid, signal.SIGCONT)
    assert server.served() == 1  # it took the old request, and its child saw the client gone
    server.stop()
    expected = server.run(own, "render", served=False)
    assert (out.read_bytes(), err.read_bytes()) == (expected.stdout, expected.stderr)
    assert tree(copy) == tree(own)


def test_no_server_bypass_and_status_stop_without_a_server(tmp_path: Path) -> None:
    idle = Server(tmp_path)
    status = idle.run(tmp_path, "server", "status")
    assert status.returncode == 1 and status.stdout.startswith(b"no dockergen server running")
    stop = idle.run(tmp_path, "server", "stop")
    assert (stop.returncode, stop.stdout) == (0, b"no dockergen server running\n")


def test_the_server_runs_one_thread(server: Server) -> None:
    """A forked child keeps only the thread that forked: nothing the server imports may start
    another (BuildKit's parser, Go, would)."""
    assert len(list(Path(f"/proc/{server.pid}/task").iterdir())) == 1


def test_start_twice_keeps_one_server(server: Server) -> None:
    again = server.run(server.tmp, "server", "start")
    assert again.returncode == 0 and f"already running (pid {server.pid}".encode() in again.stdout


def test_the_server_exits_when_idle(tmp_path: Path) -> None:
    running = Server(tmp_path)
    started = running.run(tmp_path, "server", "start", "--idle-minutes", "0.02")
    assert started.returncode == 0, started.stderr
    running.pid = int(re.search(rb"pid (\d+)", started.stdout)[1])
    gone_or_fail(running.pid)
    assert not list((running.runtime / "dockergen").glob("*.sock"))


def stat_result(mode: int, uid: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, uid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "uid", "why"),
    [
        (0o040700, 1000, None),
        (0o040750, 1000, "others may enter it (mode 750"),
        (0o040707, 1000, "others may enter it"),
        (0o040700, 0, "belongs to uid 0"),
        (0o120777, 1000, "not a folder"),
        (0o100600, 1000, "not a folder"),
    ],
)
def test_which_folders_may_hold_the_socket(mode: int, uid: int, why: str | None) -> None:
    found = untrusted_folder(stat_result(mode, uid), 1000)
    assert found is None if why is None else why in found


@pytest.mark.parametrize(("mode", "uid", "why"), [(0o140600, 1000, None), (0o140600, 7, "belongs to uid 7"), (0o100600, 1000, "not a socket")])
def test_which_sockets_are_the_users_own(mode: int, uid: int, why: str | None) -> None:
    found = untrusted_socket(stat_result(mode, uid), 1000)
    assert found is None if why is None else why in found


def test_the_server_keeps_no_descriptor_of_what_started_it(tmp_path: Path) -> None:
    """`server start` returns once the server listens; then every pipe it was given is at
    its end (make's jobserver, a caller reading its output): the server holds none of them."""
    running = Server(tmp_path)
    extra_read, extra_write = os.pipe()
    start = subprocess.Popen([sys.executable, "-m", "dockergen", "server", "start"], cwd=tmp_path, env=running.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(extra_write,))  # fmt: skip
    os.close(extra_write)
    try:
        assert start.wait(timeout=120) == 0
        running.pid = int(re.search(rb"pid (\d+)", start.stdout.read())[1])
        for fd in (start.stdout.fileno(), start.stderr.fileno(), extra_read):
            os.set_blocking(fd, False)
            try:
                while os.read(fd, 65536):
                    pass
            except BlockingIOError:
                pytest.fail("`server start` has exited, and the server still holds a pipe it was given")
    finally:
        os.close(extra_read)
        start.stdout.close()
        start.stderr.close()
        running.stop()


def test_the_warm_up_runs_the_commands_and_leaves_the_process_as_it_found_it() -> None:
    """The server runs it before it serves (and runs on, cold, should it fail): here it must
    not fail, nor change the environment, the working directory or a template lookup."""
    from dockergen.render.dockerfile_template import template_environment
    from dockergen.warm.warm_up import warm_up

    environ, cwd = dict(os.environ), os.getcwd()
    warm_up()
    assert (dict(os.environ), os.getcwd()) == (environ, cwd)
    assert template_environment.cache_info().currsize == 0, "a template environment (which looks templates up by name) was kept"


def test_a_template_edited_after_the_server_started_is_rendered_as_it_now_reads(tmp_path: Path) -> None:
    """The server rendered the built-in templates when it started (its warm-up); a child
    must still render each template as its file now reads, even when the edit kept the
    file's size and time stamp."""
    code = tmp_path / "code"
    shutil.copytree(ROOT / "dockergen", code / "dockergen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", code / "templates")
    running = Server(tmp_path, code)
    running.start()
    try:
        template = code / "templates" / "python.Dockerfile.j2"
        before = template.stat()
        text = template.read_text()
        assert "# ---- base: the runtime OS layer" in text
        template.write_text(text.replace("# ---- base: the runtime OS layer", "# ---- BASE: the runtime OS layer", 1))
        os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))
        served, own = project(tmp_path, "served", "x"), project(tmp_path, "own", "x")
        assert running.run(served, "render").returncode == 0
        assert running.served() == 1
        assert running.run(own, "render", served=False).returncode == 0
        assert "# ---- BASE: the runtime OS layer" in (served / "backend" / "Dockerfile").read_text()
        assert tree(served) == tree(own)
    finally:
        running.stop()
