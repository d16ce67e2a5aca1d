"""The emulator's mutable state: plain dataclasses that trainers and tests may change under the lock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from wizard.emulator.graph_quota import GraphQuota

_M = TypeVar("_M")
SECONDS_PER_DAY = 86_400
HIDE_SUBSCRIPTION = "hide-subscription:"
GROUP_ROLES_ONLY = "group-roles-only:"
"""The operator holds only resource-group roles there: ARM lists the subscription, Resource Graph's
`resourcecontainers` does not (UNVERIFIED), its resources still show."""
STATUS_MODES = ("documented", "arm-enum")
"""How clusterStatus shows lost key access: `Inaccessible` (the docs' word) or unchanged (the spec enum)."""


def operator_oid(tenant_id: str) -> str:
    """The operator's object id, stable per tenant (errors and role assignments name it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"operator|{tenant_id}"))


def rid(subscription_id: str, resource_group: str, provider_type: str, name: str) -> str:
    """An ARM id in the spelling Azure returns, so clients parse it as they do live."""
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{provider_type}/{name}"
    )


@dataclass
class KeyVersion:
    """One version of a key: the attributes the health rule and the SDK read."""

    version: str
    enabled: bool = True
    not_before: int | None = None
    expires: int | None = None
    created: int = 0
    updated: int = 0
    key_ops: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Key:
    """A key with its versions (oldest first); `deleted_on` set means soft-deleted.

    `settles_at`: until then the data plane has not caught up with the last delete or recover
    (see `State.key_lag_seconds`).
    """

    name: str
    kty: str
    size: int
    modulus: str
    versions: list[KeyVersion]
    deleted_on: int | None = None
    scheduled_purge: int | None = None
    curve: str | None = None
    settles_at: float = 0.0

    @property
    def latest(self) -> KeyVersion:
        """The current version, the one a versionless URL means."""
        return self.versions[-1]

    def version(self, version: str | None) -> KeyVersion | None:
        """A version by id (case-insensitive), or the latest for None/empty."""
        if not version:
            return self.latest
        return next((v for v in self.versions if v.version.lower() == version.lower()), None)


@dataclass
class AccessPolicy:
    """One access-policy entry of a vault (permissions kept as given, compared case-insensitively)."""

    tenant_id: str
    object_id: str
    keys: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    storage: list[str] = field(default_factory=list)
    effective_at: float = field(default=0.0, compare=False, kw_only=True)
    """When the service starts honouring it (`State.grant_propagation_seconds` after the write)."""


@dataclass
class NetworkAcls:
    """The vault firewall: ARM replaces it as a whole on PATCH."""

    default_action: str = "Allow"
    bypass: str = "AzureServices"
    ip_rules: list[str] = field(default_factory=list)
    virtual_network_rules: list[str] = field(default_factory=list)


@dataclass
class Vault:
    """A vault, live or soft-deleted (then `deleted_on` is set and it keeps its content for recovery).

    `registering` is the operation of a vault just created, until its DNS name is registered.
    """

    name: str
    subscription_id: str
    resource_group: str
    location: str
    tenant_id: str
    rbac: bool = True
    soft_delete: bool = True
    retention_days: int = 90
    purge_protection: bool = True
    public_network_access: str = "Enabled"
    network_acls: NetworkAcls | None = None
    access_policies: list[AccessPolicy] = field(default_factory=list)
    sku: str = "standard"
    keys: dict[str, Key] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    created: int = 0
    deleted_on: int | None = None
    registering: str | None = None
    data_plane_from: float = 0.0
    """After a recovery: the data plane answers only from then on (`State.vault_recover_lag_seconds`)."""

    @property
    def id(self) -> str:
        """The vault's ARM id."""
        return rid(self.subscription_id, self.resource_group, "Microsoft.KeyVault/vaults", self.name)

    @property
    def uri(self) -> str:
        """The real-looking vault URI that ARM fields carry (lower-case, trailing slash, as GET shows it)."""
        return f"https://{self.name.lower()}.vault.azure.net/"

    @property
    def recovery_level(self) -> str:
        """The keys' recoveryLevel: `Customized` below 90 days, `+Purgeable` without purge protection."""
        if not self.soft_delete:
            return "Purgeable"
        level = "CustomizedRecoverable" if self.retention_days < 90 else "Recoverable"
        return level if self.purge_protection else level + "+Purgeable"

    @property
    def live(self) -> bool:
        """Not soft-deleted."""
        return self.deleted_on is None

    def key(self, name: str) -> Key | None:
        """A key by name, case-insensitively (Key Vault names are)."""
        return next((k for k in self.keys.values() if k.name.lower() == name.lower()), None)


@dataclass
class Identity:
    """A user-assigned managed identity and its current service principal."""

    name: str
    subscription_id: str
    resource_group: str
    location: str
    tenant_id: str
    principal_id: str
    client_id: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The identity's ARM id."""
        return rid(
            self.subscription_id,
            self.resource_group,
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            self.name,
        )


@dataclass
class Attached:
    """An identity in a cluster's list, with the principal the CLUSTER remembers for it."""

    identity_id: str
    principal_id: str
    client_id: str


@dataclass
class Cluster:
    """A mongoCluster; `able_since` is when it last became able to use its key (None: unable).

    `provisioning_state` is the state of the LAST operation; `came_up` tells a cluster that never
    came up (created, then failed) from a running one whose last update failed. `inaccessible` is
    the service's own view (it lags the health rule by the revalidation delay), and
    `availability_since` is when that view last changed (Resource Health's occuredTime).
    """

    name: str
    subscription_id: str
    resource_group: str
    location: str
    provisioning_state: str = "Succeeded"
    status: str = "Ready"
    came_up: bool = True
    stopped: bool = False
    """The operator stopped the running cluster: it stays Stopped and is not revalidated until started."""
    inaccessible: bool = False
    availability_since: float = 0.0
    identities: list[Attached] = field(default_factory=list)
    identity_type: str = "UserAssigned"
    key_url: str | None = None
    key_identity_id: str | None = None
    replica_role: str = "Primary"
    tags: dict[str, str] = field(default_factory=dict)
    created: int = 0
    able_since: float | None = float("-inf")
    transition: tuple[str, str] | None = None
    """(provisioningState, clusterStatus) the service shows while an operation on the cluster runs."""

    @property
    def id(self) -> str:
        """The cluster's ARM id."""
        return rid(self.subscription_id, self.resource_group, "Microsoft.DocumentDB/mongoClusters", self.name)

    @property
    def never_came_up(self) -> bool:
        """Provisioning failed and the cluster never ran (not a running cluster whose update failed)."""
        return self.provisioning_state.lower() == "failed" and not self.came_up

    def attached(self, identity_id: str) -> Attached | None:
        """The cluster's entry for an identity id (ARM ids compare case-insensitively)."""
        return next((a for a in self.identities if a.identity_id.lower() == identity_id.lower()), None)


@dataclass
class RoleAssignment:
    """An RBAC role assignment at some scope."""

    name: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str = "ServicePrincipal"
    created: int = 0
    description: str | None = None
    creator: str | None = None
    effective_at: float = 0.0
    """When the service starts honouring it (`State.grant_propagation_seconds` after the PUT)."""

    @property
    def id(self) -> str:
        """The assignment's ARM id under its scope."""
        return f"{self.scope}/providers/Microsoft.Authorization/roleAssignments/{self.name}"


LOCK_LEVELS = ("ReadOnly", "CanNotDelete")


def covers(scope: str, path: str) -> bool:
    """Whether an ARM scope is `path` itself or one of its ancestors (ids compare case-insensitively)."""
    outer, inner = scope.lower().rstrip("/"), path.lower().rstrip("/")
    return inner == outer or inner.startswith(outer + "/")


@dataclass
class Lock:
    """A management lock: ReadOnly refuses every ARM write at or below `scope`, CanNotDelete only deletes."""

    name: str
    scope: str
    level: str

    @property
    def id(self) -> str:
        """The lock's ARM id under its scope."""
        return f"{self.scope}/providers/Microsoft.Authorization/locks/{self.name}"

    def refuses(self, method: str) -> bool:
        """ReadOnly refuses every write; CanNotDelete only DELETE."""
        return self.level == "ReadOnly" or method.upper() == "DELETE"


@dataclass
class RoleDefinition:
    """A role: built-in (real Key Vault data actions) or a custom one from the estate."""

    guid: str
    role_name: str
    description: str
    data_actions: list[str] = field(default_factory=list)
    not_data_actions: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    not_actions: list[str] = field(default_factory=list)
    role_type: str = "BuiltInRole"


@dataclass
class ActivityRecord:
    """One Activity Log event: from the estate's `history`, or a write the emulator answered."""

    time: float
    operation: str
    resource_id: str
    status: str = "Succeeded"
    caller: str = "operator@emulator.local"
    correlation_id: str = ""


@dataclass
class State:
    """Everything the emulator knows; mutate only through `Emulator.mutate` (it holds the lock)."""

    name: str
    tenant_id: str
    subscription_id: str
    clusters: list[Cluster] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)
    deleted_groups: set[tuple[str, str]] = field(default_factory=set)
    group_locations: dict[tuple[str, str], str] = field(default_factory=dict)
    """(subscription, group), lower-cased: deleted groups (a soft-deleted vault may still name one)."""
    vaults: list[Vault] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    custom_roles: list[RoleDefinition] = field(default_factory=list)
    locks: list[Lock] = field(default_factory=list)
    restrictions: set[str] = field(default_factory=set)
    description: str = ""
    subscriptions: list[str] = field(default_factory=list)
    status_mode: str = "documented"
    operator_ip: str | None = None
    operator_private_endpoint: bool = False
    graph_quota: GraphQuota = field(default_factory=GraphQuota)
    """Resource Graph's per-user query window (headers always; 429s only when enforced)."""
    management_groups: dict[str, list[str]] = field(default_factory=dict)
    """Management group name to the subscriptions under it (Resource Graph's `managementGroups` scope)."""
    activity: list[ActivityRecord] = field(default_factory=list)
    """The Activity Log, oldest first (management-plane writes only, as Azure's)."""
    memo: dict[str, object] | None = field(default=None, repr=False, compare=False)
    """Lookups kept while only reads are answered (None: compute afresh); the dispatcher turns it on
    for a read and off for a write, so a fleet's every GET does not walk every resource."""

    def _memo(self, name: str, build: Callable[[], _M]) -> _M:
        if self.memo is None:
            return build()
        if name not in self.memo:
            self.memo[name] = build()
        return self.memo[name]  # type: ignore[return-value]

    def memoised(self, name: str, build: Callable[[], _M]) -> _M:
        """`build()`, kept while only reads are answered (an index other modules make of the state)."""
        return self._memo(name, build)

    def assignments_of(self, principal_id: str) -> list[RoleAssignment]:
        """The principal's role assignments (indexed while only reads are answered)."""
        pid = principal_id.lower()
        if self.memo is None:
            return [a for a in self.role_assignments if a.principal_id.lower() == pid]
        index = self._memo("assignments", self._assignments_by_principal)
        return index.get(pid, [])

    def _assignments_by_principal(self) -> dict[str, list[RoleAssignment]]:
        index: dict[str, list[RoleAssignment]] = {}
        for assignment in self.role_assignments:
            index.setdefault(assignment.principal_id.lower(), []).append(assignment)
        return index

    page_sizes: dict[str, int] = field(default_factory=dict)
    """Items per page of an ARM list, by list (wizard.emulator.arm.paging), where the estate sets one."""
    operation_seconds: float = 0.0
    """ARM operations run this long by the clock (0: InProgress on the first poll, done on the next)."""
    key_lag_seconds: float = 0.0
    """The data plane's lag after a key delete or recover (0: none; recorded: a few seconds)."""
    grant_propagation_seconds: float = 0.0
    """How long a new role assignment or access policy takes to be honoured (0: at once)."""
    vault_recover_lag_seconds: float = 0.0
    """How long a recovered vault's data plane keeps answering as if it were gone (0: not at all)."""

    def known_subscriptions(self) -> list[str]:
        """The estate's subscriptions, sorted: one stays when its last resource goes, as in Azure."""
        return self._memo("subscriptions", self._known_subscriptions)

    def _known_subscriptions(self) -> list[str]:
        found: dict[str, str] = {}
        for sub in (self.subscription_id, *self.subscriptions, *(s for s, _ in self.placements())):
            found.setdefault(sub.lower(), sub)
        return sorted(found.values(), key=str.lower)

    def subscription(self, sub: str) -> str | None:
        """The estate's spelling of a subscription id, or None if the estate has no such subscription."""
        return next((s for s in self.known_subscriptions() if s.lower() == sub.lower()), None)

    def resource_groups(self, sub: str) -> set[str]:
        """The (lower-cased) resource groups some resource of that subscription lives in."""
        groups = self._memo("groups", self._groups_by_subscription)
        return groups.get(sub.lower(), set())

    def _groups_by_subscription(self) -> dict[str, set[str]]:
        groups: dict[str, set[str]] = {}
        for owner, group in self.placements():
            if (owner.lower(), group.lower()) not in self.deleted_groups:
                groups.setdefault(owner.lower(), set()).add(group.lower())
        return groups

    def placements(self) -> list[tuple[str, str]]:
        """(subscription, resource group) of every cluster, identity and vault, and the empty groups."""
        return [
            *self.groups,
            *((c.subscription_id, c.resource_group) for c in self.clusters),
            *((i.subscription_id, i.resource_group) for i in self.identities),
            *((v.subscription_id, v.resource_group) for v in self.vaults),
        ]

    def group_roles_only(self) -> set[str]:
        """The (lower-cased) subscriptions where a `group-roles-only:<guid>` restriction gives the
        operator resource-group roles only."""
        prefix = GROUP_ROLES_ONLY
        return {r[len(prefix) :].lower() for r in self.restrictions if r.startswith(prefix)}

    def hidden_subscriptions(self) -> set[str]:
        """The (lower-cased) subscriptions a `hide-subscription:<guid>` restriction keeps out of sight."""
        prefix = HIDE_SUBSCRIPTION
        return {r[len(prefix) :].lower() for r in self.restrictions if r.startswith(prefix)}

    def cluster(self, cluster_id: str) -> Cluster | None:
        """A cluster by ARM id."""
        if self.memo is not None:
            index = self._memo("clusters", lambda: {c.id.lower(): c for c in self.clusters})
            return index.get(cluster_id.lower())
        return next((c for c in self.clusters if c.id.lower() == cluster_id.lower()), None)

    def identity(self, identity_id: str) -> Identity | None:
        """An identity by ARM id."""
        return next((i for i in self.identities if i.id.lower() == identity_id.lower()), None)

    def vault(self, name: str) -> Vault | None:
        """A vault by name, live or soft-deleted (vault names are global)."""
        return next((v for v in self.vaults if v.name.lower() == name.lower()), None)

    def live_vault(self, name: str) -> Vault | None:
        """A live vault by name."""
        vault = self.vault(name)
        return vault if vault is not None and vault.live else None

    def locks_over(self, path: str) -> list[Lock]:
        """The locks at or above an ARM path."""
        return [lock for lock in self.locks if covers(lock.scope, path)]

    def remove_lock(self, name_or_scope: str) -> list[Lock]:
        """Remove the locks with this name, id or scope (case-insensitive); KeyError if none matches."""
        wanted = name_or_scope.lower().rstrip("/")

        def chosen(lock: Lock) -> bool:
            return wanted in (lock.name.lower(), lock.id.lower(), lock.scope.lower())

        removed = [lock for lock in self.locks if chosen(lock)]
        if not removed:
            known = ", ".join(f"{lock.name} ({lock.scope})" for lock in self.locks) or "none"
            raise KeyError(f"no lock named or at {name_or_scope!r} (locks: {known})")
        self.locks = [lock for lock in self.locks if not chosen(lock)]
        return removed

    def _drop_locks_under(self, resource_id: str) -> None:
        """A deleted resource takes its locks (and those below it) with it, as ARM child resources go."""
        self.locks = [lock for lock in self.locks if not covers(resource_id, lock.scope)]

    def soft_delete_vault(self, name: str, now: int) -> None:
        """Soft-delete a vault as Key Vault does: RBAC assignments (and locks) at or below it are dropped."""
        vault = self.vault(name)
        if vault is None or not vault.live:
            raise KeyError(f"no live vault named {name!r}")
        vault.deleted_on = now
        prefix = vault.id.lower()
        self.role_assignments = [
            a
            for a in self.role_assignments
            if not (a.scope.lower() == prefix or a.scope.lower().startswith(prefix + "/"))
        ]
        self._drop_locks_under(vault.id)

    def purge_vault(self, name: str) -> None:
        """Remove a vault entirely (trainers only: the product never purges); its locks go with it."""
        for vault in [v for v in self.vaults if v.name.lower() == name.lower()]:
            self._drop_locks_under(vault.id)
        self.vaults = [v for v in self.vaults if v.name.lower() != name.lower()]

    def delete_identity(self, name: str) -> None:
        """Delete an identity: its role assignments stay behind, orphaned, as in Azure; its locks go."""
        for identity in [i for i in self.identities if i.name.lower() == name.lower()]:
            self._drop_locks_under(identity.id)
        self.identities = [i for i in self.identities if i.name.lower() != name.lower()]
