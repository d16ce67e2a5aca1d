"""An in-memory AzureReader over our own dataclasses: the pure engine's test double (no SDK)."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack

from wizard.domain.errors import Forbidden, GatewayError, NotFound
from wizard.domain.models import (
    AccessPolicy,
    AttachedIdentity,
    ClusterFacts,
    ClusterSummary,
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
from wizard.domain.ports import Operator

SUB = "00000000-0000-0000-0000-00000000aaaa"
TENANT = "00000000-0000-0000-0000-00000000bbbb"
RG = "rg-cmk"
CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.DocumentDB/mongoClusters/c1"
IDENTITY_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
)
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv1"
PRINCIPAL = "11111111-1111-1111-1111-111111111111"
NOW = datetime.now(UTC)
ROLE = "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def role_id(guid: str) -> str:
    """A full role definition ID for a GUID."""
    return ROLE.format(sub=SUB, guid=guid)


@dataclass
class FakeEstate:
    """A healthy CMK estate; tests change one field to break it."""

    cluster: ClusterFacts | None = field(
        default_factory=lambda: ClusterFacts(
            id=CLUSTER_ID,
            name="c1",
            resource_group=RG,
            subscription_id=SUB,
            location="westus2",
            cluster_status="Ready",
            provisioning_state="Succeeded",
            key_url="https://kv1.vault.azure.net/keys/cmk",
            key_identity_id=IDENTITY_ID,
            identity_type="UserAssigned",
            attached_identities=(AttachedIdentity(IDENTITY_ID, PRINCIPAL, "client-1"),),
        )
    )
    identity: IdentityFacts | None = field(
        default_factory=lambda: IdentityFacts(IDENTITY_ID, "id1", PRINCIPAL, "client-1", TENANT, "westus2")
    )
    vault: VaultFacts | None = field(
        default_factory=lambda: VaultFacts(
            id=VAULT_ID,
            name="kv1",
            resource_group=RG,
            subscription_id=SUB,
            location="westus2",
            tenant_id=TENANT,
            vault_uri="https://kv1.vault.azure.net/",
            rbac_authorization=True,
            soft_delete=True,
            purge_protection=True,
            public_network_access="Enabled",
            network_default_action=None,
            network_bypass=None,
        )
    )
    deleted_vault: DeletedVaultFacts | None = None
    subscriptions: tuple[str, ...] = (SUB,)
    """What Resource Graph shows; the deleted vault, if any, is in the last one."""
    unlistable: frozenset[str] = frozenset()
    """Subscriptions whose deleted vaults the operator may not list."""
    key: KeyFacts | None = field(
        default_factory=lambda: KeyFacts(
            name="cmk",
            vault_name="kv1",
            key_uri="https://kv1.vault.azure.net/keys/cmk",
            version="v1",
            enabled=True,
            not_before=None,
            expires=NOW + timedelta(days=365),
            kty="RSA",
            key_size=3072,
        )
    )
    deleted_key: DeletedKeyFacts | None = None
    key_versions: dict[str, KeyFacts] = field(default_factory=dict)
    graph_lags: bool = False
    graph_misses: bool = False
    assignments: list[RoleAssignmentFacts] = field(
        default_factory=lambda: [
            RoleAssignmentFacts(
                id="ra1",
                scope=VAULT_ID,
                role_definition_id=role_id("e147488a-f6f5-4113-8e2d-b22465e65bf6"),
                principal_id=PRINCIPAL,
                principal_type="ServicePrincipal",
            )
        ]
    )
    role_definitions: dict[str, RoleDefinitionFacts] = field(default_factory=dict)
    unlisted_roles: frozenset[str] = frozenset()
    """Role ids the custom-role list leaves out (a role assignable only below the vault, a built-in)."""
    resource_health: ResourceHealthFacts | None = None
    """What Resource Health says; None: Unavailable while the cluster is Inaccessible, else Available."""
    errors: dict[str, GatewayError] = field(default_factory=dict)

    def replace(self, **changes: Unpack[EstateChanges]) -> FakeEstate:
        """A copy with some facts changed."""
        return dataclasses.replace(self, **changes)


class EstateChanges(TypedDict, total=False):
    """The facts `FakeEstate.replace` may change: its fields, each with the field's own type."""

    cluster: ClusterFacts | None
    identity: IdentityFacts | None
    vault: VaultFacts | None
    deleted_vault: DeletedVaultFacts | None
    subscriptions: tuple[str, ...]
    unlistable: frozenset[str]
    key: KeyFacts | None
    deleted_key: DeletedKeyFacts | None
    key_versions: dict[str, KeyFacts]
    graph_lags: bool
    graph_misses: bool
    assignments: list[RoleAssignmentFacts]
    role_definitions: dict[str, RoleDefinitionFacts]
    unlisted_roles: frozenset[str]
    resource_health: ResourceHealthFacts | None
    errors: dict[str, GatewayError]


