"""The FleetReader port over the UI fakes' estate: the scan's tables from the same fixed dataclasses."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from wizard.domain.fleet import Access, Dependencies, FleetScope
from wizard.domain.forensics import ActivityEvent
from wizard.domain.models import ClusterFacts, DeletedVaultFacts, KeyFacts

if TYPE_CHECKING:
    from tests.ui.fakes import FakeReader


class FakeFleetReader:
    """Answers the fleet reads from a FakeReader's estate, with its latency and injected errors."""

    def __init__(self, reader: FakeReader, key_gate: threading.Event | None = None) -> None:
        self.reader = reader
        self.estate = reader.estate
        self.key_gate = key_gate
        """When given, key reads wait for it: tests see the fleet view before the keys are read."""

    def fleet_subscriptions(self) -> list[str]:
        """The one fake subscription."""
        return self.reader.list_subscriptions()

    def fleet_clusters(
        self, scope: FleetScope, on_page: Callable[[list[ClusterFacts]], None] | None = None
    ) -> list[ClusterFacts]:
        """Every cluster, one page (the `cannot-list` scenario refuses, as it refuses the list)."""
        self.reader.call("list_cmk_clusters")
        clusters = list(self.estate.clusters.values())
        if on_page is not None:
            on_page(clusters)
        return clusters

    def fleet_dependencies(self) -> Dependencies:
        """The fake vaults and identities."""
        self.reader.call("fleet_dependencies")
        return Dependencies(tuple(self.estate.vaults.values()), tuple(self.estate.identities.values()))

    def fleet_access(self) -> Access:
        """The fake role assignments (the `no-role-read` scenario refuses them)."""
        self.reader.call("list_role_assignments")
        return Access(tuple(self.estate.assignments), tuple(self.estate.role_definitions.values()))

    def list_deleted_vaults(self, subscription_id: str) -> list[DeletedVaultFacts]:
        """The fake soft-deleted vaults."""
        return list(self.estate.deleted_vaults.values())

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        """The fake key, as the diagnosis reads it (after the gate opens, if there is one)."""
        if self.key_gate is not None and not self.key_gate.wait(30):
            raise TimeoutError("the test never opened the key gate")
        return self.reader.get_key(vault_id, key_name, version)


class FakeActivityReader:
    """An Activity Log that holds no events."""

    def list_activity(
        self, subscription_id: str, resource_group: str, since: datetime, until: datetime
    ) -> list[ActivityEvent]:
        """Nothing happened, as far as this log knows."""
        return []
