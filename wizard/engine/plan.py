"""Which reads can start now: every read whose inputs are known, so independent ones run at once."""

from __future__ import annotations

from wizard.domain.errors import NotFound
from wizard.domain.models import VaultRef
from wizard.engine.facts import Facts
from wizard.engine.reads import (
    Known,
    deleted_vault_reads,
    key_read,
    newest_key_read,
    role_assignments_read,
    vault_lookup_read,
)
from wizard.engine.roles import KNOWN_INSUFFICIENT_ROLES, KNOWN_SUFFICIENT_ROLES
from wizard.engine.tree import Read


def plan(cluster_id: str, known: Known) -> list[Read]:
    """Every read whose inputs are known now; the runner starts those not yet started."""
    facts = Facts.from_known(cluster_id, known)
    wanted = [facts.cluster_read]
    cluster, key = facts.cluster, facts.key_url
    if cluster is None or not cluster.is_cmk:
        return wanted
    if facts.identity_read:
        wanted.append(facts.identity_read)
    if key is None:
        return [*wanted, *_one(facts.resource_health_read)]
    lookup = vault_lookup_read(cluster, key)
    wanted.append(lookup)
    if facts.resource_health_read:
        wanted.append(facts.resource_health_read)
    looked_up = facts.outcome(lookup)
    if looked_up is None or looked_up.error:
        return wanted
    if not isinstance(looked_up.value, VaultRef) and facts.vault_ref is None and facts.deleted_vault is None:
        # the sweep; it stops (reads not yet sent are dropped) once the vault is found live or
        # soft-deleted, a vault's name being global: the cluster's own subscription both ways, then
        # the others' deleted vaults, and only once none of those names it their live ones
        # (Resource Graph lists those already; the live lists only hedge its lag, while a vault it
        # does not show is most often deleted). A vault recovered a moment ago in another
        # subscription may still be listed as deleted there (UNVERIFIED: how long that lingers);
        # it then reads as soft-deleted, but recover-vault reads it first and finds it live, so
        # nothing is sent, and the next diagnosis sees it live
        live, deleted = facts.live_vault_searches, deleted_vault_reads(cluster, key, None, known)
        wanted += [*live[:2], *deleted]
        if all(facts.outcome(r) is not None for r in deleted):  # none of them names it
            wanted += live[2:]
    ref = facts.vault_ref
    if ref is None:
        return wanted
    vault_read, the_key = facts.vault_read, key_read(ref.id, key)
    assert vault_read is not None
    wanted += [vault_read, the_key]
    if key.version:
        # where a versionless URL would point the cluster: judged before one is ever offered
        wanted.append(newest_key_read(ref.id, key))
    if _not_found(facts, vault_read):
        wanted += facts.deleted_vault_reads
        return wanted
    if _not_found(facts, the_key) and facts.deleted_key_read:
        wanted.append(facts.deleted_key_read)
    if facts.vault and not facts.vault.rbac_authorization:
        return wanted
    principal = facts.access_principal
    identity_pending = facts.outcome(facts.identity_read) is None
    candidates = [principal] + ([facts.remembered_principal] if identity_pending else [])
    for pid in dict.fromkeys(p for p in candidates if p):
        wanted.append(role_assignments_read(ref.id, pid))
        covering = facts.assignments_covering_key(pid)
        if pid != principal or covering is None:
            return wanted
        if any(a.role_guid in KNOWN_SUFFICIENT_ROLES for a in covering):
            continue
        for a in covering:
            if a.role_guid not in KNOWN_INSUFFICIENT_ROLES:
                wanted += facts.role_reads(a.role_definition_id)
    return list(dict.fromkeys(wanted))


def _one(read: Read | None) -> list[Read]:
    return [read] if read else []


def _not_found(facts: Facts, read: Read) -> bool:
    outcome = facts.outcome(read)
    return outcome is not None and isinstance(outcome.error, NotFound)