class FakeReader:
    """Answers the engine's reads from a FakeEstate and counts calls (thread-safe)."""

    def __init__(self, estate: FakeEstate) -> None:
        self.estate = estate
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def _enter(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)
        if name in self.estate.errors:
            raise self.estate.errors[name]

    def operator(self) -> Operator:
        return Operator("test", TENANT, "tester")

    def list_cmk_clusters(self) -> list[ClusterSummary]:
        self._enter("list_cmk_clusters")
        return []

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        self._enter("get_cluster")
        if self.estate.cluster is None:
            raise NotFound("cluster not found", status=404)
        return self.estate.cluster

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        self._enter("get_resource_health")
        if self.estate.resource_health is not None:
            return self.estate.resource_health
        cluster = self.estate.cluster
        down = cluster is not None and cluster.cluster_status.lower() == "inaccessible"
        state = "Unavailable" if down else "Available"
        return ResourceHealthFacts(state, occurred_time=NOW - timedelta(hours=1))

    def get_identity(self, identity_id: str) -> IdentityFacts:
        self._enter("get_identity")
        if self.estate.identity is None:
            raise NotFound("identity not found", status=404)
        return self.estate.identity

    def find_vault(self, vault_name: str) -> VaultRef | None:
        self._enter("find_vault")
        if self.estate.graph_lags:
            return VaultRef(VAULT_ID, "kv1", RG, SUB, "westus2")
        if self.estate.graph_misses:
            return None
        v = self.estate.vault
        return VaultRef(v.id, v.name, v.resource_group, v.subscription_id, v.location) if v else None

    def search_vault(self, vault_name: str, subscription_id: str) -> VaultRef | None:
        self._enter("search_vault")
        v = self.estate.vault
        if v is None or subscription_id.lower() != v.subscription_id.lower():
            return None
        return VaultRef(v.id, v.name, v.resource_group, v.subscription_id, v.location)

    def get_vault(self, vault_id: str) -> VaultFacts:
        self._enter("get_vault")
        if self.estate.vault is None:
            raise NotFound("vault not found", status=404)
        return self.estate.vault

    def list_subscriptions(self) -> list[str]:
        self._enter("list_subscriptions")
        return list(self.estate.subscriptions)

    def get_deleted_vault(self, vault_name: str, location: str, subscription_id: str) -> DeletedVaultFacts:
        self._enter("get_deleted_vault")
        if subscription_id in self.estate.unlistable:
            raise Forbidden("AuthorizationFailed", needs=f"deletedVaults/read on {subscription_id}")
        if self.estate.deleted_vault is None or subscription_id != self.estate.subscriptions[-1]:
            raise NotFound("no deleted vault", status=404)
        return self.estate.deleted_vault

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        self._enter("get_key")
        if version and version in self.estate.key_versions:
            return self.estate.key_versions[version]
        if version and (self.estate.key is None or self.estate.key.version != version):
            raise NotFound("key version not found", status=404)
        if self.estate.key is None:
            raise NotFound("key not found", status=404)
        return self.estate.key

    def get_deleted_key(self, vault_url: str, key_name: str) -> DeletedKeyFacts:
        self._enter("get_deleted_key")
        if self.estate.deleted_key is None:
            raise NotFound("no deleted key", status=404)
        return self.estate.deleted_key

    def list_role_assignments(self, vault_id: str, principal_id: str) -> list[RoleAssignmentFacts]:
        self._enter("list_role_assignments")
        # assignedTo() also returns the assignments of groups the principal belongs to
        return [
            a
            for a in self.estate.assignments
            if a.principal_id == principal_id or a.principal_type == "Group"
        ]

    def get_role_definition(self, role_definition_id: str) -> RoleDefinitionFacts:
        self._enter("get_role_definition")
        if role_definition_id not in self.estate.role_definitions:
            raise NotFound("no role", status=404)
        return self.estate.role_definitions[role_definition_id]

    def list_custom_roles(self, scope: str) -> list[RoleDefinitionFacts]:
        self._enter("list_custom_roles")
        return [r for r in self.estate.role_definitions.values() if r.id not in self.estate.unlisted_roles]


def policy(object_id: str, *perms: str) -> AccessPolicy:
    """An access-policy entry with these key permissions."""
    return AccessPolicy(TENANT, object_id, frozenset(p.lower() for p in perms))
