"""Frozen facts read from Azure, and the results the engine derives from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wizard.domain.status import CheckStatus as CheckStatus
from wizard.domain.status import Severity as Severity


@dataclass(frozen=True)
class AttachedIdentity:
    """A user-assigned identity as the CLUSTER remembers it (its principal may be stale)."""

    resource_id: str
    principal_id: str | None
    client_id: str | None


RUNNING_STATUSES = frozenset({"ready", "stopped", "starting", "stopping", "updating", "inaccessible"})
"""clusterStatus values of a cluster that came up: the spec's running members of MongoClusterStatus,
and the docs' `Inaccessible` (a running cluster that lost its key; not in the spec's enum)."""

NEVER_CAME_UP_STATUSES = frozenset({"failed", "provisioning", ""})
"""clusterStatus values that, with provisioningState Failed, mean provisioning never finished: the
docs' `Failed`, the spec's `Provisioning`, or none at all. Any other value (an unknown string of the
open enum included) is not taken for 'never came up': a delete is never offered on a guess.
UNVERIFIED: the clusterStatus a never-came-up CMK cluster really shows (the docs say Failed; a GET
of such a cluster would settle it)."""


def never_came_up(cluster_status: str | None, provisioning_state: str | None) -> bool:
    """Provisioning failed and the cluster never ran: the only cluster the wizard may offer to delete.

    `provisioningState` is the state of the LAST accepted operation, so Failed alone says only that
    an operation failed; a running cluster (Ready, Stopped, ...) whose update failed holds data."""
    failed = (provisioning_state or "").strip().lower() == "failed"
    return failed and (cluster_status or "").strip().lower() in NEVER_CAME_UP_STATUSES


def last_operation_failed(cluster_status: str | None, provisioning_state: str | None) -> bool:
    """provisioningState Failed on a cluster that came up (or whose status we cannot place): its last
    operation failed, the cluster itself may well be running and holding data."""
    failed = (provisioning_state or "").strip().lower() == "failed"
    return failed and not never_came_up(cluster_status, provisioning_state)


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

    @property
    def never_came_up(self) -> bool:
        """Provisioning failed and the cluster never ran (see `never_came_up`)."""
        return never_came_up(self.cluster_status, self.provisioning_state)

    @property
    def last_operation_failed(self) -> bool:
        """The last operation failed on a cluster that came up: it may hold data."""
        return last_operation_failed(self.cluster_status, self.provisioning_state)

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
class ResourceHealthFacts:
    """What Azure Resource Health says of the cluster now (`availabilityStatuses/current`).

    The service's own view of whether the cluster serves connections: the symptom's evidence when
    clusterStatus keeps saying Ready (the spec's MongoClusterStatus has no Inaccessible)."""

    availability_state: str
    """Available, Unavailable, Degraded or Unknown (an open string, compared case-insensitively)."""
    title: str = ""
    summary: str = ""
    reason_type: str | None = None
    detailed_status: str | None = None
    occurred_time: datetime | None = None
    """When the state last changed (the API's `occuredTime`)."""
    reported_time: datetime | None = None

    @property
    def available(self) -> bool:
        """Resource Health sees the cluster Available."""
        return self.availability_state.strip().lower() == "available"

    @property
    def down(self) -> bool:
        """Unavailable or Degraded: the service itself reports the cluster impaired."""
        return self.availability_state.strip().lower() in ("unavailable", "degraded")


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
