"""Which earlier writes a fix settles before its first write, and the actions their records carry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.domain.action_records import action_from_record, action_record
from wizard.domain.actions import (
    ACTION_TYPES,
    Action,
    AddAccessPolicy,
    AllowOperatorIp,
    AllowTrustedServices,
    AttachIdentityAndKey,
    ClearKeyNotBefore,
    CreateIdentity,
    DeleteFailedCluster,
    EnableKey,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    GrantCryptoRole,
    RecoverKey,
    RecoverVault,
    RecreateResourceGroup,
    RemoveOperatorIp,
)
from wizard.run.audit import AuditLog, unsettled_intents

VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/c1"
IDENTITY = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
WHEN = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
ONE_OF_EACH: list[Action] = [
    ExtendKeyExpiry(VAULT, "https://kv.vault.azure.net/", "cmk", "v1", WHEN),
    EnableKey(VAULT, "https://kv.vault.azure.net/", "cmk", None),
    ClearKeyNotBefore(VAULT, "https://kv.vault.azure.net/", "cmk", "v1", WHEN),
    RecoverKey(VAULT, "https://kv.vault.azure.net/", "cmk", None),
    RecoverVault(VAULT, "kv", "westeurope", "t"),
    RecreateResourceGroup("s", "rg", "westeurope"),
    AllowTrustedServices(VAULT),
    AllowOperatorIp(VAULT, "198.51.100.7", "https://kv.vault.azure.net/", "cmk"),
    RemoveOperatorIp(VAULT, "198.51.100.7", "abc-0001"),
    EnablePurgeProtection(VAULT),
    GrantCryptoRole(VAULT, "p1", new_identity=True),
    AddAccessPolicy(VAULT, "p1", tenant_id="t", permissions=("get", "wrapKey")),
    CreateIdentity("s", "rg", "id", "westeurope"),
    AttachIdentityAndKey(CLUSTER, IDENTITY, "https://kv.vault.azure.net/keys/cmk", "p1"),
    DeleteFailedCluster(CLUSTER, confirm_name="c1"),
]


def test_every_action_survives_its_audit_record() -> None:
    assert {type(a) for a in ONE_OF_EACH} == set(ACTION_TYPES)
    for action in ONE_OF_EACH:
        assert action_from_record(action_record(action)) == action


def _intent(log: AuditLog, action: Action, *, sent: bool = True) -> str:
    request: dict[str, Any] = {} if sent else {"sent": False}
    return log.intent(
        operator={},
        remediation=action.remediation,
        target="t",
        request=request,
        before={},
        action=action_record(action),
    )


def _result(log: AuditLog, intent: str, result: str) -> None:
    log.result(intent, remediation="r", target="t", result=result, message="", after={})


def test_only_writes_of_this_cluster_whose_outcome_is_unknown_are_settled(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.cluster = CLUSTER
    key = ONE_OF_EACH[0]
    done = {result: _intent(log, key) for result in ("ok", "already-done", "error", "not-sent")}
    for result, intent in done.items():
        _result(log, intent, result)
    unknown = _intent(log, key)
    _result(log, unknown, "unknown")
    lost = _intent(log, key)  # no result: the run stopped between the write and its record
    _result(log, _intent(log, key, sent=False), "already-done")
    settled = _intent(log, key)
    _result(log, settled, "unknown")
    log.resolved(settled, remediation="r", target="t", was="unknown", found="applied", message="", state={})
    unreadable = _intent(log, key)
    log.resolved(
        unreadable, remediation="r", target="t", was="no result", found="unreadable", message="", state={}
    )
    other = AuditLog(path)
    other.cluster = CLUSTER.replace("c1", "c2")
    _intent(other, key)
    found = unsettled_intents(path, CLUSTER.upper())  # ARM ids compare case-insensitively
    assert [(i["id"], was) for i, was in found] == [
        (unknown, "unknown"),
        (lost, "no result"),
        (unreadable, "no result"),
    ]
