"""Faults a trainer applies to a running estate (and takes back): the `trainer` command's catalogue.

Each fault breaks one thing about one cluster the way the real incident does (the same fields a
scenario sets), records the Activity Log event a management-plane change leaves, and returns the
undo that puts back only what it changed, so a trainee's own fixes in between are kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wizard.emulator.health import parse_key_url
from wizard.emulator.model import (
    SECONDS_PER_DAY,
    ActivityRecord,
    Cluster,
    Key,
    KeyVersion,
    NetworkAcls,
    State,
    Vault,
    covers,
)

TRAINER_CALLER = "trainer@emulator.local"
Undo = Callable[[State], None]


class LiveFaultError(ValueError):
    """The fault cannot be applied to this estate (named in one line)."""


@dataclass(frozen=True)
class LiveFault:
    """One way to break a cluster live: the finding it should lead to, and how to do (and undo) it."""

    name: str
    finding: str
    summary: str
    apply: Callable[[State, Cluster, int], Undo]


def _key_of(state: State, cluster: Cluster) -> tuple[Vault, Key, KeyVersion]:
    """The live vault, key and key version the cluster's key URL names."""
    parsed = parse_key_url(cluster.key_url or "")
    if parsed is None:
        raise LiveFaultError(f"cluster {cluster.name} has no customer-managed key URL")
    vault_name, key_name, version = parsed
    vault = state.live_vault(vault_name)
    key = vault.key(key_name) if vault is not None else None
    found = key.version(version) if key is not None else None
    if vault is None or key is None or found is None:
        raise LiveFaultError(f"the key of cluster {cluster.name} is already out of reach")
    return vault, key, found


def _log(state: State, now: int, operation: str, resource_id: str) -> None:
    state.activity.append(ActivityRecord(float(now), operation, resource_id, caller=TRAINER_CALLER))


def _expire_key(state: State, cluster: Cluster, now: int) -> Undo:
    _, _, version = _key_of(state, cluster)
    before = version.expires
    version.expires = now - SECONDS_PER_DAY

    def undo(state: State) -> None:
        version.expires = before

    return undo


def _disable_key(state: State, cluster: Cluster, now: int) -> Undo:
    _, _, version = _key_of(state, cluster)
    before = version.enabled
    version.enabled = False

    def undo(state: State) -> None:
        version.enabled = before

    return undo


def _delete_key(state: State, cluster: Cluster, now: int) -> Undo:
    vault, key, _ = _key_of(state, cluster)
    key.deleted_on = now
    key.scheduled_purge = now + vault.retention_days * SECONDS_PER_DAY

    def undo(state: State) -> None:
        key.deleted_on = key.scheduled_purge = None

    return undo


def _delete_vault(state: State, cluster: Cluster, now: int) -> Undo:
    vault, _, _ = _key_of(state, cluster)
    assignments, locks = list(state.role_assignments), list(state.locks)
    state.soft_delete_vault(vault.name, now)
    dropped = [a for a in assignments if a not in state.role_assignments]
    dropped_locks = [lock for lock in locks if lock not in state.locks]
    _log(state, now, "Microsoft.KeyVault/vaults/delete", vault.id)

    def undo(state: State) -> None:
        vault.deleted_on = None
        state.role_assignments.extend(a for a in dropped if a not in state.role_assignments)
        state.locks.extend(lock for lock in dropped_locks if lock not in state.locks)

    return undo


def _principal(state: State, cluster: Cluster) -> str:
    identity = state.identity(cluster.key_identity_id or "")
    if identity is None:
        raise LiveFaultError(f"the key identity of cluster {cluster.name} does not exist")
    return identity.principal_id


def _remove_role(state: State, cluster: Cluster, now: int) -> Undo:
    vault, _, _ = _key_of(state, cluster)
    if not vault.rbac:
        raise LiveFaultError(f"vault {vault.name} uses access policies: apply access-policy-removed")
    principal = _principal(state, cluster).lower()
    removed = [
        a
        for a in state.role_assignments
        if a.principal_id.lower() == principal and (covers(a.scope, vault.id) or covers(vault.id, a.scope))
    ]
    if not removed:
        raise LiveFaultError(f"the key identity of cluster {cluster.name} holds no role on {vault.name}")
    state.role_assignments = [a for a in state.role_assignments if a not in removed]
    for assignment in removed:
        _log(state, now, "Microsoft.Authorization/roleAssignments/delete", assignment.id)

    def undo(state: State) -> None:
        state.role_assignments.extend(a for a in removed if a not in state.role_assignments)

    return undo


