"""What the rest of the wizard needs from Azure: narrow, task-shaped, our dataclasses only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # names for the protocols' signatures only: the TUI's first frame needs none of them
    from collections.abc import Callable

    from wizard.domain.actions import Action
    from wizard.domain.fleet_ports import FleetReader
    from wizard.domain.forensics import ActivityReader
    from wizard.domain.models import (
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
    from wizard.domain.results import Resolution, WriteResult


@dataclass(frozen=True)
class Operator:
    """Who is asking: shown on the start screen and written into audit records and reports."""

    mode: str
    tenant_id: str
    account: str
    subscription_id: str | None = None


class AzureReader(Protocol):
    """Read-only questions the diagnosis asks; each raises a wizard.domain.errors type."""

    def operator(self) -> Operator:
        """Who we are signed in as."""
        ...

    def list_cmk_clusters(self) -> list[ClusterSummary]:
        """Every CMK cluster the operator can see."""
        ...

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        """The cluster's CMK configuration and state."""
        ...

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """What Azure Resource Health says of the cluster now (availabilityStatuses/current)."""
        ...

    def get_identity(self, identity_id: str) -> IdentityFacts:
        """A user-assigned identity."""
        ...

    def find_vault(self, vault_name: str) -> VaultRef | None:
        """A live vault by name in any subscription the operator sees (Resource Graph)."""
        ...

    def search_vault(self, vault_name: str, subscription_id: str) -> VaultRef | None:
        """A live vault by name in one subscription, through ARM (consistent at once)."""
        ...

    def get_vault(self, vault_id: str) -> VaultFacts:
        """A live vault's properties."""
        ...

    def list_subscriptions(self) -> list[str]:
        """The subscriptions the operator can see (Resource Graph)."""
        ...

    def get_deleted_vault(self, vault_name: str, location: str, subscription_id: str) -> DeletedVaultFacts:
        """A soft-deleted vault in one subscription, whatever its region."""
        ...

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        """A key's attributes through the management plane (a given version, else the latest)."""
        ...

    def get_deleted_key(self, vault_url: str, key_name: str) -> DeletedKeyFacts:
        """A soft-deleted key through the data plane."""
        ...

    def list_role_assignments(self, vault_id: str, principal_id: str) -> list[RoleAssignmentFacts]:
        """Role assignments of a principal that apply at, above or below the vault."""
        ...

    def get_role_definition(self, role_definition_id: str) -> RoleDefinitionFacts:
        """A role definition's data actions."""
        ...

    def list_custom_roles(self, scope: str) -> list[RoleDefinitionFacts]:
        """Every custom role usable at the scope (one list, whatever the number of assignments)."""
        ...


class AuditTrail(Protocol):
    """Where every write is recorded before and after it is made (append-only, flushed to disk)."""

    def intent(
        self,
        *,
        operator: dict[str, Any],
        remediation: str,
        target: str,
        request: dict[str, Any],
        before: dict[str, Any],
        action: dict[str, Any] | None = None,
    ) -> str:
        """Record who will change what, the request, the before-state and the action; returns its id."""
        ...

    def result(
        self,
        intent_id: str,
        *,
        remediation: str,
        target: str,
        result: str,
        message: str,
        after: dict[str, Any],
        undo: dict[str, Any] | None = None,
        undoes: str | None = None,
    ) -> str:
        """Record what the write came to and the after-state; returns its id. `undo`: the write
        that takes this one back (a temporary change); `undoes`: the intent id this one takes back."""
        ...


class AzureWriter(Protocol):
    """The writes, one action at a time: read-only raises before any request, each write audited.

    Raises a wizard.domain.errors type (WriteRefused when the wizard will not make the write)."""

    def apply(self, action: Action) -> WriteResult:
        """Make the write the action describes, unless its effect is already there."""
        ...

    def probe(self, action: Action) -> Resolution:
        """Read the action's target and say whether its effect is there: no guard, no audit, no write."""
        ...

    def watch(self, report: Callable[[str], None] | None) -> None:
        """Where long-running operations report their status while a write waits on them."""
        ...

    def when_answered(self, start: Callable[[], None] | None) -> None:
        """Called once, the moment Azure accepts the next write and before it is read back: the
        verification's reads start beside the read-back instead of after it (None: nothing). Not
        called when the write raised, even if it then counts as applied (a 409 to a retry, a lost
        reply): the caller then reads after the write, as it would without this."""
        ...


class Backend(Protocol):
    """What the composition root hands the UI: a way to reach Azure (or the emulator), lazily."""

    read_only: bool

    def clock(self) -> float:
        """Seconds from an arbitrary origin that reads are timed with (fakes freeze it)."""
        ...

    @property
    def label(self) -> str:
        """What the start screen says we are talking to."""
        ...

    def connect(self) -> AzureReader:
        """Build the gateway (imports the Azure SDK: call it from a worker, never on mount)."""
        ...

    def default_cluster_id(self) -> str | None:
        """The cluster to open first, if the command line or scenario named one."""
        ...

    def fleet(self) -> FleetReader:
        """The fleet-wide reads (connects like `connect`: call it from a worker)."""
        ...

    def activity(self) -> ActivityReader:
        """The Activity Log (connects like `connect`: call it from a worker)."""
        ...

    def scenarios(self) -> list[str]:
        """Scenarios the operator may switch to (empty when live)."""
        ...

    def switch_scenario(self, name: str) -> None:
        """Restart the embedded emulator on another scenario (slow: call from a worker)."""
        ...

    def current_scenario(self) -> tuple[str, str] | None:
        """The scenario playing now and what it shows a trainee (None when live)."""
        ...

    def scenario_descriptions(self) -> dict[str, str]:
        """What each scenario of `scenarios()` shows, by name (empty when live)."""
        ...

    def close(self) -> None:
        """Release clients and stop an embedded emulator."""
        ...
