"""The warm server starting by itself (``dockergen.warm.autostart``), with real processes: a
served command that finds no server runs in-process and leaves one starting, which serves
the next command with the same output, files and exit code; the start keeps none of the
command's descriptors; ``CI`` and ``DOCKERGEN_NO_SERVER`` keep it from starting.

Every process a test starts carries the test's own ``XDG_RUNTIME_DIR`` in its environment:
that is how a test finds the start it caused (or that none was caused), and how the fixture
leaves nothing running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockergen.warm.autostart import wanted
from tests.test_warm_server import Server, project, tree

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm server needs SO_PEERCRED (Linux)")


def started_with(runtime: Path) -> list[int]:
    """Live processes whose environment names ``runtime`` as XDG_RUNTIME_DIR."""
    wanted_entry = f"XDG_RUNTIME_DIR={runtime}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted_entry in (entry / "environ").read_bytes().split(b"\0") and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class AutoServer(Server):
    """The test's own runtime folder and environment, with auto-start allowed (CI unset)."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.env = {k: v for k, v in self.env.items() if k != "CI"}

    def wait_until_serving(self) -> str:
        """``server status`` once the started server answers (its imports and warm-up
        take a while on a loaded machine)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = self.run(self.tmp, "server", "status")
            if status.returncode == 0:
                self.pid = int(re.search(rb"pid (\d+)", status.stdout)[1])
                return status.stdout.decode()
            time.sleep(0.1)
        raise AssertionError("no server started")


@pytest.fixture
def auto(tmp_path: Path) -> Iterator[AutoServer]:
    running = AutoServer(tmp_path)
    try:
        yield running
    finally:
        running.run(tmp_path, "server", "stop")
        for pid in started_with(running.runtime):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while started_with(running.runtime) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not started_with(running.runtime), "a process of the test is still running"


def test_a_command_that_finds_no_server_starts_one_that_serves_the_next(auto: AutoServer) -> None:
    first_copy, first_own = project(auto.tmp, "first", "a"), project(auto.tmp, "first-own", "a")
    first = auto.run(first_copy, "render")
    own = auto.run(first_own, "render", served=False)
    assert (first.returncode, first.stdout, first.stderr) == (own.returncode, own.stdout, own.stderr) == (0, own.stdout, b""), "the auto-start printed"
    status = auto.wait_until_serving()
    assert "started by a command that found none" in status and "0 commands served" in status and "exits after 15 min idle" in status
    for args in (["render"], ["validate"], ["check"]):
        served_copy, own_copy = project(auto.tmp, f"served-{args[0]}", "b"), project(auto.tmp, f"own-{args[0]}", "b")
        served = auto.run(served_copy, *args)
        own = auto.run(own_copy, *args, served=False)
        assert (served.returncode, served.stdout, served.stderr) == (own.returncode, own.stdout, own.stderr)
        assert tree(served_copy) == tree(own_copy)
    assert "3 commands served" in auto.run(auto.tmp, "server", "status").stdout.decode()


def test_the_start_keeps_no_descriptor_of_the_command(auto: AutoServer) -> None:
    """A caller reading the command's output to its end (capture_output, pre-commit) is done
    when the command is: once it has exited, every pipe it wrote to is at its end, the
    standard ones and one more it was given (as make gives its jobserver's)."""
    extra_read, extra_write = os.pipe()
    # `--help`: a full-path run done long before the server it starts is ready, so a
    # process of that start still holding a pipe is caught holding it.
    command = subprocess.Popen([sys.executable, "-m", "dockergen", "validate", "--help"], cwd=project(auto.tmp, "p", "a"), env=auto.env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(extra_write,))  # fmt: skip
    os.close(extra_write)
    assert command.wait(timeout=120) == 0
    for fd in (command.stdout.fileno(), command.stderr.fileno(), extra_read):
        os.set_blocking(fd, False)
        try:
            while os.read(fd, 65536):
                pass
        except BlockingIOError:
            pytest.fail("the command has exited, and a process it started still holds its pipe")
    os.close(extra_read)
    command.stdout.close()
    command.stderr.close()
    assert started_with(auto.runtime), "no server was started"
    auto.wait_until_serving()


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "1"}, {"DOCKERGEN_NO_SERVER": "1"}], ids=["CI=true", "CI=1", "DOCKERGEN_NO_SERVER=1"])
def test_no_start_in_ci_or_when_bypassed(auto: AutoServer, env: dict[str, str]) -> None:
    copy = project(auto.tmp, "p", "a")
    result = subprocess.run([sys.executable, "-m", "dockergen", "validate"], cwd=copy, env=auto.env | env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # A start would be running now: the command waits for the process that forks it.
    assert started_with(auto.runtime) == []
    assert auto.run(auto.tmp, "server", "status").returncode == 1


def test_no_start_where_the_socket_folder_is_not_the_users_alone(auto: AutoServer) -> None:
    folder = auto.runtime / "dockergen"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert auto.run(project(auto.tmp, "p", "a"), "validate").returncode == 0
    assert started_with(auto.runtime) == []


@pytest.mark.parametrize(
    ("environ", "allowed"),
    [({}, True), ({"CI": ""}, True), ({"CI": "0"}, True), ({"CI": "false"}, True), ({"CI": "False"}, True),
     ({"CI": "true"}, False), ({"CI": "1"}, False), ({"CI": "yes"}, False), ({"CI": "woodpecker"}, False),
     ({"DOCKERGEN_NO_SERVER": "1"}, False), ({"CI": "false", "DOCKERGEN_NO_SERVER": "1"}, False)],
)  # fmt: skip
def test_which_environments_let_a_command_start_the_server(environ: dict[str, str], allowed: bool) -> None:
    assert wanted(environ) is allowed
