"""A write whose outcome is not known (its answer lost; the run interrupted or killed between the
write and its record) says so in the same word on the terminal and in the log, and the next run
settles it by reading the target first: a `resolved` record that names the intent and what it found."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import EmulatorMaker, connection_path, read_jsonl, start_cli, wait_until
from wizard.cli import main
from wizard.emulator import Emulator
from wizard.emulator.wire import Response
from wizard.run.lock import lock_path


def _fix(conn: str, audit: Path) -> list[str]:
    return ["fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(audit), "--retry-total", "0"]


def _key_patches(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["method"] == "PATCH" and r["status"] in (0, 200)]


def _resolved_on_the_next_run(
    conn: str, audit: Path, intent: dict[str, Any], was: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The next run reads the key first, records `resolved` (applied), and does not write it again."""
    assert main([*_fix(conn, audit), "--wait-timeout", "30"]) == 0
    out = capsys.readouterr().out
    records = read_jsonl(audit)
    resolved = [r for r in records if r["phase"] == "resolved"]
    assert len(resolved) == 1, records
    assert resolved[0]["intent"] == intent["id"]
    assert resolved[0]["was"] == was
    assert resolved[0]["found"] == "applied"
    assert resolved[0]["state"]["expires"]
    assert f"(record {intent['id']}) was {was}; read again: applied" in out
    assert [r["id"] for r in records if r["phase"] == "before"] == [intent["id"]]  # nothing sent again
    # settled once: a third run has nothing to resolve
    assert main([*_fix(conn, audit), "--wait-timeout", "30"]) == 0
    assert "read again" not in capsys.readouterr().out


def test_a_lost_key_patch_is_unknown_on_the_terminal_and_in_the_log(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: `-> error` on screen, `result: "unknown"` in the log."""
    emulator = running_emulator("key-expired")
    conn, audit = connection_path(tmp_path, "key-expired"), tmp_path / "audit.jsonl"
    emulator.set_faults(fault_rate=1.0, fault_kinds=["lost-write"], fault_limit=1)
    assert main(_fix(conn, audit)) in (0, 1)  # the write did land: the final diagnosis may be healthy
    out = capsys.readouterr().out
    intent, after = read_jsonl(audit)
    assert after["result"] == "unknown"
    assert f"-> unknown: {after['message']}" in out
    assert after["message"].startswith("sent, outcome unknown: ")
    assert len(_key_patches(emulator)) == 1
    _resolved_on_the_next_run(conn, audit, intent, "unknown", capsys)
    assert len(_key_patches(emulator)) == 1


def _hold_writes(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key PATCH (authenticated) stalls every answer from then on, itself not yet carried out."""
    original = emulator.handle

    def handle(host: str, verb: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response | None:
        if verb == "PATCH" and "authorization" in headers:
            emulator.hold()
        return original(host, verb, raw_path, headers, body)

    monkeypatch.setattr(emulator, "handle", handle)


@pytest.mark.parametrize(("stop", "was"), [(signal.SIGINT, "unknown"), (signal.SIGKILL, "no result")])
def test_a_fix_stopped_while_its_write_is_in_flight(
    running_emulator: EmulatorMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stop: signal.Signals,
    was: str,
) -> None:
    """Ctrl-C records `unknown` (sent, in flight) and releases the lock; a kill leaves the intent
    alone. Either way Azure then carries the write out, and the next run finds it applied.
    Before: an intent with no result, which no later run looked at."""
    emulator = running_emulator("key-expired")
    conn, audit = connection_path(tmp_path, "key-expired"), tmp_path / "audit.jsonl"
    _hold_writes(emulator, monkeypatch)
    process = start_cli(_fix(conn, audit))
    try:
        wait_until(
            lambda: emulator.held() > 0 or process.poll() is not None,
            deadline_s=45,
            what="the write in flight",
        )
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
        emulator.release()
    assert process.returncode == (130 if stop == signal.SIGINT else -signal.SIGKILL), err
    wait_until(lambda: bool(_key_patches(emulator)), deadline_s=30, what="the held write carried out")
    monkeypatch.undo()
    records = read_jsonl(audit)
    intent = records[0]
    assert intent["phase"] == "before"
    assert intent["action"]["remediation"] == "extend-key-expiry"
    if stop == signal.SIGINT:
        assert [r["phase"] for r in records] == ["before", "after"]
        assert records[1]["result"] == "unknown"
        assert "in flight" in records[1]["message"]
        assert "interrupted" in err
        assert not lock_path(tmp_path, emulator.connection["clusters"][0]).exists()
    else:
        assert [r["phase"] for r in records] == ["before"]
    _resolved_on_the_next_run(conn, audit, intent, was, capsys)
    assert len(_key_patches(emulator)) == 1
