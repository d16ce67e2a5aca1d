"""What the fleet scan needs from Azure: a few Resource Graph tables, deleted vaults, key attributes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from wizard.domain.fleet import Access, Dependencies, FleetScope
from wizard.domain.models import ClusterFacts, DeletedVaultFacts, KeyFacts


class FleetReader(Protocol):
    """Fleet-wide reads; each raises a wizard.domain.errors type (one per table or subscription)."""

    def fleet_subscriptions(self) -> list[str]:
        """Every subscription the operator can see (Resource Graph)."""
        ...

    def fleet_clusters(
        self, scope: FleetScope, on_page: Callable[[list[ClusterFacts]], None] | None = None
    ) -> list[ClusterFacts]:
        """Every DocumentDB cluster in scope, with CMK or not (Resource Graph, paged); `on_page`
        hears each page as it arrives, on the reader's thread."""
        ...

    def fleet_dependencies(self) -> Dependencies:
        """Every key vault and user-assigned identity in sight (Resource Graph, paged)."""
        ...

    def fleet_access(self) -> Access:
        """Role assignments of service principals and groups, and custom roles (Resource Graph)."""
        ...

    def list_deleted_vaults(self, subscription_id: str) -> list[DeletedVaultFacts]:
        """The soft-deleted vaults of one subscription (management plane, one list call)."""
        ...

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        """A key's attributes through the management plane (a given version, else the latest)."""
        ...
