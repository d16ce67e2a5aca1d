"""Bad input to the training commands: one line, exit 2, before any room opens."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from wizard.cli import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve", "--scenario", "no-such-scenario"], "no-such-scenario"),
        (["serve", "--seed", "4"], "--seed and --level go with --drill"),
        (["serve", "--port", "70000"], "from 0 to 65535"),
        (["serve", "--max-seats", "0"], "from 1 to 500"),
        (["trainer"], "one of the arguments --emulator --room is required"),
        (["trainer", "--emulator", "/nonexistent/cmk.json"], "connection file not found"),
    ],
)
def test_bad_training_input_is_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_folder_that_is_not_a_room(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trainer", "--room", str(tmp_path)]) == 2
    assert "not a training room" in capsys.readouterr().err


def _exit_code(argv: list[str]) -> int:
    """main's return value, or the code argparse exits with on a usage error."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_a_port_in_use_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--room", str(tmp_path / "room")]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert len(err.strip().splitlines()) == 1
