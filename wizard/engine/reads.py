"""The reads as data: what one read returned, and which read answers each question about a cluster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wizard.domain.errors import GatewayError
from wizard.domain.ids import KeyUrl
from wizard.domain.models import ClusterFacts, VaultRef
from wizard.engine.tree import Read, ReadKind


@dataclass(frozen=True)
class Outcome:
    """What one read returned: a value (possibly None for 'looked, found nothing') or an error."""

    value: Any = None
    error: GatewayError | None = None
    duration_ms: int = 0


Known = Mapping[Read, Outcome]
"""Every read answered so far, with what Azure said."""

SUBSCRIPTIONS_READ = Read(ReadKind.SUBSCRIPTIONS, ())


def answered_value(known: Known, read: Read) -> Any:
    """The value a read returned; None while it is unanswered or when it failed."""
    outcome = known.get(read)
    return None if outcome is None or outcome.error else outcome.value


def resource_health_read(cluster_id: str) -> Read:
    """What Azure Resource Health says of the cluster now."""
    return Read(ReadKind.RESOURCE_HEALTH, (cluster_id,))


def vault_lookup_read(cluster: ClusterFacts, key: KeyUrl) -> Read:
    """Find the key's vault by name in every subscription the operator sees (Resource Graph)."""
    return Read(ReadKind.VAULT_LOOKUP, (key.vault_name,))


def search_subscriptions(cluster: ClusterFacts, known: Known) -> list[str]:
    """Where to look for a vault Resource Graph does not show: the cluster's subscription at once,
    then every other subscription in sight once they are known (a key vault often lives in
    another subscription than its cluster)."""
    listed = answered_value(known, SUBSCRIPTIONS_READ)
    own = cluster.subscription_id.lower()
    others = sorted({str(s).lower() for s in listed} - {own}) if isinstance(listed, list) else []
    return [cluster.subscription_id, *others]


def vault_search_reads(cluster: ClusterFacts, key: KeyUrl, known: Known) -> list[Read]:
    """Look again through ARM, subscription by subscription: Resource Graph can lag minutes."""
    return [
        Read(ReadKind.VAULT_SEARCH, (key.vault_name, sub)) for sub in search_subscriptions(cluster, known)
    ]


def live_vault_searches(cluster: ClusterFacts, key: KeyUrl, known: Known) -> list[Read]:
    """Everything a live vault Resource Graph missed is looked for with: the list of
    subscriptions, then an ARM search in each."""
    return [SUBSCRIPTIONS_READ, *vault_search_reads(cluster, key, known)]


def key_read(vault_id: str, key: KeyUrl) -> Read:
    """The key version the cluster uses: the one its URL names, else the latest."""
    return Read(ReadKind.KEY, (vault_id, key.key_name, key.version or ""))


def newest_key_read(vault_id: str, key: KeyUrl) -> Read:
    """The key's newest version (the management-plane GET without a version returns the latest):
    where a versionless key URL would point the cluster."""
    return Read(ReadKind.KEY, (vault_id, key.key_name, ""))


def deleted_key_read(key: KeyUrl) -> Read:
    """The key among its vault's soft-deleted keys (data plane)."""
    return Read(ReadKind.DELETED_KEY, (key.vault_url, key.key_name))


def deleted_vault_reads(cluster: ClusterFacts, key: KeyUrl, ref: VaultRef | None, known: Known) -> list[Read]:
    """Where to look for the vault among deleted ones: the subscription where Resource Graph last
    saw it; else the same subscriptions as the ARM search (Resource Graph drops a deleted vault)."""
    if ref is not None:
        return [
            Read(
                ReadKind.DELETED_VAULT,
                (key.vault_name, ref.location or cluster.location, ref.subscription_id),
            )
        ]
    return [
        Read(ReadKind.DELETED_VAULT, (key.vault_name, cluster.location, sub))
        for sub in search_subscriptions(cluster, known)
    ]


def role_assignments_read(vault_id: str, principal_id: str) -> Read:
    """The role assignments that reach a principal at the vault's scope or above."""
    return Read(ReadKind.ROLE_ASSIGNMENTS, (vault_id, principal_id))


def role_definition_read(role_definition_id: str) -> Read:
    """One role definition, for a role the custom roles listed at the vault did not include."""
    return Read(ReadKind.ROLE_DEFINITION, (role_definition_id,))


def custom_roles_read(scope: str) -> Read:
    """Every custom role usable at a scope, in one list: N custom-role assignments cost one read,
    not N (role definitions are read by id only for a role the list leaves out)."""
    return Read(ReadKind.ROLE_DEFINITIONS, (scope,))


def role_guid(role_definition_id: str) -> str:
    """A role definition id's trailing GUID, lower-cased: the same role whatever scope prefixes it."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
