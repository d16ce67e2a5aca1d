"""Lock preflight: the fix reads the management locks over each ARM write and flags, before
anything is sent, a step a lock will refuse. Through the real SDK against the emulator."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BackendFactory
from tests.estates import scenario_with
from wizard.cli.fix import plan_text
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession


def _locked_estate(tmp_path: Path, scenario: str, *locks: dict[str, str]) -> str:
    return scenario_with(tmp_path, scenario, locks=list(locks))


def test_a_read_only_subscription_lock_flags_the_grant_before_anything_is_sent(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(
        _locked_estate(tmp_path, "rbac-role-missing", {"scope": "subscription", "level": "ReadOnly"})
    )
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    plan = session.plan()
    grant = next(s for s in plan.writes if s.remediation == "grant-crypto-role")
    sub = cluster_id.split("/")[2]
    assert f"a management lock on /subscriptions/{sub} will refuse this write (ScopeLocked)" in grant.lock
    assert f"`az lock list --subscription {sub} --output table`" in grant.lock
    assert "LOCKED:     a management lock" in plan_text(plan)
    emulator = backend.emulator
    assert [r for r in emulator.requests() if r["write"]] == []
    assert {r["kind"] for r in emulator.requests()} >= {"locks"}
    result = session.run(auto_confirm)
    assert result.outcomes[0].status == "error"
    assert "ScopeLocked" in result.outcomes[0].advice


def test_a_can_not_delete_lock_on_the_vault_flags_nothing_a_grant_needs(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(
        _locked_estate(tmp_path, "rbac-role-missing", {"scope": "vault:kv-cmk-demo", "level": "CanNotDelete"})
    )
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    assert [s.lock for s in session.plan().writes] == [""] * len(session.plan().writes)
    result = session.run(auto_confirm)
    assert not result.stopped, result.stopped
    assert result.final.verdict == "healthy"


def test_a_lock_on_the_failed_cluster_flags_its_delete_but_not_the_data_plane(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(
        _locked_estate(tmp_path, "provisioning-failed", {"scope": "resourceGroup", "level": "CanNotDelete"})
    )
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    flagged = {s.remediation: s.lock for s in session.plan().writes}
    assert "will refuse this delete" in flagged["delete-failed-cluster"]
    assert all(not lock for name, lock in flagged.items() if name != "delete-failed-cluster")
    assert "remove it (a CanNotDelete lock refuses deletes)" in plan_text(session.plan())
