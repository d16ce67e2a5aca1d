"""One fix per cluster at a time: a second `fix` on a cluster another is fixing is refused (exit 2,
the holder named); a lock left by a dead process is taken over, and said so."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.reliability.conftest import (
    REPO,
    EmulatorMaker,
    assert_one_line,
    connection_path,
    run_cli,
    wait_until,
)
from wizard.emulator import Emulator
from wizard.run.lock import lock_path


def _writes(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["write"] and 200 <= r["status"] < 300]


def _fix_args(conn: str, audit: Path) -> list[str]:
    return ["fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(audit), "--retry-total", "0"]


def test_a_second_fix_on_the_same_cluster_is_refused_and_names_the_first(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    """Before: both ran; key expiry, firewall and attach were each written twice, one exit 1 on a 400."""
    emulator = running_emulator("multi-fault")
    conn = connection_path(tmp_path, "multi-fault")
    audit = tmp_path / "audit.jsonl"
    first = subprocess.Popen(
        [sys.executable, "-m", "wizard", *_fix_args(conn, audit), "--wait-timeout", "30"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: bool(_writes(emulator)) or first.poll() is not None, deadline_s=45, what="the first write"
        )
        emulator.hold()  # the first fix is now stuck mid-fix, holding the lock
        wait_until(
            lambda: emulator.held() > 0 or first.poll() is not None, deadline_s=45, what="a held request"
        )
        assert first.poll() is None, "the first fix ended before the second could start"
        # held: any request the second run made would hang it past run_cli's deadline
        second = run_cli(*_fix_args(conn, tmp_path / "audit-2.jsonl"))
    finally:
        emulator.release()
        out, err = first.communicate(timeout=60)
    assert second.returncode == 2, second.stdout + second.stderr
    assert_one_line(second.stderr)
    assert f"pid {first.pid} on {socket.gethostname()} since " in second.stderr
    assert "another fix is running on cluster" in second.stderr
    assert not (tmp_path / "audit-2.jsonl").exists()
    assert first.returncode == 0, out + err
    sent = [(r["method"], r["path"]) for r in _writes(emulator)]
    assert len(sent) == len(set(sent)), f"a write was sent twice: {sent}"
    assert not lock_path(tmp_path, emulator.connection["clusters"][0]).exists(), "released at the end"


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_a_stale_lock_of_a_dead_process_is_taken_over(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    emulator = running_emulator("key-expired")
    cluster_id = emulator.connection["clusters"][0]
    lock = lock_path(tmp_path, cluster_id)
    pid = _dead_pid()
    lock.write_text(
        json.dumps(
            {
                "pid": pid,
                "host": socket.gethostname(),
                "since": "2026-01-01T00:00:00Z",
                "command": "cmk-wizard fix",
            }
        )
    )
    done = run_cli(*_fix_args(connection_path(tmp_path, "key-expired"), tmp_path / "audit.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"took over the stale fix lock of cluster {cluster_id.rsplit('/', 1)[-1]}: pid {pid} " in done.stdout
    )
    assert "is no longer running" in done.stdout
    assert len(_writes(emulator)) == 1
    assert not lock.exists()


def test_a_lock_held_by_another_host_is_not_taken_over(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    """Its process cannot be checked from here: refused, with the file to remove if it is gone."""
    emulator = running_emulator("key-expired")
    lock = lock_path(tmp_path, emulator.connection["clusters"][0])
    lock.write_text(
        json.dumps({"pid": 1, "host": "elsewhere.example", "since": "2026-01-01T00:00:00Z", "command": "x"})
    )
    done = run_cli(*_fix_args(connection_path(tmp_path, "key-expired"), tmp_path / "audit.jsonl"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert_one_line(done.stderr)
    assert "pid 1 on elsewhere.example" in done.stderr
    assert str(lock) in done.stderr
    assert not _writes(emulator)
    assert lock.exists()


def test_a_dry_run_takes_no_lock(running_emulator: EmulatorMaker, tmp_path: Path) -> None:
    """It writes nothing, so it may run beside a fix."""
    emulator = running_emulator("key-expired")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from wizard.run.lock import ClusterLock;"
            "lock = ClusterLock(sys.argv[1], sys.argv[2]); lock.acquire(); print('held', flush=True);"
            "sys.stdin.readline()",
            str(tmp_path),
            emulator.connection["clusters"][0],
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        conn = connection_path(tmp_path, "key-expired")
        dry = run_cli(
            "fix", "--emulator", conn, "--all", "--dry-run", "--audit-log", str(tmp_path / "a.jsonl")
        )
        busy = run_cli(*_fix_args(conn, tmp_path / "a.jsonl"))
    finally:
        holder.communicate("\n", timeout=30)
    assert dry.returncode == 1, dry.stderr
    assert busy.returncode == 2, busy.stderr
    assert f"pid {holder.pid} on " in busy.stderr
