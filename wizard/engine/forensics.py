"""Which Activity Log operations would explain each finding, and the timeline the events make.

Pure: findings and facts in, lookups out; events in, the "What changed" timeline out. The Activity
Log records management-plane operations only: a key disabled, expired, deleted or changed on the
data plane is in the vault's AuditEvent diagnostic logs (if they are enabled), never here; that is
said, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from wizard.domain.errors import BadInput, Forbidden, GatewayError
from wizard.domain.forensics import (
    NEEDS_ACTIVITY_READ,
    ActivityEvent,
    Change,
    Lookup,
    Unanswered,
    WhatChanged,
)
from wizard.domain.ids import parse_resource_id
from wizard.domain.models import Finding
from wizard.engine.facts import Facts

ROLE_DELETE = "Microsoft.Authorization/roleAssignments/delete"
VAULT_WRITE = "Microsoft.KeyVault/vaults/write"
VAULT_DELETE = "Microsoft.KeyVault/vaults/delete"
POLICY_WRITE = "Microsoft.KeyVault/vaults/accessPolicies/write"
PURGE = "Microsoft.KeyVault/locations/deletedVaults/purge/action"
KEY_WRITE = "Microsoft.KeyVault/vaults/keys/write"
IDENTITY_DELETE = "Microsoft.ManagedIdentity/userAssignedIdentities/delete"
IDENTITY_WRITE = "Microsoft.ManagedIdentity/userAssignedIdentities/write"
CLUSTER_WRITE = "Microsoft.DocumentDB/mongoClusters/write"

_ON_VAULT = {
    "RBAC_ROLE_MISSING": (ROLE_DELETE, VAULT_DELETE),
    "ACCESS_POLICY_MISSING": (POLICY_WRITE, VAULT_WRITE),
    "VAULT_FIREWALL_BLOCKS_SERVICE": (VAULT_WRITE,),
    "VAULT_SOFT_DELETED": (VAULT_DELETE,),
    "VAULT_PURGED": (VAULT_DELETE, PURGE),
    "KEY_EXPIRED": (KEY_WRITE,),
    "KEY_DISABLED": (KEY_WRITE,),
    "KEY_NOT_YET_ACTIVE": (KEY_WRITE,),
    "KEY_SOFT_DELETED": (KEY_WRITE,),
    "KEY_PURGED": (KEY_WRITE,),
    "KEY_EXPIRING_SOON": (KEY_WRITE,),
}
_ON_IDENTITY = {
    "IDENTITY_DELETED": (IDENTITY_DELETE,),
    "IDENTITY_RECREATED": (IDENTITY_DELETE, IDENTITY_WRITE),
}
_ON_CLUSTER = {
    "CLUSTER_PROVISIONING_FAILED": (CLUSTER_WRITE,),
    "CLUSTER_LAST_OPERATION_FAILED": (CLUSTER_WRITE,),
    "IDENTITY_NOT_ATTACHED": (CLUSTER_WRITE,),
}
_FAILED_ONLY = {"CLUSTER_PROVISIONING_FAILED", "CLUSTER_LAST_OPERATION_FAILED"}
KEY_DATA_PLANE = (
    "Key changes made on the data plane (disable, expiry, activation date, delete, purge) are not in the "
    "Activity Log: look in the vault's AuditEvent diagnostic logs (Log Analytics or a storage account), "
    "if they are enabled."
)
NOT_SHOWN = {
    "KEY_EXPIRED": KEY_DATA_PLANE,
    "KEY_DISABLED": KEY_DATA_PLANE,
    "KEY_NOT_YET_ACTIVE": KEY_DATA_PLANE,
    "KEY_SOFT_DELETED": KEY_DATA_PLANE,
    "KEY_PURGED": KEY_DATA_PLANE,
    "KEY_EXPIRING_SOON": KEY_DATA_PLANE,
    "VAULT_PURGED": "A purged vault's events stay in the log for 90 days; past that nothing records it.",
    "RBAC_ROLE_MISSING": "An assignment removed at the subscription or a management group is logged there, "
    "not in the vault's resource group.",
}


def _where(resource_id: str) -> tuple[str, str] | None:
    try:
        rid = parse_resource_id(resource_id)
    except BadInput:
        return None
    return rid.subscription_id, rid.resource_group


def lookups(findings: Iterable[Finding], facts: Facts) -> list[Lookup]:
    """One lookup per finding the Activity Log could explain, on the resource it would be logged on."""
    cluster = facts.cluster
    targets: list[tuple[Mapping[str, tuple[str, ...]], str]] = [
        (_ON_VAULT, facts.vault_id),
        (_ON_IDENTITY, (cluster.key_identity_id or "") if cluster else ""),
        (_ON_CLUSTER, facts.cluster_id),
    ]
    out: list[Lookup] = []
    for finding in findings:
        for table, resource_id in targets:
            operations = table.get(finding.code)
            where = _where(resource_id) if operations and resource_id else None
            if operations and where:
                out.append(
                    Lookup(finding.code, resource_id, *where, operations, finding.code in _FAILED_ONLY)
                )
    return out


def not_shown(findings: Iterable[Finding]) -> tuple[str, ...]:
    """What the Activity Log cannot show about these findings, each said once."""
    return tuple(dict.fromkeys(NOT_SHOWN[f.code] for f in findings if f.code in NOT_SHOWN))


def _final(events: list[ActivityEvent]) -> list[ActivityEvent]:
    """One event per operation (correlation id + operation): the last word, not `Started`."""
    last: dict[tuple[str, str], ActivityEvent] = {}
    for event in sorted(events, key=lambda e: e.time):
        key = (event.correlation_id or event.time.isoformat(), event.operation.lower())
        if key not in last or event.status.lower() != "started":
            last[key] = event
    return list(last.values())


def _matches(lookup: Lookup, event: ActivityEvent) -> bool:
    resource = event.resource_id.lower().rstrip("/")
    target = lookup.resource_id.lower().rstrip("/")
    on_it = resource == target or resource.startswith(target + "/")
    wanted = event.operation.lower() in {op.lower() for op in lookup.operations}
    failed = event.status.lower() == "failed"
    return on_it and wanted and (failed or not lookup.failed_only)


def timeline(
    lookups_made: Iterable[Lookup],
    answers: Mapping[tuple[str, str], list[ActivityEvent] | GatewayError],
    findings: Iterable[Finding],
    since: datetime,
    until: datetime,
) -> WhatChanged:
    """The changes that match each lookup, oldest first; a group's read that failed, named."""
    changes: list[Change] = []
    unanswered: list[Unanswered] = []
    for lookup in lookups_made:
        answer = answers.get((lookup.subscription_id.lower(), lookup.resource_group.lower()))
        if answer is None:
            continue
        if isinstance(answer, GatewayError):
            needs = answer.needs or NEEDS_ACTIVITY_READ if isinstance(answer, Forbidden) else ""
            unanswered.append(Unanswered(lookup.finding, str(answer), needs))
            continue
        changes += [Change(lookup.finding, e) for e in _final(answer) if _matches(lookup, e)]
    changes.sort(key=lambda c: (c.event.time, c.finding))
    unique = list({(c.finding, c.event.correlation_id, c.event.operation): c for c in changes}.values())
    return WhatChanged(since, until, tuple(unique), tuple(unanswered), not_shown(findings))
