"""Drives a fleet scan: the Resource Graph tables at once, then one read per distinct key, concurrently.

The first report goes out as soon as the clusters are listed (every CMK cluster `pending`); the
verdicts fill in as the tables and the key reads answer, only the clusters an answer concerns
judged again. `run` blocks: call it from a worker thread; `on_update` receives each report.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from wizard.domain.errors import GatewayError, NotFound
from wizard.domain.fleet import (
    ClusterState,
    ClusterVerdict,
    FleetReport,
    FleetScope,
    Inventory,
    KeyRef,
    Unreadable,
)
from wizard.domain.fleet_ports import FleetReader
from wizard.domain.models import ClusterFacts
from wizard.engine.fleet import DEFAULT_EXPIRING_DAYS, judge, report
from wizard.engine.fleet_answers import FleetAnswers, needs_reader

Clock = Callable[[], float]
_TABLES = {
    "subscriptions": "Resource Graph: resourcecontainers (subscriptions)",
    "clusters": "Resource Graph: resources (clusters)",
    "dependencies": "Resource Graph: resources (vaults and identities)",
    "access": "Resource Graph: authorizationresources (role assignments, custom roles)",
}


def _unreadable(what: str, error: GatewayError) -> Unreadable:
    return Unreadable(what, str(error), getattr(error, "needs", "") or "")


class FleetScan:
    """One scan in progress over a FleetReader."""

    def __init__(
        self,
        reader: FleetReader,
        scope: FleetScope | None = None,
        *,
        expiring_days: int = DEFAULT_EXPIRING_DAYS,
        max_parallel: int = 16,
        on_update: Callable[[FleetReport], None] | None = None,
        cancelled: threading.Event | None = None,
        clock: Clock = time.perf_counter,
        now: datetime | None = None,
        publish_every: float = 0.25,
    ) -> None:
        self.reader = reader
        self.scope = scope or FleetScope()
        self.expiring_days = expiring_days
        self.on_update = on_update
        self.cancelled = cancelled or threading.Event()
        self.clock = clock
        self.now = now or datetime.now(UTC)
        self.publish_every = publish_every
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._done: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self._running = 0
        self._inventory = Inventory(self.scope)
        self._answers: FleetAnswers | None = None
        self._verdicts: dict[str, ClusterVerdict] = {}
        self._started_keys: set[KeyRef] = set()
        self._listing_deleted = False
        self._answered: set[str] = set()
        self._users: dict[KeyRef, list[str]] = {}
        """The clusters that use each key (filled when the key reads start)."""
        self._unreadable: list[Unreadable] = []
        self._began = 0.0

    # -- the work ---------------------------------------------------------------------------

    def _start(self, task: str, arg: Any, fn: Callable[[], Any]) -> None:
        """Run one read on a daemon thread, at most `max_parallel` at once (see DiagnosisRun)."""
        self._running += 1

        def work() -> None:
            with self._slots:
                try:
                    result: Any = fn()
                except GatewayError as exc:
                    result = exc
                except BaseException as exc:  # an unexpected failure still ends the task
                    result = GatewayError(f"{type(exc).__name__}: {exc}")
                self._done.put((task, arg, result))

        threading.Thread(target=work, name=f"scan-{task}", daemon=True).start()

    def run(self) -> FleetReport:
        """Every table, then every key and (if a vault is missing) every subscription's deleted
        vaults; the final report."""
        self._began = self.clock()
        reader = self.reader
        self._start("subscriptions", None, reader.fleet_subscriptions)
        self._start("clusters", None, lambda: reader.fleet_clusters(self.scope))
        self._start("dependencies", None, reader.fleet_dependencies)
        self._start("access", None, reader.fleet_access)
        last_publish = -1.0
        while self._running and not self.cancelled.is_set():
            try:
                task, arg, result = self._done.get(timeout=0.1)
            except queue.Empty:
                continue
            self._running -= 1
            changed = self._take(task, arg, result)
            self._follow_up()
            self._rejudge(changed)
            moment = self.clock()
            if self._running and moment - last_publish >= self.publish_every:
                last_publish = moment
                self._publish(complete=False)
        final = self._report(complete=not self._running)
        if self.on_update is not None:
            self.on_update(final)
        return final

    def _take(self, task: str, arg: Any, result: Any) -> set[str] | None:
        """Record one answer; the ids of the clusters it concerns (None: all of them)."""
        inv = self._inventory
        failed = isinstance(result, GatewayError)
        self._answered.add(task)
        if task in _TABLES and failed:
            self._unreadable.append(_unreadable(_TABLES[task], result))
        if task == "subscriptions":
            self._inventory = replace(inv, subscriptions=() if failed else tuple(result))
        elif task == "clusters":
            clusters: tuple[ClusterFacts, ...] = () if failed else tuple(result)
            self._inventory = replace(inv, clusters=clusters)
            self._verdicts = {
                c.id: ClusterVerdict(c, ClusterState.PENDING if c.is_cmk else ClusterState.NOT_CMK)
                for c in clusters
            }
        elif task == "dependencies":
            self._inventory = replace(inv, dependencies=result)
        elif task == "access":
            self._inventory = replace(inv, access=result)
        elif task == "deleted":
            if failed:
                self._unreadable.append(_unreadable(f"deleted vaults of subscription {arg}", result))
            listed = result if failed else tuple(result)
            self._inventory = replace(inv, deleted_vaults={**inv.deleted_vaults, str(arg).lower(): listed})
            self._answers = None
            return {c.id for c in self._inventory.clusters if self._vault_missing(c)}
        elif task == "key":
            if failed and not isinstance(result, NotFound):
                self._unreadable.append(_unreadable(f"key {arg.label}", result))
            self._inventory = replace(inv, keys={**inv.keys, arg: result})
            self._answers = None
            return set(self._users.get(arg, ()))
        self._note_scope()
        self._answers = None
        return None

    def _phase_one_done(self) -> bool:
        """Every Resource Graph table has answered (rows or an error)."""
        return set(_TABLES) <= self._answered

    def _answers_now(self) -> FleetAnswers:
        if self._answers is None:
            self._answers = FleetAnswers(self._inventory)
        return self._answers

    def _key_of(self, cluster: ClusterFacts) -> KeyRef | None:
        return self._answers_now().key_ref(cluster)

    def _vault_missing(self, cluster: ClusterFacts) -> bool:
        answers = self._answers_now()
        return (
            cluster.is_cmk
            and answers.dependencies_known
            and answers.deps_error is None
            and answers.key_ref(cluster) is None
        )

    def _follow_up(self) -> None:
        """Start the key reads once clusters and vaults are known; the deleted-vault lists once a
        vault is missing and the subscriptions are known."""
        if self.cancelled.is_set() or not self._phase_one_done():
            return
        if self._started_keys:
            self._follow_up_deleted()
            return
        for cluster in self._inventory.clusters:
            ref = self._key_of(cluster)
            if ref is None:
                continue
            self._users.setdefault(ref, []).append(cluster.id)
            if ref not in self._started_keys:
                self._started_keys.add(ref)
                self._start("key", ref, self._key_reader(ref))
        self._follow_up_deleted()

    def _follow_up_deleted(self) -> None:
        if self._listing_deleted:
            return
        self._listing_deleted = True
        if any(self._vault_missing(c) for c in self._inventory.clusters):
            for sub in self._inventory.subscriptions:
                self._start("deleted", sub, self._deleted_reader(sub))

    def _key_reader(self, ref: KeyRef) -> Callable[[], Any]:
        return lambda: self.reader.get_key(ref.vault_id, ref.key_name, ref.version or None)

    def _deleted_reader(self, subscription_id: str) -> Callable[[], Any]:
        return lambda: self.reader.list_deleted_vaults(subscription_id)

    def _note_scope(self) -> None:
        """Which subscriptions the scan covers; one asked for but not in sight is named unreadable."""
        inv = self._inventory
        visible = {s.lower(): s for s in inv.subscriptions}
        if self.scope.subscriptions:
            in_scope = tuple(s for s in self.scope.subscriptions if s.lower() in visible)
            if "subscriptions" in self._answered and visible:
                for s in self.scope.subscriptions:
                    what = f"subscription {s}"
                    if s.lower() not in visible and all(u.what != what for u in self._unreadable):
                        self._unreadable.append(
                            Unreadable(
                                what, "not in sight: Resource Graph shows you nothing of it", needs_reader(s)
                            )
                        )
        elif self.scope.management_group:
            in_scope = tuple(sorted({c.subscription_id for c in inv.clusters}, key=str.lower))
        else:
            in_scope = inv.subscriptions
        self._inventory = replace(inv, in_scope=in_scope)

    def _rejudge(self, changed: set[str] | None) -> None:
        """Judge the clusters an answer concerns; a cluster whose key is still being read stays
        pending unjudged (it would only wait on the key)."""
        if not self._phase_one_done():
            return
        answers = self._answers_now()
        keys = self._inventory.keys
        for cluster in self._inventory.clusters:
            if changed is not None and cluster.id not in changed:
                continue
            ref = answers.key_ref(cluster)
            if ref is not None and ref not in keys:
                continue
            self._verdicts[cluster.id] = judge(cluster, answers, self.now, self.expiring_days)

    def _report(self, *, complete: bool) -> FleetReport:
        inventory = replace(self._inventory, unreadable=tuple(self._unreadable))
        return report(
            inventory,
            self._verdicts.values(),
            expiring_days=self.expiring_days,
            complete=complete,
            duration_ms=int((self.clock() - self._began) * 1000),
        )

    def _publish(self, *, complete: bool) -> None:
        if self.on_update is not None:
            self.on_update(self._report(complete=complete))


def scan(reader: FleetReader, scope: FleetScope | None = None, **kwargs: Any) -> FleetReport:
    """Run one fleet scan to the end."""
    return FleetScan(reader, scope, **kwargs).run()
