"""The wait's rule of evidence, poll by poll, over a scripted reader (no SDK, no clock of its own)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.engine.fake_reader import CLUSTER_ID, FakeEstate, FakeReader
from wizard.domain.errors import Forbidden
from wizard.domain.models import ClusterFacts, ResourceHealthFacts
from wizard.run.wait import UNCONFIRMED, WaitResult, wait_for_ready

FIX_AT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class Scripted(FakeReader):
    """clusterStatus and Resource Health answers, one per poll (the last one repeats)."""

    def __init__(self, statuses: list[str], health: list[ResourceHealthFacts | None]) -> None:
        super().__init__(FakeEstate())
        self.statuses: Iterator[str] = iter(statuses)
        self.health: Iterator[ResourceHealthFacts | None] = iter(health)
        self.status, self.answer = "Ready", health[0] if health else None

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        self.status = next(self.statuses, self.status)
        cluster = super().get_cluster(cluster_id)
        return dataclasses.replace(cluster, cluster_status=self.status)

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        self.answer = next(self.health, self.answer)
        if self.answer is None:
            raise Forbidden("403", needs="Microsoft.ResourceHealth/availabilityStatuses/read")
        return self.answer


class NeverWaits(threading.Event):
    def wait(self, timeout: float | None = None) -> bool:
        return False


def run(reader: Scripted, *, since: datetime | None = None, was_inaccessible: bool = False) -> WaitResult:
    ticks = iter(range(100))
    return wait_for_ready(
        reader,
        CLUSTER_ID,
        since=since,
        was_inaccessible=was_inaccessible,
        timeout=5,
        poll=1,
        clock=lambda: float(next(ticks)),
        cancel=NeverWaits(),
    )


def available(at: datetime) -> ResourceHealthFacts:
    return ResourceHealthFacts("Available", occurred_time=at)


def test_available_since_after_the_fix_is_recovery() -> None:
    down = ResourceHealthFacts("Unavailable", occurred_time=FIX_AT - timedelta(hours=1))
    reader = Scripted(["Ready"], [down, down, available(FIX_AT + timedelta(minutes=3))])
    result = run(reader, since=FIX_AT)
    assert result.status == "ready"
    assert result.confirmed_by == "resource-health"
    assert result.polls == 3


def test_available_since_before_the_fix_is_not_yet_recovery() -> None:
    reader = Scripted(["Ready"], [available(FIX_AT - timedelta(hours=2))])
    result = run(reader, since=FIX_AT)
    assert result.status == "timeout"
    assert "Resource Health Available" in result.describe()


def test_without_a_fix_to_compare_any_available_counts() -> None:
    result = run(Scripted(["Ready"], [available(FIX_AT - timedelta(days=9))]))
    assert result.status == "ready"


@pytest.mark.parametrize(
    ("statuses", "was_inaccessible", "status"),
    [
        (["Ready"], False, "unconfirmed"),
        (["Updating", "Ready"], False, "unconfirmed"),
        (["Inaccessible", "Inaccessible", "Ready"], False, "ready"),
        (["Ready"], True, "ready"),
    ],
)
def test_without_resource_health_only_arm_leaving_inaccessible_is_evidence(
    statuses: list[str], was_inaccessible: bool, status: str
) -> None:
    result = run(Scripted(statuses, [None]), was_inaccessible=was_inaccessible)
    assert result.status == status
    if status == "unconfirmed":
        assert UNCONFIRMED in result.describe()
    else:
        assert result.confirmed_by == "cluster-status"


def test_a_stopped_cluster_ends_the_wait_at_the_first_poll() -> None:
    result = run(Scripted(["Stopped"], [available(FIX_AT)]))
    assert (result.status, result.polls) == ("cluster-stopped", 1)
    assert "start it" in result.describe()
