"""A fix killed right after it created the replacement identity: the re-run, in a later minute,
reuses that identity (its name is in the audit log's intent, written before the PUT) instead of
creating a second one and orphaning the first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import (
    BackendMaker,
    EmulatorMaker,
    connection_path,
    killed_once_stuck,
    read_jsonl,
)
from wizard.cli import main
from wizard.domain.action_records import action_record
from wizard.domain.actions import CreateIdentity
from wizard.emulator import Emulator
from wizard.engine import plan_access
from wizard.run.audit import AuditLog
from wizard.run.fix import FixSession

SCENARIO = "identity-deleted"


def _identity_puts(emulator: Emulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r["method"] == "PUT"
        and "/userassignedidentities/" in r["path"].lower()
        and r["status"] in (200, 201)
    ]


def _identity_path(path: str) -> bool:
    return "/userassignedidentities/" in path.lower()


def _after_first(write: Callable[[str, str, str], bool]) -> Callable[[str, str, str], bool]:
    """Matches every request after the first one `write` accepts: that one is answered."""
    seen: list[bool] = []

    def matches(host: str, method: str, path: str) -> bool:
        if seen:
            return True
        if write(host, method, path):
            seen.append(True)
        return False

    return matches


def test_a_rerun_after_a_kill_reuses_the_identity_the_killed_run_created(
    running_emulator: EmulatorMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: the re-run a minute later created `<old>-<next minute>`, a second identity."""
    emulator = running_emulator(SCENARIO)
    conn, audit = connection_path(tmp_path, SCENARIO), tmp_path / "audit.jsonl"
    fix = ["fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(audit), "--retry-total", "0"]
    # Once Azure has created the identity it stops answering: the fix is stuck reading it back
    # (before it can record the result) until it is killed.
    created_once = _after_first(lambda host, method, path: method == "PUT" and _identity_path(path))
    killed_once_stuck(emulator, fix, holding=created_once, what="the identity PUT")
    [created] = _identity_puts(emulator)
    [intent] = [r for r in read_jsonl(audit) if r["phase"] == "before"]
    assert intent["remediation"] == "create-identity"
    assert intent["target"].lower() == created["path"].lower(), "the name was in the log before the PUT"

    # the re-run comes a minute later: a name made from its own clock would be a new one
    stamped = plan_access.new_identity_name
    monkeypatch.setattr(
        plan_access, "new_identity_name", lambda old, now: stamped(old, now + timedelta(minutes=1))
    )
    assert stamped("id-cmk-demo", datetime.now()) != plan_access.new_identity_name(
        "id-cmk-demo", datetime.now()
    )
    code = main([*fix, "--wait-timeout", "30"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(_identity_puts(emulator)) == 1, "a second identity was created"
    [health] = emulator.health()["clusters"].values()
    assert health["status"] == "Ready"
    records = read_jsonl(audit)
    rerun = records[records.index(intent) + 1 :]
    # settled: the killed run's own result, or the re-run's reading of the target
    assert {r["phase"] for r in rerun if r.get("intent") == intent["id"]} & {"after", "resolved"}
    assert not [r for r in rerun if r["phase"] == "before" and r["remediation"] == "create-identity"], (
        "the identity is reused, not asked for again"
    )
    assert f"reusing identity {intent['target'].rsplit('/', 1)[-1]}" in out
    attach = next(
        r for r in rerun if r["phase"] == "before" and r["remediation"] == "attach-identity-and-key"
    )
    assert intent["target"].lower() in str(attach["action"]).lower()


def _planned_twice_a_minute_apart(session: FixSession, monkeypatch: pytest.MonkeyPatch) -> CreateIdentity:
    """The first step of two plans, the second with another minute's stamp: the same identity."""
    first = session.plan().next_step
    monkeypatch.setattr(plan_access, "new_identity_name", lambda old, now: f"{old}-209912312359")
    again = session.plan().next_step
    assert first is not None
    assert again is not None
    assert isinstance(first.action, CreateIdentity)
    assert again.action == first.action
    return first.action


def test_the_replacement_name_holds_for_the_whole_session(
    backend: BackendMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: every plan stamped a fresh name, so a plan shown at 18:26 and taken at 18:27 differed."""
    b = backend(SCENARIO)
    session = FixSession(b.connect(), b.default_cluster_id() or "", audit=AuditLog(tmp_path / "audit.jsonl"))
    created = _planned_twice_a_minute_apart(session, monkeypatch)
    assert created.replaces.endswith("/userAssignedIdentities/id-cmk-demo")


def test_a_replacement_named_for_another_lost_identity_is_not_taken(
    backend: BackendMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier incident's intent (it replaced another identity) names nothing here; this
    session's own name still holds from plan to plan."""
    b = backend(SCENARIO)
    cluster_id = b.default_cluster_id() or ""
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.cluster = cluster_id
    earlier = CreateIdentity("sub", "rg", "id-other-202601010000", "westeurope", replaces="/x/id-other")
    audit.intent(
        operator={"mode": "emulator"},
        remediation=earlier.remediation,
        target=earlier.identity_id,
        request={},
        before={"identity": None},
        action=action_record(earlier),
    )
    session = FixSession(b.connect(), cluster_id, audit=audit)
    created = _planned_twice_a_minute_apart(session, monkeypatch)
    assert created.name.startswith("id-cmk-demo-")
    assert created.name != "id-cmk-demo-209912312359"
