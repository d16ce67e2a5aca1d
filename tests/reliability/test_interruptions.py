"""A remediation killed between its write and its verification leaves a valid audit log with the
write recorded, and the next `fix` picks up from a fresh diagnosis and reaches healthy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.conftest import EmulatorMaker, connection_path, killed_once_stuck, read_jsonl
from wizard.cli import main
from wizard.emulator import Emulator


def _after_records(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            return []  # a line still being written: look again
    return [r for r in records if r.get("phase") == "after"]


def _writes_done(emulator: Emulator) -> list[dict[str, object]]:
    return [r for r in emulator.requests() if r["write"] and 200 <= r["status"] < 300]


def _cluster_reads_after_a_write() -> Callable[[str, str, str], bool]:
    """Matches every read of the cluster once a write was sent (a verification's first read)."""
    written: list[bool] = []

    def matches(host: str, method: str, path: str) -> bool:
        if method in ("PUT", "PATCH", "DELETE"):
            written.append(True)
        return bool(written) and method == "GET" and "/mongoclusters/" in path.lower()

    return matches


@pytest.mark.parametrize("scenario", ["key-expired", "multi-fault"])
def test_killed_between_write_and_verification(
    running_emulator: EmulatorMaker, tmp_path: Path, scenario: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = running_emulator(scenario, latency_ms=250)
    conn = connection_path(tmp_path, scenario)
    audit = tmp_path / "audit.jsonl"
    fix = ["fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(audit), "--retry-total", "0"]
    # Once a write has reached Azure, Azure stops answering the cluster's reads: the fix records the
    # write's result, starts verifying, and is stuck there until killed.
    killed_once_stuck(
        emulator,
        [*fix, "--wait-timeout", "30"],
        holding=_cluster_reads_after_a_write(),
        what="the first write",
        stuck=lambda: bool(_after_records(audit)),
        stuck_what="the first 'after' audit record and a verification read",
    )

    records = read_jsonl(audit)  # every line whole JSON
    assert _writes_done(emulator), "the write reached Azure before the kill"
    before = [r for r in records if r["phase"] == "before"]
    after = [r for r in records if r["phase"] == "after"]
    assert after
    first = after[0]
    assert first["result"] in ("ok", "already-done")
    assert any(b["id"] == first["intent"] for b in before), "the intent precedes its result"

    # The next run diagnoses afresh, does what is left, verifies, and ends healthy.
    rerun_audit = tmp_path / "audit-2.jsonl"
    code = main(
        [
            "fix",
            "--emulator",
            conn,
            "--all",
            "--yes",
            "--audit-log",
            str(rerun_audit),
            "--retry-total",
            "0",
            "--wait-timeout",
            "30",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert [c["status"] for c in emulator.health()["clusters"].values()] == ["Ready"]
    rerun = read_jsonl(rerun_audit) if rerun_audit.exists() else []  # nothing left: no writes
    done_first = {(r["remediation"], r["target"]) for r in after}
    redone = {(r["remediation"], r["target"]) for r in rerun if r["phase"] == "after" and r["result"] == "ok"}
    assert not (done_first & redone), "a write that had been applied was applied again"
