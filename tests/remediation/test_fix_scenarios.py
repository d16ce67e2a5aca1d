"""Every built-in scenario fixed through the real SDK against the embedded emulator.

The emulator is the independent judge: after the fixes its OWN verdict (`health()`) must say
Ready. No mocks of the SDK; no sleeps: `until` polls with a deadline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory, in_both_status_modes, until
from wizard.domain.results import StepKind
from wizard.emulator import Emulator, scenario_names
from wizard.run.audit import AuditLog, read_audit
from wizard.run.confirmation import auto_confirm
from wizard.run.diagnose import diagnose
from wizard.run.fix import FixSession

FIXABLE = [
    "healthy",
    "key-expired",
    "key-disabled",
    "key-soft-deleted",
    "key-not-yet-active",
    "vault-soft-deleted",
    "vault-soft-deleted-elsewhere",
    "vault-group-deleted",
    "identity-deleted",
    "identity-recreated",
    "rbac-role-missing",
    "access-policy-revoked",
    "firewall-blocked",
    "provisioning-failed",
    "vault-recovered-rbac-lost",
    "operator-firewalled",
    "multi-fault",
    "failed-last-operation",
    "key-url-pinned-newest-disabled",
    "vault-private-default-bypass",
    "operator-network-denied",
]
UNRECOVERABLE = {
    "key-purged": "KEY_PURGED",
    "vault-purged": "VAULT_PURGED",
    "key-type-unsupported": "KEY_TYPE_UNSUPPORTED",
}
WRITES_NOTHING = {
    "healthy",
    "operator-firewalled",
    "failed-last-operation",
    "key-url-pinned-newest-disabled",
    "vault-private-default-bypass",
}
OPERATOR = {"operator-network-denied": ("198.51.100.7", "kv-cmk-demo")}
"""Scenarios fixed only through a temporary IP rule: the operator's address (--my-ip) and the vault
name its typed confirmation needs."""


def writes(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["write"]]


def assert_audit_pairs(path: Path, token: str) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert token not in text
    assert "bearer" not in text.lower()
    assert '"authorization"' not in text.lower()
    records = read_audit(path) if path.exists() else []
    before = {r["id"]: r for r in records if r["phase"] == "before"}
    after = {r["intent"]: r for r in records if r["phase"] == "after"}
    assert set(before) == set(after), "every intent has exactly one result"
    for rid, record in before.items():
        assert record["operator"]["mode"] == "emulator"
        assert record["remediation"]
        assert record["target"]
        assert "before" in record
        assert after[rid]["result"] in ("ok", "already-done")
    return records


def test_every_built_in_scenario_is_fixed_or_escalated_here() -> None:
    assert sorted([*FIXABLE, *UNRECOVERABLE]) == sorted(scenario_names())


@pytest.mark.parametrize(("scenario", "mode"), in_both_status_modes(FIXABLE))
def test_fixing_every_finding_makes_the_emulator_say_ready_in_both_status_modes(
    scenario: str, mode: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Fixed to health whether or not clusterStatus ever showed the outage (`arm-enum` keeps it Ready):
    after a fix the wait ends only on Resource Health's Available since the fix."""
    backend = emulator_backend(scenario, status_mode=mode)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    audit = AuditLog(tmp_path / "audit.jsonl", secrets=[backend.token()])
    operator_ip, vault = OPERATOR.get(scenario, (None, ""))
    session = FixSession(gateway, cluster_id, audit=audit, operator_ip=operator_ip)
    # --yes --confirm-name <cluster> [--confirm-name <vault>]: the typed confirmations of
    # delete-failed-cluster and allow-operator-ip
    names = {cluster_id.rsplit("/", 1)[-1]} | ({vault} if vault else set())
    result = session.run(lambda step: auto_confirm(step, names))
    emulator = backend.emulator
    assert not result.stopped, result.stopped
    records = assert_audit_pairs(tmp_path / "audit.jsonl", backend.token())
    applied = [r for r in records if r["phase"] == "after" and r["result"] == "ok"]
    assert len(applied) == len([o for o in result.outcomes if o.status == "ok"])
    if scenario == "provisioning-failed":
        # "Healthy" here means: the causes are fixed and the Failed cluster entity is gone, ready
        # for the operator to provision again. There is no cluster left to turn Ready.
        assert result.deleted_cluster
        assert [o.step.remediation for o in result.outcomes][-1] == "delete-failed-cluster"
        assert cluster_id not in emulator.health()["clusters"]
        deletes = [r for r in writes(emulator) if r["method"] == "DELETE"]
        assert [r["path"].lower() for r in deletes] == [cluster_id.lower()]
        assert result.exit_code == 0
        return
    health = until(lambda: (h := emulator.health()["clusters"][cluster_id])["status"] == "Ready" and h)
    assert health, emulator.health()["clusters"][cluster_id]
    assert health["canUseKey"] is True
    assert health["availabilityState"] == "Available"
    if scenario not in WRITES_NOTHING:
        waits = [o for o in result.outcomes if o.wait is not None]
        assert [o.status for o in waits] == ["ready"]
        assert waits[0].wait is not None
        assert waits[0].wait.confirmed_by == "resource-health"
    assert not [r for r in writes(emulator) if r["method"] == "DELETE"]
    assert not [r for r in emulator.requests() if "purge" in r["path"].lower()]
    final = diagnose(gateway, cluster_id)
    assert final.verdict == "healthy", [f.code for f in final.findings]
    assert final.exit_code == 0
    assert result.exit_code == 0
    if scenario in WRITES_NOTHING:
        assert writes(emulator) == []
        assert [o for o in result.outcomes if o.step.kind != StepKind.ESCALATE] == []


