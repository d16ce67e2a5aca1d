"""What Azure answered, typed once: the cluster, its key URL, identity, vault, key and access.

The raw map of outcomes says 'read X returned Y'; `Facts` says 'the cluster's vault is V'. The
plan, the checks and the remediation planner read `Facts`, so the way from one to the other
(which read finds the vault, which key version the cluster uses) is written here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wizard.domain.access import key_permissions_of, scope_covers
from wizard.domain.errors import BadInput, Forbidden, NotFound
from wizard.domain.ids import KeyUrl, parse_key_url
from wizard.domain.models import (
    ClusterFacts,
    DeletedKeyFacts,
    DeletedVaultFacts,
    IdentityFacts,
    KeyFacts,
    ResourceHealthFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
    VaultRef,
)
from wizard.engine.reads import (
    Known,
    Outcome,
    answered_value,
    custom_roles_read,
    deleted_key_read,
    deleted_vault_reads,
    key_read,
    live_vault_searches,
    newest_key_read,
    resource_health_read,
    role_assignments_read,
    role_definition_read,
    role_guid,
    vault_lookup_read,
    vault_search_reads,
)
from wizard.engine.tree import Read, ReadKind


def key_url_of(cluster: ClusterFacts) -> KeyUrl | None:
    """The cluster's key URL parsed, or None when absent or malformed."""
    if not cluster.key_url:
        return None
    try:
        return parse_key_url(cluster.key_url)
    except BadInput:
        return None


def vault_ref_of(cluster: ClusterFacts, key: KeyUrl, known: Known) -> VaultRef | None:
    """The vault as found by Resource Graph, else by an ARM search."""
    for read in (vault_lookup_read(cluster, key), *vault_search_reads(cluster, key, known)):
        value = answered_value(known, read)
        if isinstance(value, VaultRef):
            return value
    return None


def deleted_vault_of(
    cluster: ClusterFacts, key: KeyUrl, ref: VaultRef | None, known: Known
) -> DeletedVaultFacts | None:
    """The soft-deleted vault, wherever it was found."""
    for read in deleted_vault_reads(cluster, key, ref, known):
        value = answered_value(known, read)
        if isinstance(value, DeletedVaultFacts):
            return value
    return None


T = TypeVar("T")


def _typed(value: Any, kind: type[T]) -> T | None:
    return value if isinstance(value, kind) else None


