"""Frozen facts read from Azure, and the results the engine derives from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class AttachedIdentity:
    """A user-assigned identity as the CLUSTER remembers it (its principal may be stale)."""

    resource_id: str
    principal_id: str | None
    client_id: str | None


@dataclass(frozen=True)
class ClusterFacts:
    """What `mongo_clusters.get` told us about the cluster."""

    id: str
    name: str
    resource_group: str
    subscription_id: str
    location: str
    cluster_status: str
    provisioning_state: str
    key_url: str | None
    key_identity_id: str | None
    identity_type: str | None
    attached_identities: tuple[AttachedIdentity, ...] = ()
    replica_role: str | None = None

    @property
    def is_cmk(self) -> bool:
        """A cluster without a key URL uses service-managed keys."""
        return bool(self.key_url)

    def attached(self, identity_id: str) -> AttachedIdentity | None:
        """The cluster's own record of one identity, matched case-insensitively."""
        wanted = identity_id.lower()
        return next((a for a in self.attached_identities if a.resource_id.lower() == wanted), None)


@dataclass(frozen=True)
class ClusterSummary:
    """One row of the cluster picker: enough to choose, not to diagnose."""

    id: str
    name: str
    resource_group: str
    location: str
    cluster_status: str
    provisioning_state: str
    key_url: str | None


@dataclass(frozen=True)
class IdentityFacts:
    """What `user_assigned_identities.get` told us."""

    id: str
    name: str
    principal_id: str
    client_id: str
    tenant_id: str
    location: str


@dataclass(frozen=True)
class AccessPolicy:
    """One access-policy entry, with key permissions lower-cased."""

    tenant_id: str
    object_id: str
    key_permissions: frozenset[str]


@dataclass(frozen=True)
class VaultRef:
    """A vault located by name (Resource Graph): enough to address it."""

    id: str
    name: str
    resource_group: str
    subscription_id: str
    location: str


@dataclass(frozen=True)
class VaultFacts:
    """What `vaults.get` told us about the vault."""

    id: str
    name: str
    resource_group: str
    subscription_id: str
    location: str
    tenant_id: str
    vault_uri: str
    rbac_authorization: bool
    soft_delete: bool | None
    purge_protection: bool | None
    public_network_access: str | None
    network_default_action: str | None
    network_bypass: str | None
    ip_rules: tuple[str, ...] = ()
    virtual_network_rules: tuple[str, ...] = ()
    access_policies: tuple[AccessPolicy, ...] = ()
    sku: str | None = None


@dataclass(frozen=True)
class DeletedVaultFacts:
    """A soft-deleted vault, as `vaults.get_deleted` reports it."""

    name: str
    location: str
    vault_id: str
    deletion_date: datetime | None
    scheduled_purge_date: datetime | None
    purge_protection: bool | None
    group_exists: bool | None = None
    """Whether the resource group it would be recovered into exists (None: could not be read)."""


@dataclass(frozen=True)
class KeyFacts:
    """Key attributes, read through the management plane (the vault firewall does not hide them)."""

    name: str
    vault_name: str
    key_uri: str
    version: str | None
    enabled: bool | None
    not_before: datetime | None
    expires: datetime | None
    kty: str | None
    key_size: int | None
    key_ops: tuple[str, ...] = ()
    recovery_level: str | None = None


@dataclass(frozen=True)
class DeletedKeyFacts:
    """A soft-deleted key, as the data plane reports it."""

    name: str
    deleted_on: datetime | None
    scheduled_purge_date: datetime | None
    recovery_id: str | None


@dataclass(frozen=True)
class RoleAssignmentFacts:
    """A role assignment that applies to the identity at some scope."""

    id: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str | None

    @property
    def role_guid(self) -> str:
        """The role definition's GUID, the stable way to recognise a built-in role."""
        return self.role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class RoleDefinitionFacts:
    """A role definition's data actions, to judge custom roles."""

    id: str
    role_name: str
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...] = ()


class CheckStatus(StrEnum):
    """Where a check stands; `unknown` means the operator could not look."""

    PENDING = "pending"
    RUNNING = "running"
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"

    @property
    def done(self) -> bool:
        """Pending and running checks have not answered yet."""
        return self not in (CheckStatus.PENDING, CheckStatus.RUNNING)


class Severity(StrEnum):
    """`critical` explains Inaccessible or failed provisioning."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class CheckResult:
    """One node of the decision tree, answered (or not yet)."""

    id: str
    status: CheckStatus
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    duration_ms: int | None = None
    sources: tuple[str, ...] = ()
    needs: str = ""


@dataclass(frozen=True)
class Finding:
    """A named cause (or warning) with the evidence behind it."""

    code: str
    severity: Severity
    summary: str
    check_id: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediations: tuple[str, ...] = ()
    rank: int = 0


LOCK_SUFFIX = "/providers/microsoft.authorization/locks/"


@dataclass(frozen=True)
class ManagementLock:
    """A management lock at some scope: ReadOnly refuses every ARM write at or below it,
    CanNotDelete only deletes (role assignments included: they inherit their scope's locks)."""

    id: str
    name: str
    level: str

    @property
    def scope(self) -> str:
        """The scope the lock is on: its id before `/providers/Microsoft.Authorization/locks/`."""
        cut = self.id.lower().rfind(LOCK_SUFFIX)
        return self.id[:cut] if cut >= 0 else self.id

    def covers(self, resource_id: str) -> bool:
        """True when the lock is on `resource_id` itself or one of its ancestors."""
        outer, inner = self.scope.lower().rstrip("/"), resource_id.lower().rstrip("/")
        return inner == outer or inner.startswith(outer + "/")

    def refuses(self, *, deleting: bool) -> bool:
        """ReadOnly refuses every write; CanNotDelete only a delete."""
        return self.level.lower() == "readonly" or deleting


@dataclass(frozen=True)
class LockReading:
    """The locks read at and above one resource, and the levels that could not be read (why)."""

    locks: tuple[ManagementLock, ...]
    unread: tuple[str, ...] = ()
