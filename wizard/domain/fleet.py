"""The fleet scan's values: what Resource Graph and the key reads returned, and what they mean per cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wizard.domain.errors import GatewayError
from wizard.domain.models import (
    ClusterFacts,
    DeletedVaultFacts,
    Finding,
    IdentityFacts,
    KeyFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
)


@dataclass(frozen=True)
class FleetScope:
    """Where to look: the subscriptions asked for (none: every one in sight), or a management group."""

    subscriptions: tuple[str, ...] = ()
    management_group: str | None = None

    def describe(self) -> str:
        """The scope in words, for the report's first line."""
        if self.management_group:
            return f"management group {self.management_group}"
        if self.subscriptions:
            count = len(self.subscriptions)
            return f"{count} subscription{'s' if count != 1 else ''} asked for"
        return "every subscription you can see"


@dataclass(frozen=True)
class Unreadable:
    """Something the scan could not read (a subscription, a Resource Graph table, a list of deleted
    vaults): named so that the operator knows what the verdicts do not cover."""

    what: str
    reason: str
    needs: str = ""


@dataclass(frozen=True)
class KeyRef:
    """One distinct key the fleet uses: a vault, a key name, and the version the URL pins (or "")."""

    vault_id: str
    vault_name: str
    key_name: str
    version: str = ""

    @property
    def label(self) -> str:
        """vault/key[/version], how the report names it."""
        return "/".join(p for p in (self.vault_name, self.key_name, self.version) if p)


@dataclass(frozen=True)
class Dependencies:
    """The vaults and user-assigned identities Resource Graph shows (one query for both)."""

    vaults: tuple[VaultFacts, ...] = ()
    identities: tuple[IdentityFacts, ...] = ()


@dataclass(frozen=True)
class Access:
    """Role assignments of service principals and groups, and the custom roles they may name."""

    assignments: tuple[RoleAssignmentFacts, ...] = ()
    custom_roles: tuple[RoleDefinitionFacts, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """Everything the scan has read so far; None (or absent) where an answer has not come yet.

    A failed read keeps its error, so the verdicts can say which question it leaves open."""

    scope: FleetScope
    subscriptions: tuple[str, ...] = ()
    """Every subscription the operator can see (Resource Graph), in scope or not."""
    in_scope: tuple[str, ...] = ()
    """The subscriptions whose clusters are scanned."""
    clusters: tuple[ClusterFacts, ...] = ()
    dependencies: Dependencies | GatewayError | None = None
    access: Access | GatewayError | None = None
    deleted_vaults: dict[str, tuple[DeletedVaultFacts, ...] | GatewayError] = field(default_factory=dict)
    """Per subscription (lower-cased), once listed."""
    keys: dict[KeyRef, KeyFacts | GatewayError] = field(default_factory=dict)
    unreadable: tuple[Unreadable, ...] = ()


class ClusterState(StrEnum):
    """Where a cluster stands after the scan, in the order the fleet view sorts them."""

    CRITICAL = "critical"
    UNSETTLED = "unsettled"
    """The scan saw a problem only a full diagnosis can name (e.g. a key missing from its vault)."""
    INCOMPLETE = "incomplete"
    """A read the verdict rests on failed (permission, throttling): the question stays open."""
    WARNING = "warning"
    PENDING = "pending"
    """Still waiting for a read (the key's attributes)."""
    HEALTHY = "healthy"
    NOT_CMK = "not-cmk"

    @property
    def order(self) -> int:
        """Triage order: the clusters that need the operator first."""
        return list(ClusterState).index(self)


@dataclass(frozen=True)
class OpenQuestion:
    """A check the scan could not settle: why, and what would settle it."""

    check_id: str
    detail: str
    needs: str = ""
    diagnose_settles: bool = False
    """True: only `diagnose` reads what settles it; False: the operator lacked a read (needs)."""


@dataclass(frozen=True)
class ClusterVerdict:
    """One cluster as the scan sees it: its state, the causes it can see, and what it leaves open."""

    cluster: ClusterFacts
    state: ClusterState
    findings: tuple[Finding, ...] = ()
    open_questions: tuple[OpenQuestion, ...] = ()
    key: KeyRef | None = None
    key_expires: datetime | None = None
    vault_name: str = ""
    identity_id: str = ""

    @property
    def causes(self) -> tuple[str, ...]:
        """The finding codes, most fundamental first."""
        return tuple(f.code for f in self.findings)


class GroupKind(StrEnum):
    """What clusters share, for the blast radius."""

    KEY = "key"
    VAULT = "vault"
    IDENTITY = "identity"


@dataclass(frozen=True)
class BlastGroup:
    """Clusters that share one key, vault or identity, and what is wrong with them."""

    kind: GroupKind
    name: str
    cluster_ids: tuple[str, ...]
    subscriptions: int
    critical: int
    warnings: int
    causes: tuple[str, ...] = ()
    """The critical findings among its clusters, causes before the Inaccessible symptom, most common first."""
    warning_causes: tuple[str, ...] = ()
    expires: datetime | None = None

    @property
    def size(self) -> int:
        """How many clusters share it."""
        return len(self.cluster_ids)


@dataclass(frozen=True)
class FleetReport:
    """The scan's answer: a verdict per cluster, the shared things at risk, and what it could not read."""

    scope: FleetScope
    verdicts: tuple[ClusterVerdict, ...]
    groups: tuple[BlastGroup, ...]
    unreadable: tuple[Unreadable, ...]
    subscriptions: tuple[str, ...]
    expiring_within_days: int
    complete: bool
    """Every read the scan makes has answered (False while key reads are still running)."""
    duration_ms: int = 0

    def count(self, state: ClusterState) -> int:
        """How many clusters are in this state."""
        return sum(1 for v in self.verdicts if v.state == state)

    @property
    def exit_code(self) -> int:
        """1 any critical cluster; else 3 when something is left open or unread; else 0."""
        states = {v.state for v in self.verdicts}
        if ClusterState.CRITICAL in states:
            return 1
        if self.unreadable or states & {
            ClusterState.INCOMPLETE,
            ClusterState.UNSETTLED,
            ClusterState.PENDING,
        }:
            return 3
        return 0