def _remove_access_policy(state: State, cluster: Cluster, now: int) -> Undo:
    vault, _, _ = _key_of(state, cluster)
    if vault.rbac:
        raise LiveFaultError(f"vault {vault.name} uses RBAC: apply role-removed")
    principal = _principal(state, cluster).lower()
    removed = [p for p in vault.access_policies if p.object_id.lower() == principal]
    if not removed:
        raise LiveFaultError(
            f"the key identity of cluster {cluster.name} has no access policy on {vault.name}"
        )
    vault.access_policies = [p for p in vault.access_policies if p not in removed]
    _log(state, now, "Microsoft.KeyVault/vaults/accessPolicies/write", vault.id)

    def undo(state: State) -> None:
        vault.access_policies.extend(p for p in removed if p not in vault.access_policies)

    return undo


def _close_firewall(state: State, cluster: Cluster, now: int) -> Undo:
    vault, _, _ = _key_of(state, cluster)
    before = copy.deepcopy(vault.network_acls)
    vault.network_acls = NetworkAcls(default_action="Deny", bypass="None")
    _log(state, now, "Microsoft.KeyVault/vaults/write", vault.id)

    def undo(state: State) -> None:
        vault.network_acls = before

    return undo


def _delete_identity(state: State, cluster: Cluster, now: int) -> Undo:
    identity = state.identity(cluster.key_identity_id or "")
    if identity is None:
        raise LiveFaultError(f"the key identity of cluster {cluster.name} does not exist")
    state.delete_identity(identity.name)
    _log(state, now, "Microsoft.ManagedIdentity/userAssignedIdentities/delete", identity.id)

    def undo(state: State) -> None:
        if state.identity(identity.id) is None:
            state.identities.append(identity)

    return undo


LIVE_FAULTS: dict[str, LiveFault] = {
    fault.name: fault
    for fault in (
        LiveFault("key-expired", "KEY_EXPIRED", "the key's expiry moves to yesterday", _expire_key),
        LiveFault("key-disabled", "KEY_DISABLED", "the key version in use is disabled", _disable_key),
        LiveFault("key-deleted", "KEY_SOFT_DELETED", "the key is soft-deleted (recoverable)", _delete_key),
        LiveFault("vault-deleted", "VAULT_SOFT_DELETED", "the vault is soft-deleted", _delete_vault),
        LiveFault(
            "role-removed", "RBAC_ROLE_MISSING", "the identity's role on the vault is removed", _remove_role
        ),
        LiveFault(
            "access-policy-removed",
            "ACCESS_POLICY_MISSING",
            "the identity's access policy is removed",
            _remove_access_policy,
        ),
        LiveFault(
            "firewall-closed",
            "VAULT_FIREWALL_BLOCKS_SERVICE",
            "the vault firewall denies all and trusted services cannot bypass it",
            _close_firewall,
        ),
        LiveFault("identity-deleted", "IDENTITY_DELETED", "the key identity is deleted", _delete_identity),
    )
}


class LiveFaultDesk:
    """The faults applied to one emulator: each change numbered, kept with its undo until taken back."""

    def __init__(self) -> None:
        self._changes: list[dict[str, Any]] = []
        self._undo: dict[int, Undo] = {}

    def catalogue(self) -> list[dict[str, str]]:
        """The faults a trainer can apply."""
        return [{"name": f.name, "finding": f.finding, "summary": f.summary} for f in LIVE_FAULTS.values()]

    def changes(self) -> list[dict[str, Any]]:
        """Every change applied so far, oldest first, with when (if) it was undone."""
        return [dict(change) for change in self._changes]

    def apply(self, state: State, name: str, cluster_id: str | None, now: int) -> dict[str, Any]:
        """Apply a fault to a cluster (the estate's first when none is named); the caller holds the lock."""
        fault = LIVE_FAULTS.get(name)
        if fault is None:
            raise LiveFaultError(f"no live fault named {name!r} (known: {', '.join(LIVE_FAULTS)})")
        cluster = state.cluster(cluster_id) if cluster_id else (state.clusters[0] if state.clusters else None)
        if cluster is None:
            raise LiveFaultError(f"no cluster {cluster_id!r} in this estate")
        undo = fault.apply(state, cluster, now)
        change_id = len(self._changes) + 1
        change: dict[str, Any] = {
            "id": change_id,
            "fault": fault.name,
            "finding": fault.finding,
            "cluster": cluster.id,
            "appliedAt": now,
            "undoneAt": None,
        }
        self._changes.append(change)
        self._undo[change_id] = undo
        return dict(change)

    def undo(self, state: State, change_id: int, now: int) -> dict[str, Any]:
        """Take one change back (once); the caller holds the lock."""
        undo = self._undo.pop(change_id, None)
        if undo is None:
            raise LiveFaultError(f"no change {change_id} to undo (applied and not yet undone)")
        undo(state)
        change = self._changes[change_id - 1]
        change["undoneAt"] = now
        return dict(change)
