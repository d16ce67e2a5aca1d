"""How the process is started: stdout closed by its reader, stdin closed, no terminal at all.
Each is one line on stderr and a documented exit code, never a traceback or a hang."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import REPO, EmulatorMaker, assert_one_line, connection_path

DEADLINE_S = 60


def _start(args: list[str], **streams: Any) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CMK_WIZARD_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "wizard", *args], cwd=REPO, env=env, **streams)


def _finish(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Its output once it exits within the deadline; killed (never left behind) if it does not."""
    try:
        return process.communicate(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def _writes(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests the emulator logged as writes."""
    return [r for r in requests if r["write"]]


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone, as after `| head -1` has exited."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def _run_closed_fd0(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run with file descriptor 0 closed (`<&-`), which Python shows as sys.stdin = None."""
    script = 'exec "$0" -m wizard "$@" <&-'
    env = {k: v for k, v in os.environ.items() if k != "CMK_WIZARD_DEBUG"}
    return subprocess.run(
        ["sh", "-c", script, sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )


@pytest.mark.parametrize("command", ["diagnose", "fix"])
def test_a_closed_stdout_is_one_line_and_exit_3(
    running_emulator: EmulatorMaker, tmp_path: Path, command: str
) -> None:
    """Before: `fix | head -1` ended in a BrokenPipeError traceback."""
    emulator = running_emulator("key-expired")
    args = ["--emulator", connection_path(tmp_path, "key-expired"), "--retry-total", "0"]
    if command == "fix":
        args += ["--all", "--yes", "--audit-log", str(tmp_path / "audit.jsonl")]
    write_end = _closed_pipe()
    try:
        process = _start([command, *args], stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err = _finish(process)
    stderr = err.decode()
    assert process.returncode == 3, stderr
    assert_one_line(stderr)
    assert "broken pipe" in stderr
    assert _writes(emulator.requests()) == []  # fix stopped before writing


def test_fix_without_yes_and_stdin_closed_is_exit_2_before_writing(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    """Before: AttributeError ('NoneType' object has no attribute 'readline'), an internal error."""
    emulator = running_emulator("key-expired")
    audit = tmp_path / "audit.jsonl"
    conn = connection_path(tmp_path, "key-expired")
    result = _run_closed_fd0(["fix", "--emulator", conn, "--all", "--audit-log", str(audit)])
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr)
    assert "--yes" in result.stderr
    assert _writes(emulator.requests()) == []
    assert not audit.exists()


@pytest.mark.parametrize("command", ["tui", "demo"])
def test_the_wizard_without_a_terminal_is_one_line_and_exit_2(command: str) -> None:
    """Before: with stdin from /dev/null or stdout piped it drew into the pipe and hung forever."""
    process = _start([command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = _finish(process)
    assert process.returncode == 2, err.decode()
    assert_one_line(err.decode())
    assert "terminal" in err.decode()
    assert out == b""


def test_the_wizard_with_stdin_closed_is_one_line_and_exit_2() -> None:
    """Before: a Textual traceback, then exit 0."""
    result = _run_closed_fd0(["demo"])
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr)


def test_the_wizard_with_a_terminal_for_input_but_stdout_piped_is_exit_2() -> None:
    primary, secondary = pty.openpty()
    try:
        process = _start(["demo"], stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = _finish(process)
    finally:
        os.close(secondary)
        os.close(primary)
    assert process.returncode == 2, err.decode()
    assert_one_line(err.decode())
    assert out == b""
