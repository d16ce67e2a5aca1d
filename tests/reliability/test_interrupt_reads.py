"""Ctrl-C while the fix is still reading (its lock preflight reads three levels side by side) ends
the run at once, with nothing written: the reads' threads never hold the process open."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.reliability.conftest import EmulatorMaker, connection_path, start_cli, wait_until


def _lock_read(host: str, method: str, path: str) -> bool:
    return "/providers/microsoft.authorization/locks" in path.lower()


def test_ctrl_c_during_the_lock_preflight_ends_the_fix_while_azure_still_holds_the_reads(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    """Before: a thread pool joined its workers, so the run sat until the SDK's read timeout."""
    emulator = running_emulator("firewall-blocked")
    conn, audit = connection_path(tmp_path, "firewall-blocked"), tmp_path / "audit.jsonl"
    emulator.hold_matching(_lock_read)
    fix = ["fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(audit), "--retry-total", "0"]
    fix += ["--timeout", "300"]  # a run that waited for its held reads would sit here 300 s
    process = start_cli(fix)
    try:
        wait_until(
            lambda: emulator.held() == 3 or process.poll() is not None, deadline_s=45, what="3 lock reads"
        )
        assert emulator.held() == 3, "the subscription, group and vault levels are read at once"
        process.send_signal(signal.SIGINT)
        wait_until(lambda: process.poll() is not None, deadline_s=60, what="the fix to end on Ctrl-C")
        assert emulator.held() == 3, "it ended while Azure was still holding its reads"
    finally:
        emulator.release()
        if process.poll() is None:
            process.kill()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert not audit.exists() or "before" not in audit.read_text(encoding="utf-8"), "nothing was written"
