"""wait-for-ready: poll the cluster and Resource Health until the service has revalidated its key.

`clusterStatus` alone proves nothing: the spec's MongoClusterStatus has no Inaccessible, so ARM may
say Ready throughout an outage. The wait ends as recovered only on evidence:

- Resource Health says Available, with an occurred time after `since` (the last write that fixed a
  cause, when Resource Health was seen down in this session), and clusterStatus is Ready; or
- Resource Health cannot be read and clusterStatus moved to Ready from Inaccessible (the service
  itself changed its view; Updating or Starting to Ready says nothing about the key).

With neither (Resource Health unreadable, ARM Ready throughout) it ends `unconfirmed` at once and
says so: polling longer would learn nothing. A Stopped cluster is not waited on: it must be started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from wizard.domain.background import in_background
from wizard.domain.errors import AuthFailed, Forbidden, GatewayError, NotFound
from wizard.domain.models import ClusterFacts, ResourceHealthFacts
from wizard.domain.results import OutcomeStatus
from wizard.domain.times import iso
from wizard.engine.reads import Known, resource_health_read
from wizard.engine.tree import Read, ReadKind

DOCUMENTED_BOUND_SECONDS = 60 * 60
UNCONFIRMED = "ARM shows Ready; that does not prove the key was revalidated: confirm by connecting"
"""What the wizard says when nothing can confirm the recovery (no Resource Health, ARM Ready throughout)."""
STOPPED = (
    "the cluster is Stopped: a stopped cluster is not revalidated and is not waited on; start it "
    "(Azure portal: the cluster's Start), then run `cmk-wizard watch`"
)
"""UNVERIFIED: that the service does not revalidate a stopped cluster's key (a key fixed while the
cluster is stopped, then a start, watched in clusterStatus and Resource Health)."""
CLOCK_SKEW = timedelta(seconds=5)
"""Resource Health's occurred time is Azure's clock, `since` is ours. UNVERIFIED: how far they drift
(an occurred time a few seconds before our write is still taken as after it)."""


@dataclass(frozen=True)
class WaitProgress:
    """One poll of wait-for-ready, for a progress line or bar."""

    cluster_status: str
    elapsed: float
    bound: float
    timeout: float
    polls: int
    next_poll_in: float
    availability: str = ""
    """What Resource Health said at this poll ("" when it was not asked or could not be read)."""


@dataclass(frozen=True)
class WaitResult:
    """How waiting for Ready ended."""

    ready: bool
    cluster_status: str
    elapsed: float
    bound: float
    timeout: float
    polls: int
    cancelled: bool = False
    error: str = ""
    availability: str = ""
    """Resource Health's last answer ("" when it could not be read)."""
    confirmed_by: str = ""
    """How the recovery was proven: `resource-health` or `cluster-status` ("" when it was not)."""
    unconfirmed: bool = False
    """ARM says Ready but nothing could prove the key was revalidated."""
    stopped: bool = False
    """The cluster is Stopped: not waited on."""
    since: datetime | None = None
    """Resource Health had to turn Available after this moment (None: any Available counted)."""
    blocked: str = ""
    """Why waiting stopped (or never started): a cause is still there (wait_gate.py)."""

    @property
    def status(self) -> OutcomeStatus:
        """ready, unconfirmed, cluster-stopped, timeout, cancelled or error."""
        if self.ready:
            return OutcomeStatus.READY
        if self.blocked:
            return OutcomeStatus.BLOCKED
        if self.unconfirmed:
            return OutcomeStatus.UNCONFIRMED
        if self.stopped:
            return OutcomeStatus.CLUSTER_STOPPED
        if self.cancelled:
            return OutcomeStatus.CANCELLED
        return OutcomeStatus.ERROR if self.error else OutcomeStatus.TIMEOUT

    def describe(self) -> str:
        """One line: what happened, elapsed against the documented bound."""
        where = (
            f"after {self.elapsed:.1f} s ({polls_text(self.polls)}; documented bound "
            f"{self.bound / 60:.0f} min)"
        )
        if self.ready:
            return f"cluster is Ready {where}" + (f": {self.proof}" if self.proof else "")
        if self.blocked:
            return self.blocked + (f" (stopped waiting {where})" if self.polls else "")
        if self.unconfirmed:
            return f"{UNCONFIRMED} ({polls_text(self.polls)}; Resource Health could not be read)"
        if self.stopped:
            return STOPPED
        if self.cancelled:
            return f"stopped waiting {where}; the cluster is {self.shown_state}"
        if self.error:
            return f"could not poll the cluster: {self.error}"
        return (
            f"still {self.shown_state} {where}; the service may take up to about 60 minutes: "
            "run `cmk-wizard watch` again later, or escalate if it stays Inaccessible beyond that"
        )

    @property
    def proof(self) -> str:
        """What showed the recovery, in words ("" when nothing did)."""
        health = (
            f"Resource Health turned Available after the fix at {iso(self.since)}"
            if self.since
            else "Resource Health says Available"
        )
        return {
            "resource-health": health,
            "cluster-status": "clusterStatus moved to Ready (Resource Health could not be read)",
        }.get(self.confirmed_by, "")

    @property
    def shown_state(self) -> str:
        """clusterStatus, with Resource Health's view when it was read."""
        return self.cluster_status + (f" (Resource Health {self.availability})" if self.availability else "")


class ClusterPoller(Protocol):
    """The two reads a wait polls (an AzureReader has both)."""

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        """The cluster's CMK configuration and state."""
        ...

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """What Azure Resource Health says of the cluster now."""
        ...


