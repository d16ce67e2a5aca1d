"""wait-for-ready: poll the cluster until the service has revalidated its key, with backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wizard.domain.errors import AuthFailed, GatewayError, NotFound
from wizard.domain.ports import AzureReader
from wizard.domain.results import OutcomeStatus

DOCUMENTED_BOUND_SECONDS = 60 * 60


@dataclass(frozen=True)
class WaitProgress:
    """One poll of wait-for-ready, for a progress line or bar."""

    cluster_status: str
    elapsed: float
    bound: float
    timeout: float
    polls: int
    next_poll_in: float


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

    @property
    def status(self) -> OutcomeStatus:
        """ready, timeout, cancelled or error."""
        if self.ready:
            return OutcomeStatus.READY
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
            return f"cluster is Ready {where}"
        if self.cancelled:
            return f"stopped waiting {where}; the cluster is {self.cluster_status}"
        if self.error:
            return f"could not poll the cluster: {self.error}"
        return (
            f"still {self.cluster_status} {where}; the service may take up to about 60 minutes: "
            "run `cmk-wizard watch` again later, or escalate if it stays Inaccessible beyond that"
        )


def wait_for_ready(
    reader: AzureReader,
    cluster_id: str,
    *,
    timeout: float = DOCUMENTED_BOUND_SECONDS,
    poll: float = 60.0,
    max_poll: float = 300.0,
    backoff: float = 1.5,
    bound: float = DOCUMENTED_BOUND_SECONDS,
    on_progress: Callable[[WaitProgress], None] | None = None,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WaitResult:
    """Poll the cluster until Ready, with backoff, at most `timeout` seconds; cancellable."""
    cancel = cancel or threading.Event()
    start = clock()
    interval = max(poll, 0.01)
    polls = 0
    status = ""
    while True:
        polls += 1
        try:
            status = reader.get_cluster(cluster_id).cluster_status
        except GatewayError as exc:
            if isinstance(exc, NotFound | AuthFailed):  # gone, or signed out: waiting cannot help
                gone = "gone" if isinstance(exc, NotFound) else "unknown"
                return WaitResult(False, gone, clock() - start, bound, timeout, polls, error=str(exc))
            status = f"unknown ({exc})"
        elapsed = clock() - start
        if status.lower() == "ready":
            return WaitResult(True, status, elapsed, bound, timeout, polls)
        remaining = timeout - elapsed
        if remaining <= 0:
            return WaitResult(False, status, elapsed, bound, timeout, polls)
        pause = min(interval, remaining)
        if on_progress is not None:
            on_progress(WaitProgress(status, elapsed, bound, timeout, polls, pause))
        if cancel.wait(pause):
            return WaitResult(False, status, clock() - start, bound, timeout, polls, cancelled=True)
        interval = min(interval * backoff, max_poll)


def polls_text(polls: int) -> str:
    """`1 poll`, `3 polls`."""
    return f"{polls} poll" + ("" if polls == 1 else "s")
