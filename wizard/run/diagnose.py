"""Drives the engine against a reader: starts every read the engine allows, concurrently."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from wizard import __version__
from wizard.domain.catalog import load_catalog
from wizard.domain.errors import GatewayError
from wizard.domain.models import CheckStatus, ClusterFacts, Finding
from wizard.domain.ports import AzureReader
from wizard.domain.times import iso
from wizard.engine.assess import Assessment, assess, verdict_of
from wizard.engine.facts import Facts
from wizard.engine.plan import plan
from wizard.engine.reads import Outcome
from wizard.engine.tree import Read, ReadKind, load_tree
from wizard.run.background import in_background

SCHEMA = "cmk-wizard/diagnosis/v1"
MAX_PARALLEL = 16
"""Reads in flight at once: a diagnosis has at most 4 side by side; a sweep over many
subscriptions has 2 per subscription, across subscriptions (each has its own ARM quota)."""


def perform(reader: AzureReader, read: Read) -> Any:
    """Make the one gateway call a read stands for."""
    a = read.args
    match read.kind:
        case ReadKind.CLUSTER:
            return reader.get_cluster(a[0])
        case ReadKind.RESOURCE_HEALTH:
            return reader.get_resource_health(a[0])
        case ReadKind.IDENTITY:
            return reader.get_identity(a[0])
        case ReadKind.VAULT_LOOKUP:
            return reader.find_vault(a[0])
        case ReadKind.VAULT_SEARCH:
            return reader.search_vault(a[0], a[1])
        case ReadKind.VAULT:
            return reader.get_vault(a[0])
        case ReadKind.SUBSCRIPTIONS:
            return reader.list_subscriptions()
        case ReadKind.DELETED_VAULT:
            return reader.get_deleted_vault(a[0], a[1], a[2])
        case ReadKind.KEY:
            return reader.get_key(a[0], a[1], a[2] or None)
        case ReadKind.DELETED_KEY:
            return reader.get_deleted_key(a[0], a[1])
        case ReadKind.ROLE_ASSIGNMENTS:
            return reader.list_role_assignments(a[0], a[1])
        case ReadKind.ROLE_DEFINITION:
            return reader.get_role_definition(a[0])
        case ReadKind.ROLE_DEFINITIONS:
            return reader.list_custom_roles(a[0])
    raise AssertionError(f"unhandled read {read}")


Clock = Callable[[], float]
"""Seconds from an arbitrary origin; reads are timed with it (fakes freeze it for reproducible screens)."""


def _timed(reader: AzureReader, read: Read, clock: Clock) -> Outcome:
    started = clock()
    try:
        value = perform(reader, read)
        error = None
    except GatewayError as exc:
        value, error = None, exc
    return Outcome(value, error, int((clock() - started) * 1000))


@dataclass(frozen=True)
class Diagnosis:
    """A finished (or cancelled) diagnosis: what was read, what it means."""

    cluster_id: str
    assessment: Assessment
    known: dict[Read, Outcome]
    started_at: datetime
    duration_ms: int
    depth: int

    @property
    def verdict(self) -> str:
        """healthy, unhealthy or incomplete."""
        return verdict_of(self.assessment)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Findings, most fundamental first."""
        return self.assessment.findings

    @cached_property
    def facts(self) -> Facts:
        """What Azure answered, typed once (the cluster, its key URL, identity, vault, key, access)."""
        return Facts.from_known(self.cluster_id, self.known)

    @property
    def cluster(self) -> ClusterFacts | None:
        """The cluster as read, if it could be."""
        return self.facts.cluster

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 critical findings, 3 could not decide."""
        return {"healthy": 0, "unhealthy": 1}.get(self.verdict, 3)

    def to_json(self) -> dict[str, Any]:
        """The documented `cmk-wizard/diagnosis/v1` object (extended compatibly: `tool`, `startedAt`,
        `finishedAt`, and each finding's `title`, `check` and `observedAt`)."""
        cluster = self.cluster
        catalog = load_catalog()
        observed = iso(self.started_at + timedelta(milliseconds=self.duration_ms))
        health = self.facts.resource_health
        return {
            "schema": SCHEMA,
            "cluster": {
                "id": self.cluster_id,
                "status": cluster.cluster_status if cluster else None,
                "provisioningState": cluster.provisioning_state if cluster else None,
                "keyUrl": cluster.key_url if cluster else None,
                "identityId": cluster.key_identity_id if cluster else None,
                # added compatibly: Resource Health's view, null when it could not be read
                "resourceHealth": {
                    "availabilityState": health.availability_state,
                    "reasonType": health.reason_type,
                    "summary": health.summary,
                    "occurredTime": iso(health.occurred_time),
                }
                if health
                else None,
            },
            "verdict": self.verdict,
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity.value,
                    # added compatibly (issue 12): the catalogue title, the check that found it, when
                    "title": catalog.finding(f.code).title,
                    "check": f.check_id,
                    "observedAt": observed,
                    "summary": f.summary,
                    "evidence": f.evidence,
                    "remediations": list(f.remediations),
                }
                for f in self.findings
            ],
            "checks": [
                {
                    "id": c.id,
                    "status": c.status.value,
                    "durationMs": c.duration_ms,
                    "detail": c.detail,
                    **({"needs": c.needs} if c.needs else {}),
                }
                for c in self.assessment.checks
            ],
            "durationMs": self.duration_ms,
            "startedAt": iso(self.started_at),
            "finishedAt": observed,
            "tool": {"name": "cmk-wizard", "version": __version__},
        }


