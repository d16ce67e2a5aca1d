"""How each service says "slow down": ARM and Key Vault send Retry-After (azure-core honours it);
Resource Graph sends its quota headers and no Retry-After, on a POST, which azure-core does not
retry. This module reads Resource Graph's reset time and retries its queries within the budget."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError

T = TypeVar("T")
GRAPH_ATTEMPTS = 5
"""How many times one Resource Graph query is sent before its 429 is the answer."""
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


def quota_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until the quota window resets (`x-ms-user-quota-resets-after`, [d.]hh:mm:ss)."""
    raw = next((v for k, v in headers.items() if k.lower() == "x-ms-user-quota-resets-after"), None)
    match = _TIMESPAN.match(str(raw).strip()) if raw is not None else None
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def graph_with_retries(
    query: Callable[[], T],
    *,
    max_wait: float,
    sleep: Callable[[float], None] | None = None,
    attempts: int = GRAPH_ATTEMPTS,
) -> T:
    """`query()`, sent again after a 429 once the quota window resets (at least 1 s, at most
    `max_wait` per wait, `attempts` sends in all); any other error, or a reset beyond the budget,
    is raised at once."""
    pause = sleep or (lambda seconds: threading.Event().wait(seconds))
    for attempt in range(1, attempts + 1):
        try:
            return query()
        except HttpResponseError as exc:
            if exc.status_code != 429 or attempt == attempts:
                raise
            headers: Any = getattr(exc.response, "headers", None) or {}
            wait = max(quota_wait(headers) or 1.0, 1.0)
            if wait > max_wait:
                raise
            pause(wait)
    raise AssertionError("unreachable")  # pragma: no cover