class FirstPollAnswered:
    """A poller whose first answers (the cluster, Resource Health) are those of a diagnosis made
    moments ago, after the last write: the wait's first poll then costs no round trip. Later polls,
    and anything that diagnosis did not read, go to Azure."""

    def __init__(self, reader: ClusterPoller, known: Known, cluster_id: str) -> None:
        self.reader = reader
        self._first = {
            "cluster": known.get(Read(ReadKind.CLUSTER, (cluster_id,))),
            "health": known.get(resource_health_read(cluster_id)),
        }

    def _answer(self, which: str, ask: Callable[[], Any]) -> Any:
        """The diagnosis' answer (its value, or its error raised) the first time; `ask()` after."""
        answered, self._first[which] = self._first[which], None
        if answered is None:
            return ask()
        if answered.error is not None:
            raise answered.error
        return answered.value

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        """The diagnosis' answer the first time, Azure's after."""
        return cast(ClusterFacts, self._answer("cluster", lambda: self.reader.get_cluster(cluster_id)))

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """The diagnosis' answer the first time, Azure's after."""
        answer = self._answer("health", lambda: self.reader.get_resource_health(cluster_id))
        return cast(ResourceHealthFacts, answer)


@dataclass
class _Evidence:
    """What the polls have shown so far about the service's view of the cluster."""

    since: datetime | None
    was_inaccessible: bool
    availability: str = ""
    health_unreadable: bool = False

    def judge(self, health_read: Future[ResourceHealthFacts]) -> str:
        """`resource-health` or `cluster-status` once recovery is proven, `unconfirmed` when nothing
        can prove it, "" to poll again (Resource Health counts only once ARM says Ready)."""
        try:
            health = health_read.result()
        except (Forbidden, NotFound):
            self.availability, self.health_unreadable = "", True
            return "cluster-status" if self.was_inaccessible else "unconfirmed"
        except GatewayError:
            self.availability = "unreadable this poll"
            return ""
        self.availability, self.health_unreadable = health.availability_state, False
        return "resource-health" if self._recovered(health) else ""

    def _recovered(self, health: ResourceHealthFacts) -> bool:
        if not health.available:
            return False
        if self.since is None or health.occurred_time is None:
            return self.since is None
        return health.occurred_time >= self.since - CLOCK_SKEW


def wait_for_ready(
    reader: ClusterPoller,
    cluster_id: str,
    *,
    since: datetime | None = None,
    was_inaccessible: bool = False,
    timeout: float = DOCUMENTED_BOUND_SECONDS,
    poll: float = 60.0,
    max_poll: float = 300.0,
    backoff: float = 1.5,
    bound: float = DOCUMENTED_BOUND_SECONDS,
    on_progress: Callable[[WaitProgress], None] | None = None,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    recheck: Callable[[], str] | None = None,
    recheck_every: float = 300.0,
) -> WaitResult:
    """Poll until the recovery is proven, with backoff, at most `timeout` seconds; cancellable.
    `recheck` (every `recheck_every` s) says why waiting cannot help any more (a cause came back
    or showed up; wait_gate.py): the wait then stops at once and says so (`blocked`).

    `since`: Resource Health must have turned Available after this moment (the last write that fixed
    a cause, when the outage showed there); None takes any Available. `was_inaccessible`: clusterStatus
    was seen Inaccessible earlier, so a Ready now is the service's own change of view."""
    cancel = cancel or threading.Event()
    evidence = _Evidence(since, was_inaccessible)
    start = clock()
    interval = max(poll, 0.01)
    polls = 0
    status = ""

    def ended(
        *,
        ready: bool = False,
        cancelled: bool = False,
        error: str = "",
        confirmed_by: str = "",
        unconfirmed: bool = False,
        stopped: bool = False,
        blocked: str = "",
    ) -> WaitResult:
        return WaitResult(
            ready,
            status,
            clock() - start,
            bound,
            timeout,
            polls,
            cancelled=cancelled,
            error=error,
            availability=evidence.availability,
            confirmed_by=confirmed_by,
            unconfirmed=unconfirmed,
            stopped=stopped,
            since=since,
            blocked=blocked,
        )

    rechecked = start
    while True:
        polls += 1
        verdict = ""
        # asked beside the cluster (a poll is one round trip, not two); it counts only once ARM says Ready
        health_read = in_background(lambda: reader.get_resource_health(cluster_id), "wait-resource-health")
        try:
            status = reader.get_cluster(cluster_id).cluster_status
        except NotFound as exc:
            status = "gone"
            return ended(error=str(exc))
        except AuthFailed as exc:  # signed out: waiting cannot help
            status = "unknown"
            return ended(error=str(exc))
        except GatewayError as exc:
            status = f"unknown ({exc})"
        else:
            lowered = status.lower()
            if lowered == "stopped":
                return ended(stopped=True)
            if lowered == "ready":
                verdict = evidence.judge(health_read)
            elif lowered == "inaccessible":
                evidence.was_inaccessible = True
        if verdict == "unconfirmed":
            return ended(unconfirmed=True)
        if verdict:
            return ended(ready=True, confirmed_by=verdict)
        elapsed = clock() - start
        remaining = timeout - elapsed
        if remaining <= 0:
            return ended()
        if recheck is not None and clock() - rechecked >= recheck_every:
            rechecked = clock()
            why = recheck()
            if why:
                return ended(blocked=why)
        pause = min(interval, remaining)
        if on_progress is not None:
            on_progress(WaitProgress(status, elapsed, bound, timeout, polls, pause, evidence.availability))
        if cancel.wait(pause):
            return ended(cancelled=True)
        interval = min(interval * backoff, max_poll)


def polls_text(polls: int) -> str:
    """`1 poll`, `3 polls`."""
    return f"{polls} poll" + ("" if polls == 1 else "s")