def critical_path_depth(known: dict[Read, Outcome], cluster_id: str) -> int:
    """How many reads had to happen one after another: the bound on a diagnosis' wall time."""
    depth: dict[Read, int] = {}
    remaining = set(known)
    level = 0
    while remaining:
        level += 1
        subset = {r: known[r] for r in known if r not in remaining}
        ready = {r for r in plan(cluster_id, subset) if r in remaining}
        if not ready:
            break
        for r in ready:
            depth[r] = level
        remaining -= ready
    return max(depth.values(), default=0)


class DiagnosisRun:
    """One diagnosis in progress; `run` blocks (call it from a worker thread)."""

    def __init__(
        self,
        reader: AzureReader,
        cluster_id: str,
        *,
        max_parallel: int = MAX_PARALLEL,
        on_update: Callable[[Assessment], None] | None = None,
        cancelled: threading.Event | None = None,
        clock: Clock = time.perf_counter,
        known: Mapping[Read, Outcome] | None = None,
        prefetch: Iterable[Read] = (),
    ) -> None:
        """`known`: answers to start from (an incremental re-diagnosis keeps what a write did not touch).
        `prefetch`: reads sent at once, before the engine asks for them (what an earlier diagnosis
        of the same cluster needed); an answer counts only once the engine asks for that read."""
        self.seed = dict(known or {})
        self.prefetch = tuple(r for r in dict.fromkeys(prefetch) if r not in self.seed)
        self.reader = reader
        self.clock = clock
        self.cluster_id = cluster_id
        self.max_parallel = max_parallel
        self.on_update = on_update
        self.cancelled = cancelled or threading.Event()

    def run(self) -> Diagnosis:
        """Start every allowed read, feed answers back to the engine, until nothing is left."""
        started_at = datetime.now(UTC)
        began = self.clock()
        known: dict[Read, Outcome] = dict(self.seed)
        running: dict[Future[Outcome], Read] = {}
        slots = threading.BoundedSemaphore(self.max_parallel)
        # sent ahead of the engine, so a stage that needs the cluster's answer first costs no extra
        # round trip when the answer is what it was; one the engine never asks for is dropped
        ahead = {read: self._start(read, slots) for read in self.prefetch[: self.max_parallel]}
        while not self.cancelled.is_set():
            # in the engine's order, at most max_parallel in flight: a read not yet sent when the
            # engine stops wanting it (the vault found in another subscription) is never sent
            started = set(running.values())
            for read in plan(self.cluster_id, known):
                if read in ahead:
                    running[ahead.pop(read)] = read
                elif len(running) >= self.max_parallel:
                    break
                elif read not in known and read not in started:
                    running[self._start(read, slots)] = read
            self._publish(known, set(running.values()))
            if not running:
                break
            done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                known[running.pop(future)] = future.result()
        assessment = assess(self.cluster_id, known, set())
        if self.cancelled.is_set():
            assessment = Assessment(
                tuple(
                    c if c.status.done else type(c)(c.id, CheckStatus.UNKNOWN, "cancelled")
                    for c in assessment.checks
                ),
                assessment.findings,
            )
        return Diagnosis(
            self.cluster_id,
            assessment,
            known,
            started_at,
            int((self.clock() - began) * 1000),
            critical_path_depth(known, self.cluster_id),
        )

    def _start(self, read: Read, slots: threading.BoundedSemaphore) -> Future[Outcome]:
        """Run one read on a daemon thread, at most `max_parallel` at once: a cancelled run returns
        at once, and a read Azure is still sitting on never keeps the process from exiting."""

        def one() -> Outcome:
            with slots:
                return _timed(self.reader, read, self.clock)

        return in_background(one, f"diagnose-{read.kind.value}")

    def _publish(self, known: dict[Read, Outcome], in_flight: set[Read]) -> None:
        if self.on_update is not None:
            self.on_update(assess(self.cluster_id, known, in_flight))


def diagnose(reader: AzureReader, cluster_id: str, **kwargs: Any) -> Diagnosis:
    """Run one diagnosis to the end."""
    return DiagnosisRun(reader, cluster_id, **kwargs).run()


def check_titles() -> dict[str, str]:
    """Check id to its human title, for text output."""
    return {spec.id: spec.title for spec in load_tree()}
