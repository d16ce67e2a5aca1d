"""Drives a fleet scan: the Resource Graph tables at once, then one read per distinct key, concurrently.

Clusters arrive a page at a time and show at once (`pending`); each page's new keys are read as
soon as the vaults are known, while later pages are still coming. Verdicts fill in as the tables
and key reads answer, only the clusters an answer concerns judged again. `run` blocks: call it
from a worker thread; `on_update` receives a report at most every `publish_every` seconds.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
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
    OpenQuestion,
    Unreadable,
)
from wizard.domain.fleet_ports import FleetReader
from wizard.domain.models import ClusterFacts
from wizard.engine.fleet import DEFAULT_EXPIRING_DAYS, judge, report
from wizard.engine.fleet_answers import FleetAnswers, needs_reader

Clock = Callable[[], float]
TABLES = {
    "subscriptions": "Resource Graph: resourcecontainers (subscriptions)",
    "clusters": "Resource Graph: resources (clusters)",
    "dependencies": "Resource Graph: resources (vaults and identities)",
    "access": "Resource Graph: authorizationresources (role assignments, custom roles)",
}
"""The tables every scan reads, by task, as the report names one it could not read."""
_PAGE = "clusters-page"


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
        max_parallel: int = 32,
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
        self._by_id: dict[str, ClusterFacts] = {}
        self._users: dict[KeyRef, list[str]] = {}
        """The clusters that use each key, as their key reads start."""
        self._keyed: set[str] = set()
        self._answered: set[str] = set()
        self._judged_all = False
        self._listing_deleted = False
        self._vaultless: list[str] = []
        """The CMK clusters whose vault Resource Graph does not show: judged once the deleted lists are in."""
        self._deleted_left = 0
        self._unreadable: list[Unreadable] = []
        self._began = 0.0

    # -- threads ------------------------------------------------------------------------------

    def _start(self, task: str, arg: Any, fn: Callable[[], Any]) -> None:
        """Run one read on a daemon thread, at most `max_parallel` at once. Daemon, as the
        diagnosis' reads: a cancelled scan returns at once and never waits for Azure to exit."""
        self._running += 1

        def work() -> None:
            with self._slots:
                try:
                    result: Any = fn()
                except GatewayError as exc:
                    result = exc
                except Exception as exc:  # an unexpected failure still ends the task, with a name
                    result = GatewayError(f"{type(exc).__name__}: {exc}")
                self._done.put((task, arg, result))

        threading.Thread(target=work, name=f"scan-{task}", daemon=True).start()

    def _page_arrived(self, clusters: list[ClusterFacts]) -> None:
        """Called on the reader's thread for each page: handed to the loop, never handled here."""
        self._done.put((_PAGE, None, list(clusters)))

    def run(self) -> FleetReport:
        """Every table, then every key and (if a vault is missing) every subscription's deleted
        vaults; the final report."""
        self._began = self.clock()
        reader = self.reader
        self._start("subscriptions", None, reader.fleet_subscriptions)
        self._start("clusters", None, lambda: reader.fleet_clusters(self.scope, self._page_arrived))
        self._start("dependencies", None, reader.fleet_dependencies)
        self._start("access", None, reader.fleet_access)
        last_publish, news = -math.inf, False
        while self._running and not self.cancelled.is_set():
            try:
                task, arg, result = self._done.get(timeout=self.publish_every / 2)
            except queue.Empty:
                pass
            else:
                if task != _PAGE:
                    self._running -= 1
                self._rejudge(self._take(task, arg, result))
                self._follow_up()
                news = True
            moment = time.monotonic()  # real time, whatever `clock` says (fakes freeze it)
            if news and self._running and moment - last_publish >= self.publish_every:
                last_publish, news = moment, False
                self._publish()
        final = self._report(complete=not self._running)
        if self.on_update is not None:
            self.on_update(final)
        return final

    # -- answers ------------------------------------------------------------------------------

    def _take(self, task: str, arg: Any, result: Any) -> Iterable[str] | None:
        """Record one answer; the ids of the clusters it concerns (None: every one)."""
        inv = self._inventory
        failed = isinstance(result, GatewayError)
        if task != _PAGE:
            self._answered.add(task)
        if task in TABLES and failed:
            self._unreadable.append(_unreadable(TABLES[task], result))
        if task == _PAGE:
            self._add_clusters(result)
            return ()
        if task == "clusters":
            self._add_clusters([] if failed else result)
        elif task == "subscriptions":
            self._inventory = replace(inv, subscriptions=() if failed else tuple(result))
        elif task in ("dependencies", "access"):
            self._inventory = replace(inv, **{task: result})
        elif task == "deleted":
            if failed:
                self._unreadable.append(_unreadable(f"deleted vaults of subscription {arg}", result))
            inv.deleted_vaults[str(arg).lower()] = result if failed else tuple(result)
            self._deleted_left -= 1
            if self._deleted_left:
                return ()  # judged once, when every subscription's list is in
            self._answers = None
            return self._vaultless
        elif task == "key":
            if failed and not isinstance(result, NotFound):
                self._unreadable.append(_unreadable(f"key {arg.label}", result))
            inv.keys[arg] = result
            if self._answers is not None:
                self._answers.add_key(arg, result)
            return self._users.get(arg, ())
        self._note_scope()
        self._answers = None
        return None

    def _add_clusters(self, clusters: list[ClusterFacts]) -> None:
        """Clusters not seen before (the final list repeats the pages), shown pending at once."""
        fresh = [c for c in clusters if c.id not in self._by_id]
        for c in fresh:
            self._by_id[c.id] = c
            self._verdicts[c.id] = ClusterVerdict(
                c, ClusterState.PENDING if c.is_cmk else ClusterState.NOT_CMK
            )
        if fresh:
            self._inventory = replace(self._inventory, clusters=self._inventory.clusters + tuple(fresh))
            self._note_scope()

    def _answers_now(self) -> FleetAnswers:
        if self._answers is None:
            self._answers = FleetAnswers(self._inventory)
        return self._answers

    def _vault_missing(self, cluster: ClusterFacts) -> bool:
        answers = self._answers_now()
        return (
            cluster.is_cmk
            and answers.dependencies_known
            and answers.deps_error is None
            and answers.key_ref(cluster) is None
        )

    # -- what to read next --------------------------------------------------------------------

    def _follow_up(self) -> None:
        """Each cluster's key read, once the vaults are known (a page at a time); the deleted-vault
        lists once every table has answered and a vault is missing."""
        if self.cancelled.is_set() or "dependencies" not in self._answered:
            return
        answers = self._answers_now()
        for cluster in self._inventory.clusters:
            if cluster.id in self._keyed:
                continue
            self._keyed.add(cluster.id)
            ref = answers.key_ref(cluster)
            if ref is None:
                continue
            # a versioned URL also needs the newest version (key.newest: could it move to versionless?)
            for each in (ref, replace(ref, version="")) if ref.version else (ref,):
                if each not in self._users:
                    self._start("key", each, self._key_reader(each))
                self._users.setdefault(each, []).append(cluster.id)
        if set(TABLES) <= self._answered and not self._listing_deleted:
            self._listing_deleted = True
            self._vaultless = [c.id for c in self._inventory.clusters if self._vault_missing(c)]
            if self._vaultless:
                self._deleted_left = len(self._inventory.subscriptions)
                for sub in self._inventory.subscriptions:
                    self._start("deleted", sub, self._deleted_reader(sub))

    def _key_reader(self, ref: KeyRef) -> Callable[[], Any]:
        return lambda: self.reader.get_key(ref.vault_id, ref.key_name, ref.version or None)

    def _deleted_reader(self, subscription_id: str) -> Callable[[], Any]:
        return lambda: self.reader.list_deleted_vaults(subscription_id)

    def _note_scope(self) -> None:
        """Which subscriptions the scan covers; one asked for but not in sight is named unreadable."""
        inv = self._inventory
        visible = {s.lower() for s in inv.subscriptions}
        if self.scope.subscriptions:
            in_scope = tuple(s for s in self.scope.subscriptions if s.lower() in visible)
            if inv.subscriptions:
                for s in self.scope.subscriptions:
                    what = f"subscription {s}"
                    if s.lower() not in visible and all(u.what != what for u in self._unreadable):
                        why = "not in sight: Resource Graph shows you nothing of it"
                        self._unreadable.append(Unreadable(what, why, needs_reader(s)))
        elif self.scope.management_group:
            in_scope = tuple(sorted({c.subscription_id for c in inv.clusters}, key=str.lower))
        else:
            in_scope = inv.subscriptions
        self._inventory = replace(inv, in_scope=in_scope)

    # -- verdicts -----------------------------------------------------------------------------

    def _rejudge(self, changed: Iterable[str] | None) -> None:
        """Judge the clusters an answer concerns, once every table has answered (all of them the
        first time); a cluster whose key is still being read stays pending unjudged."""
        if not set(TABLES) <= self._answered:
            return
        if not self._judged_all:
            self._judged_all, changed = True, None
        answers = self._answers_now()
        keys = self._inventory.keys
        clusters = self._inventory.clusters if changed is None else [self._by_id[c] for c in changed]
        for cluster in clusters:
            ref = answers.key_ref(cluster)
            newest = replace(ref, version="") if ref is not None else None
            if ref is not None and (ref not in keys or newest not in keys):
                continue
            self._verdicts[cluster.id] = judge(cluster, answers, self.now, self.expiring_days)

    def _report(self, *, complete: bool) -> FleetReport:
        inventory = replace(
            self._inventory, keys=dict(self._inventory.keys), unreadable=tuple(self._unreadable)
        )
        verdicts: Iterable[ClusterVerdict] = self._verdicts.values()
        if complete:
            verdicts = [_left_open(v) if v.state == ClusterState.PENDING else v for v in verdicts]
        return report(
            inventory,
            verdicts,
            expiring_days=self.expiring_days,
            complete=complete,
            duration_ms=int((self.clock() - self._began) * 1000),
        )

    def _publish(self) -> None:
        if self.on_update is not None:
            self.on_update(self._report(complete=False))


def _left_open(verdict: ClusterVerdict) -> ClusterVerdict:
    """A cluster still waiting once every read has answered waits on one the scan does not make."""
    question = OpenQuestion(
        "scan",
        "the tree asks for a read the scan does not make; diagnose this cluster",
        diagnose_settles=True,
    )
    return replace(verdict, state=ClusterState.UNSETTLED, open_questions=(*verdict.open_questions, question))


def scan(reader: FleetReader, scope: FleetScope | None = None, **kwargs: Any) -> FleetReport:
    """Run one fleet scan to the end."""
    return FleetScan(reader, scope, **kwargs).run()