@dataclass(frozen=True)
class Facts:
    """One cluster's estate as far as Azure has answered; None (or empty) where it has not."""

    cluster_id: str
    known: Known = field(default_factory=dict, repr=False)
    cluster: ClusterFacts | None = None
    resource_health: ResourceHealthFacts | None = None
    """What Resource Health says of the cluster, once read (None while unread, forbidden or absent)."""
    key_url: KeyUrl | None = None
    identity: IdentityFacts | None = None
    vault_ref: VaultRef | None = None
    vault: VaultFacts | None = None
    deleted_vault: DeletedVaultFacts | None = None
    """The soft-deleted vault, looked for only while the vault is not live."""
    key: KeyFacts | None = None
    newest_key: KeyFacts | None = None
    """The key's newest version: the one a versionless URL means (the same as `key` when the URL
    has no version)."""
    deleted_key: DeletedKeyFacts | None = None
    role_assignments: Mapping[str, tuple[RoleAssignmentFacts, ...]] = field(default_factory=dict)
    """At the located vault, by the principal id they were listed for."""
    role_definitions: Mapping[str, RoleDefinitionFacts] = field(default_factory=dict)
    """By the role's GUID (lower-cased), whether read by id or listed among the custom roles."""

    def role_definition(self, role_definition_id: str) -> RoleDefinitionFacts | None:
        """The role's definition, if it was read or listed."""
        return self.role_definitions.get(role_guid(role_definition_id))

    @property
    def custom_roles_read(self) -> Read | None:
        """The one list of custom roles at the located vault."""
        return custom_roles_read(self.vault_ref.id) if self.vault_ref else None

    def role_reads(self, role_definition_id: str) -> list[Read]:
        """The reads that settle one role's definition: the custom-role list, then a read by id only
        when the list could not be read or left the role out."""
        listing = self.custom_roles_read
        if listing is None:
            return [role_definition_read(role_definition_id)]
        listed = self.outcome(listing)
        if listed is None or (listed.error is None and self.role_definition(role_definition_id)):
            return [listing]
        return [listing, role_definition_read(role_definition_id)]

    @classmethod
    def from_known(cls, cluster_id: str, known: Known) -> Facts:
        """Type and locate everything `known` holds for this cluster."""
        cluster = _typed(answered_value(known, Read(ReadKind.CLUSTER, (cluster_id,))), ClusterFacts)
        if cluster is None:
            return cls(cluster_id, known)
        health = _typed(answered_value(known, resource_health_read(cluster_id)), ResourceHealthFacts)
        key_url = key_url_of(cluster)
        identity = None
        if cluster.key_identity_id:
            identity_read = Read(ReadKind.IDENTITY, (cluster.key_identity_id,))
            identity = _typed(answered_value(known, identity_read), IdentityFacts)
        if key_url is None:
            return cls(cluster_id, known, cluster, health, key_url, identity)
        ref = vault_ref_of(cluster, key_url, known)
        vault = key = newest = None
        if ref is not None:
            vault = _typed(answered_value(known, Read(ReadKind.VAULT, (ref.id,))), VaultFacts)
            key = _typed(answered_value(known, key_read(ref.id, key_url)), KeyFacts)
            newest = _typed(answered_value(known, newest_key_read(ref.id, key_url)), KeyFacts)
        return cls(
            cluster_id,
            known,
            cluster,
            health,
            key_url,
            identity,
            ref,
            vault,
            deleted_vault=None if vault else deleted_vault_of(cluster, key_url, ref, known),
            key=key,
            newest_key=newest,
            deleted_key=_typed(answered_value(known, deleted_key_read(key_url)), DeletedKeyFacts),
            role_assignments=_assignments_at(ref, known),
            role_definitions=_role_definitions(known),
        )

    # Where each fact is read from (None when what it hangs on is not known yet).

    @property
    def cluster_read(self) -> Read:
        """The cluster itself: every other read hangs under it."""
        return Read(ReadKind.CLUSTER, (self.cluster_id,))

    @property
    def resource_health_read(self) -> Read | None:
        """Resource Health's view of the cluster (asked once the cluster is known to use a CMK)."""
        return resource_health_read(self.cluster_id) if self.cluster and self.cluster.is_cmk else None

    @property
    def identity_read(self) -> Read | None:
        """The user-assigned identity the cluster names for its key."""
        if not self.cluster or not self.cluster.key_identity_id:
            return None
        return Read(ReadKind.IDENTITY, (self.cluster.key_identity_id,))

    @property
    def vault_lookup_read(self) -> Read | None:
        """The Resource Graph lookup of the key's vault by name."""
        return vault_lookup_read(self.cluster, self.key_url) if self.cluster and self.key_url else None

    @property
    def vault_search_reads(self) -> list[Read]:
        """An ARM search for the vault in each subscription in sight: Resource Graph can lag."""
        if not self.cluster or not self.key_url:
            return []
        return vault_search_reads(self.cluster, self.key_url, self.known)

    @property
    def live_vault_searches(self) -> list[Read]:
        """The subscription list, then an ARM search in each: for a vault Resource Graph missed."""
        if not self.cluster or not self.key_url:
            return []
        return live_vault_searches(self.cluster, self.key_url, self.known)

    @property
    def vault_read(self) -> Read | None:
        """The located vault's properties."""
        return Read(ReadKind.VAULT, (self.vault_ref.id,)) if self.vault_ref else None

    @property
    def key_read(self) -> Read | None:
        """The key version the cluster uses, in the located vault (management plane)."""
        return key_read(self.vault_ref.id, self.key_url) if self.vault_ref and self.key_url else None

    @property
    def newest_key_read(self) -> Read | None:
        """The key's newest version in the located vault (the same read as `key_read` when the
        cluster's URL has no version)."""
        return newest_key_read(self.vault_ref.id, self.key_url) if self.vault_ref and self.key_url else None

    @property
    def deleted_key_read(self) -> Read | None:
        """The key among its vault's soft-deleted keys."""
        return deleted_key_read(self.key_url) if self.key_url else None

    @property
    def deleted_vault_reads(self) -> list[Read]:
        """Where the vault is looked for among deleted ones."""
        if not self.cluster or not self.key_url:
            return []
        return deleted_vault_reads(self.cluster, self.key_url, self.vault_ref, self.known)

    def role_assignments_read(self, principal_id: str) -> Read | None:
        """The role assignments that reach `principal_id` at the located vault."""
        return role_assignments_read(self.vault_ref.id, principal_id) if self.vault_ref else None

    # The raw answers, for what the typed fields leave out.

    def outcome(self, read: Read | None) -> Outcome | None:
        """What `read` returned, or None while it is unanswered."""
        return self.known.get(read) if read else None

    def value(self, read: Read | None) -> Any:
        """What `read` returned; None while unanswered or when it failed."""
        return answered_value(self.known, read) if read else None

    def forbidden(self, read: Read | None) -> str:
        """The permission the operator lacked reading this target, if they lacked one."""
        outcome = self.outcome(read)
        error = outcome.error if outcome else None
        return error.needs or str(error) if isinstance(error, Forbidden) else ""

    # What the answers mean together.

    @property
    def vault_id(self) -> str:
        """The vault's id from what was read: the vault, its lookup, or its deleted record ("" if none)."""
        if self.vault:
            return self.vault.id
        if self.vault_ref:
            return self.vault_ref.id
        return self.deleted_vault.vault_id if self.deleted_vault else ""

    @property
    def remembered_principal(self) -> str | None:
        """The principal the cluster recorded for its key identity when it was attached."""
        if not self.cluster or not self.cluster.key_identity_id:
            return None
        remembered = self.cluster.attached(self.cluster.key_identity_id)
        return remembered.principal_id if remembered else None

    @property
    def identity_deleted(self) -> bool:
        """The identity read answered 404."""
        outcome = self.outcome(self.identity_read)
        return outcome is not None and isinstance(outcome.error, NotFound)

    @property
    def identity_unreadable(self) -> bool:
        """The identity read failed for a reason other than 'it does not exist'."""
        outcome = self.outcome(self.identity_read)
        return outcome is not None and outcome.error is not None and not isinstance(outcome.error, NotFound)

    @property
    def identity_recreated(self) -> bool:
        """The identity answers with another principal than the one the cluster remembers."""
        remembered = self.remembered_principal
        return bool(self.identity and remembered and self.identity.principal_id.lower() != remembered.lower())

    @property
    def access_principal(self) -> str | None:
        """The principal whose access matters: the identity's current one, else the remembered one."""
        if not self.cluster or not self.cluster.key_identity_id:
            return None
        outcome = self.outcome(self.identity_read)
        if outcome is not None and isinstance(outcome.value, IdentityFacts):
            return outcome.value.principal_id
        if outcome is not None and isinstance(outcome.error, NotFound):
            return None
        return self.remembered_principal

    def principal_key_permissions(self, principal_id: str) -> frozenset[str]:
        """The key permissions the vault's access policies grant `principal_id`, as the vault lists them."""
        if self.vault is None:
            return frozenset()
        return frozenset(key_permissions_of(self.vault, principal_id))

    def assignments_covering_key(self, principal_id: str) -> list[RoleAssignmentFacts] | None:
        """Assignments that reach this principal (directly, or through a group: `assignedTo` returns
        those) at a scope that covers the key: management group, subscription, group, vault, key.
        None until the assignments have been listed."""
        assignments = self.role_assignments.get(principal_id)
        if assignments is None or self.vault_ref is None or self.key_url is None:
            return None
        key_scope = f"{self.vault_ref.id}/keys/{self.key_url.key_name}"
        return [
            a
            for a in assignments
            if (a.principal_id.lower() == principal_id.lower() or (a.principal_type or "") == "Group")
            and scope_covers(a.scope, key_scope)
        ]

    def template_values(self) -> dict[str, Any]:
        """Values every finding's template may use."""
        c = self.cluster
        values: dict[str, Any] = {"cluster_id": self.cluster_id}
        if c:
            values.update(
                cluster_name=c.name,
                cluster_status=c.cluster_status,
                provisioning_state=c.provisioning_state,
                key_url=c.key_url,
                identity_id=c.key_identity_id,
                location=c.location,
                cluster_location=c.location,
                resource_group=c.resource_group,
                subscription_id=c.subscription_id,
                identity_name=(c.key_identity_id or "").rsplit("/", 1)[-1],
            )
        if self.key_url:
            values.update(
                vault_name=self.key_url.vault_name,
                key_name=self.key_url.key_name,
                vault_url=self.key_url.vault_url,
            )
        if self.vault:
            values.update(
                vault_id=self.vault.id, vault_location=self.vault.location, vault_tenant=self.vault.tenant_id
            )
        return values


def _assignments_at(ref: VaultRef | None, known: Known) -> dict[str, tuple[RoleAssignmentFacts, ...]]:
    """The role assignments listed at the located vault, by the principal they were listed for."""
    if ref is None:
        return {}
    return {
        read.args[1]: tuple(outcome.value)
        for read, outcome in known.items()
        if read.kind == ReadKind.ROLE_ASSIGNMENTS
        and read.args[0] == ref.id
        and outcome.error is None
        and isinstance(outcome.value, list)
    }


def _role_definitions(known: Known) -> dict[str, RoleDefinitionFacts]:
    found: dict[str, RoleDefinitionFacts] = {}
    for read, outcome in known.items():
        if outcome.error is not None:
            continue
        if read.kind == ReadKind.ROLE_DEFINITIONS and isinstance(outcome.value, list):
            found.update({role_guid(r.id): r for r in outcome.value if isinstance(r, RoleDefinitionFacts)})
    for read, outcome in known.items():
        if (
            read.kind == ReadKind.ROLE_DEFINITION
            and outcome.error is None
            and isinstance(outcome.value, RoleDefinitionFacts)
        ):
            found[role_guid(read.args[0])] = outcome.value
    return found