@pytest.mark.parametrize(("scenario", "mode"), in_both_status_modes(sorted(UNRECOVERABLE)))
def test_unrecoverable_scenarios_escalate_and_write_nothing(
    scenario: str, mode: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(scenario, status_mode=mode)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    plan = session.plan()
    assert plan.writes == ()
    assert [s.finding for s in plan.steps if s.kind == StepKind.ESCALATE] == [UNRECOVERABLE[scenario]]
    result = session.run(auto_confirm)
    assert result.outcomes == []
    assert [s.finding for s in result.escalations] == [UNRECOVERABLE[scenario]]
    assert result.exit_code == 1
    assert writes(backend.emulator) == []
    assert not (tmp_path / "audit.jsonl").exists()


LOCKED_FIREWALL = """
name: locked-firewall
identities: [{name: id-cmk}]
vaults:
  - name: kv-locked
    networkAcls: {defaultAction: Deny, bypass: None}
    keys: [{name: cmk, expires: +365d}]
clusters:
  - name: cluster-locked
    identities: [id-cmk]
    encryption: {identity: id-cmk, vault: kv-locked, key: cmk}
roleAssignments:
  - {principal: id-cmk, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-locked"}
locks:
  - {name: freeze, scope: resourceGroup, level: ReadOnly}
"""


def test_a_locked_resource_group_stops_the_fix_with_where_the_lock_is_until_its_owner_lifts_it(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """The write is refused, audited as an error and explained (never 'already done', never a
    retry loop); once the lock's owner removes it, the same fix goes through to Ready."""
    estate = tmp_path / "locked.yaml"
    estate.write_text(LOCKED_FIREWALL, encoding="utf-8")
    backend = emulator_backend(str(estate))
    cluster_id = backend.default_cluster_id() or ""
    emulator = backend.emulator
    audit_path = tmp_path / "audit.jsonl"
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(audit_path))
    refused = session.run(auto_confirm)
    assert [(o.step.remediation, o.status) for o in refused.outcomes] == [("allow-trusted-services", "error")]
    advice = refused.outcomes[0].advice
    assert "management lock on /subscriptions/" in advice
    assert "az lock list --resource-group rg-cmk-demo" in advice
    assert "never removes locks" in advice
    assert refused.exit_code == 1
    assert [(r["method"], r["status"]) for r in writes(emulator)] == [("PATCH", 409)]
    assert [r["result"] for r in read_audit(audit_path) if r["phase"] == "after"] == ["error"]

    emulator.remove_lock("freeze")
    fixed = FixSession(backend.connect(), cluster_id, audit=AuditLog(audit_path)).run(auto_confirm)
    assert [o.status for o in fixed.outcomes if o.step.remediation == "allow-trusted-services"] == ["ok"]
    assert until(lambda: emulator.health()["clusters"][cluster_id]["status"] == "Ready")
    assert fixed.exit_code == 0


def test_a_vault_recovered_in_another_subscription_is_found_while_resource_graph_lags(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Right after the recovery Resource Graph still does not list the vault: the ARM search of
    every subscription in sight finds it, the role is granted again, and the cluster is Ready."""
    backend = emulator_backend("vault-soft-deleted-elsewhere")
    backend.emulator.set_faults(restrictions=["stale-resource-graph"])
    cluster_id = backend.default_cluster_id() or ""
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    result = session.run(auto_confirm)
    assert [(o.step.remediation, o.status) for o in result.outcomes][:2] == [
        ("recover-vault", "ok"),
        ("grant-crypto-role", "ok"),
    ]
    assert result.exit_code == 0, [f.code for f in result.final.findings] if result.final else None
    assert until(lambda: backend.emulator.health()["clusters"][cluster_id]["status"] == "Ready")
