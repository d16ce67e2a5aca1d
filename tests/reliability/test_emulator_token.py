"""A running emulator started with CMK_WIZARD_EMULATOR_TOKEN is reached with that same token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import REPO, EmulatorMaker, connection_path, wait_until
from wizard.cli import main
from wizard.cli.wiring import DEFAULT_EMULATOR_TOKEN
from wizard.emulator import DEFAULT_TOKEN

TOKEN = "emulator-token-for-this-test"


def test_the_backend_default_is_the_emulator_default() -> None:
    assert DEFAULT_EMULATOR_TOKEN == DEFAULT_TOKEN


def test_a_connection_file_emulator_takes_the_token_from_the_environment(
    running_emulator: EmulatorMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    running_emulator("key-expired", token=TOKEN)
    conn = connection_path(tmp_path, "key-expired")
    assert main(["diagnose", "--emulator", conn, "--retry-total", "0"]) == 3
    assert "invalid" in capsys.readouterr().out.lower()
    monkeypatch.setenv("CMK_WIZARD_EMULATOR_TOKEN", TOKEN)
    assert main(["diagnose", "--emulator", conn, "--retry-total", "0"]) == 1
    out, err = capsys.readouterr()
    assert "KEY_EXPIRED" in out
    assert TOKEN not in out + err


def test_cmk_wizard_emulator_is_started_with_the_token_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = tmp_path / "emu.json"
    env = {**os.environ, "CMK_WIZARD_EMULATOR_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "wizard", "emulator", "--scenario", "healthy", "--connection-file", str(conn)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: conn.exists() or process.poll() is not None, deadline_s=30, what="the connection file"
        )
        monkeypatch.setenv("CMK_WIZARD_EMULATOR_TOKEN", TOKEN)
        assert main(["diagnose", "--emulator", str(conn), "--retry-total", "0"]) == 0
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert not conn.exists()
