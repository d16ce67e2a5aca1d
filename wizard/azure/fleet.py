"""The fleet reader: Resource Graph tables, paged and within the quota; deleted vaults; key attributes.

Resource Graph queries are POSTs, which azure-core does not retry on a 429 without Retry-After
(and Resource Graph sends none): its quota headers say when the window resets instead. So every
page goes through one gate per reader: a query waits while the quota is known to be spent, a 429
waits `x-ms-user-quota-resets-after` and tries again, within a bounded budget; past it, the table
is reported unread (Throttled), never waited on for ever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from wizard.azure.errors import call, translate
from wizard.azure.fleet_queries import (
    CLUSTERS,
    DEPENDENCIES,
    PAGE_ROWS,
    ROLE_ASSIGNMENTS,
    ROLE_DEFINITIONS,
    SUBSCRIPTIONS,
)
from wizard.azure.fleet_rows import (
    assignment_from_row,
    cluster_from_row,
    identity_from_row,
    role_from_row,
    vault_from_row,
)
from wizard.azure.gateway import NEEDS_DELETED_VAULT_READ, NEEDS_GRAPH_READ, AzureGateway
from wizard.azure.throttling import quota_wait
from wizard.domain.errors import Throttled
from wizard.domain.fleet import Access, Dependencies, FleetScope
from wizard.domain.models import ClusterFacts, DeletedVaultFacts, KeyFacts

THROTTLED_ATTEMPTS = 5
"""How many 429s one page may get before its table is reported unread."""
SUBSCRIPTIONS_PER_QUERY = 1000
"""Resource Graph takes at most this many subscriptions in one request: more are batched."""
Sleep = Callable[[float], None]


def quota_spent(headers: Mapping[str, str]) -> bool:
    """The answer says no query is left in this window (`x-ms-user-quota-remaining: 0`)."""
    raw = next((v for k, v in headers.items() if k.lower() == "x-ms-user-quota-remaining"), None)
    return raw is not None and str(raw).strip() == "0"


def _pause(seconds: float) -> None:
    """Wait without holding anything (an Event nobody sets: no busy loop, no signal trouble)."""
    threading.Event().wait(seconds)


class QuotaGate:
    """Holds queries back while the window is spent; shared by every thread of one reader."""

    def __init__(self, sleep: Sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self.waits: list[float] = []
        """Every wait made, in seconds (the bench and tests read it)."""

    def wait_turn(self) -> None:
        """Sleep until the window the last answer spoke of has reset."""
        with self._lock:
            wait = self._resume_at - self._clock()
            if wait > 0:
                self.waits.append(wait)
        if wait > 0:
            self._sleep(wait)

    def hold_for(self, seconds: float) -> None:
        """No query until `seconds` from now."""
        with self._lock:
            self._resume_at = max(self._resume_at, self._clock() + seconds)

    def note(self, headers: Mapping[str, str]) -> None:
        """After an answer: if it spent the window, the next query waits for the reset."""
        if quota_spent(headers):
            self.hold_for(quota_wait(headers) or 1.0)


def _date(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _deleted_vault(deleted: Any) -> DeletedVaultFacts:
    props = deleted.properties
    return DeletedVaultFacts(
        name=deleted.name or "",
        location=getattr(props, "location", None) or "",
        vault_id=getattr(props, "vault_id", None) or "",
        deletion_date=_date(getattr(props, "deletion_date", None)),
        scheduled_purge_date=_date(getattr(props, "scheduled_purge_date", None)),
        purge_protection=getattr(props, "purge_protection_enabled", None),
    )


def _clusters(rows: list[dict[str, Any]]) -> list[ClusterFacts]:
    return [c for c in map(cluster_from_row, rows) if c is not None]


class FleetGateway:
    """The FleetReader port over the gateway's clients: our dataclasses out, our errors raised."""

    def __init__(self, gateway: AzureGateway, *, sleep: Sleep | None = None) -> None:
        self.gateway = gateway
        self.factory = gateway.factory
        self.quota = QuotaGate(sleep or _pause)

    def _page(self, table: str, request: Any) -> tuple[list[dict[str, Any]], str | None]:
        """One page, waiting out the quota; (rows, the next page's skip token)."""
        from azure.core.exceptions import HttpResponseError

        graph = self.factory.graph()
        action = f"query Resource Graph ({table})"
        max_wait = self.factory.retry.max_retry_after
        for _ in range(THROTTLED_ATTEMPTS):
            self.quota.wait_turn()
            try:
                response, headers = graph.resources(
                    request, cls=lambda pipeline, body, _: (body, dict(pipeline.http_response.headers))
                )
            except HttpResponseError as exc:
                if exc.status_code != 429:
                    raise translate(exc, action=action, needs=NEEDS_GRAPH_READ) from exc
                wait = quota_wait(getattr(exc.response, "headers", None) or {})
                if wait is not None and wait > max_wait:
                    raise Throttled(
                        f"{action}: throttled, and the quota resets only in {wait:.0f} s "
                        f"(more than the {max_wait:.0f} s the wizard waits)",
                        status=429,
                    ) from exc
                self.quota.hold_for(1.0 if wait is None else wait)
                continue
            except Exception as exc:
                raise translate(exc, action=action, needs=NEEDS_GRAPH_READ) from exc
            self.quota.note(headers)
            return list(response.data or []), response.skip_token or None
        raise Throttled(f"{action}: still throttled after {THROTTLED_ATTEMPTS} tries", status=429)

    def _query(
        self,
        table: str,
        query: str,
        subscriptions: list[str] | None = None,
        groups: list[str] | None = None,
        on_page: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every row of a query, page after page (`$skipToken`), subscriptions batched."""
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        batches: list[list[str] | None] = (
            [
                subscriptions[i : i + SUBSCRIPTIONS_PER_QUERY]
                for i in range(0, len(subscriptions), SUBSCRIPTIONS_PER_QUERY)
            ]
            if subscriptions
            else [None]
        )
        rows: list[dict[str, Any]] = []
        for batch in batches:
            token: str | None = None
            while True:
                request = QueryRequest(
                    query=query,
                    subscriptions=batch,
                    management_groups=groups,
                    options=QueryRequestOptions(result_format="objectArray", top=PAGE_ROWS, skip_token=token),
                )
                page, token = self._page(table, request)
                rows += page
                if on_page is not None:
                    on_page(page)
                if not token:
                    break
        return rows

    def fleet_subscriptions(self) -> list[str]:
        """Every subscription Resource Graph lets the operator see."""
        rows = self._query("resourcecontainers", SUBSCRIPTIONS)
        return sorted({str(r["subscriptionId"]) for r in rows if r.get("subscriptionId")}, key=str.lower)

    def fleet_clusters(
        self, scope: FleetScope, on_page: Callable[[list[ClusterFacts]], None] | None = None
    ) -> list[ClusterFacts]:
        """Every DocumentDB cluster in scope; `on_page` hears each page as it comes."""
        groups = [scope.management_group] if scope.management_group else None

        def page(rows: list[dict[str, Any]]) -> None:
            if on_page is not None:
                on_page(_clusters(rows))

        rows = self._query("resources: clusters", CLUSTERS, list(scope.subscriptions) or None, groups, page)
        return _clusters(rows)

    def fleet_dependencies(self) -> Dependencies:
        """Every vault and user-assigned identity in sight."""
        rows = self._query("resources: vaults and identities", DEPENDENCIES)
        vaults = [
            vault_from_row(r) for r in rows if str(r.get("type")).lower() == "microsoft.keyvault/vaults"
        ]
        identities = [
            identity_from_row(r)
            for r in rows
            if str(r.get("type")).lower() == "microsoft.managedidentity/userassignedidentities"
        ]
        return Dependencies(
            tuple(v for v in vaults if v is not None), tuple(i for i in identities if i is not None)
        )

    def fleet_access(self) -> Access:
        """Role assignments and custom roles, the two queries at once."""
        with ThreadPoolExecutor(2, thread_name_prefix="fleet-access") as pool:
            assignments = pool.submit(
                self._query, "authorizationresources: role assignments", ROLE_ASSIGNMENTS
            )
            roles = pool.submit(self._query, "authorizationresources: custom roles", ROLE_DEFINITIONS)
            return Access(
                tuple(map(assignment_from_row, assignments.result())),
                tuple(map(role_from_row, roles.result())),
            )

    def list_deleted_vaults(self, subscription_id: str) -> list[DeletedVaultFacts]:
        """The soft-deleted vaults of one subscription (one paged list call)."""
        client = self.factory.keyvault(subscription_id)
        listed = call(
            f"list deleted vaults in subscription {subscription_id}",
            f"{NEEDS_DELETED_VAULT_READ} on subscription {subscription_id}",
            lambda: list(client.vaults.list_deleted()),
        )
        return [_deleted_vault(d) for d in listed]

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        """Key attributes through the management plane, as the diagnosis reads them."""
        return self.gateway.get_key(vault_id, key_name, version)
