"""Timestamps as the plans, the writes, the audit log and the reports spell them: UTC, with a Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, overload

# "auto" keeps what the moment carries (evidence shows Azure's own precision).
Precision = Literal["seconds", "milliseconds", "auto"]


@overload
def iso(moment: datetime, precision: Precision = "seconds") -> str: ...


@overload
def iso(moment: datetime | None, precision: Precision = "seconds") -> str | None: ...


def iso(moment: datetime | None, precision: Precision = "seconds") -> str | None:
    """`2026-10-01T12:00:00Z` (or with milliseconds for the audit log's record times); None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec=precision).replace("+00:00", "Z")


def utc_seconds(moment: datetime) -> datetime:
    """The moment in UTC to the whole second: what `iso` shows is then exactly what is sent."""
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_iso(value: str | datetime) -> datetime:
    """An ISO timestamp (a trailing Z allowed) as an aware datetime; a naive one is taken as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
