"""What changed: Activity Log events behind a diagnosis's findings, and what the log cannot show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

NEEDS_ACTIVITY_READ = (
    "Microsoft.Insights/eventtypes/values/read (Reader or Monitoring Reader on the subscription)"
)


@dataclass(frozen=True)
class ActivityEvent:
    """One Activity Log entry: who did what to which resource, when, and how it ended."""

    time: datetime
    operation: str
    status: str
    caller: str
    correlation_id: str
    resource_id: str
    sub_status: str = ""


@dataclass(frozen=True)
class Lookup:
    """Which operations on which resource would explain a finding, and where the log keeps them."""

    finding: str
    resource_id: str
    subscription_id: str
    resource_group: str
    operations: tuple[str, ...]
    failed_only: bool = False


@dataclass(frozen=True)
class Change:
    """An operation the log shows, matched to the finding it may explain."""

    finding: str
    event: ActivityEvent


@dataclass(frozen=True)
class Unanswered:
    """A finding whose log could not be read (the permission that would let it)."""

    finding: str
    reason: str
    needs: str = ""


@dataclass(frozen=True)
class WhatChanged:
    """The timeline for a diagnosis: changes found, lookups that could not run, what the log cannot show."""

    since: datetime
    until: datetime
    changes: tuple[Change, ...]
    unanswered: tuple[Unanswered, ...]
    not_shown: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """The diagnosis JSON's `whatChanged` object."""
        return {
            "since": self.since.isoformat().replace("+00:00", "Z"),
            "until": self.until.isoformat().replace("+00:00", "Z"),
            "changes": [
                {
                    "finding": c.finding,
                    "time": c.event.time.isoformat().replace("+00:00", "Z"),
                    "operation": c.event.operation,
                    "status": c.event.status,
                    "caller": c.event.caller,
                    "correlationId": c.event.correlation_id,
                    "resourceId": c.event.resource_id,
                }
                for c in self.changes
            ],
            "unknown": [
                {"finding": u.finding, "reason": u.reason, "needs": u.needs or None} for u in self.unanswered
            ],
            "notShown": list(self.not_shown),
        }


class ActivityReader(Protocol):
    """The Activity Log of one resource group (raises a wizard.domain.errors type)."""

    def list_activity(
        self, subscription_id: str, resource_group: str, since: datetime, until: datetime
    ) -> list[ActivityEvent]:
        """Every administrative event in the group between `since` and `until`."""
        ...
