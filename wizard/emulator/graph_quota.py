"""Resource Graph's per-user quota: a window of queries, its headers, and the 429 it answers when spent.

The service says a user may send "for example, 15 queries within every 5-second window"; every
answer carries `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after` (hh:mm:ss), and a
throttled query is a 429 with the same headers and NO Retry-After (the recording in
azure-recordings/resourcegraph shows the headers on a 200). UNVERIFIED: the exact body of the 429
(the error code `RateLimiting` is from the service's throttling guidance, not from a recording).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_QUERIES = 15
DEFAULT_WINDOW_SECONDS = 5.0


def resets_after(seconds: float) -> str:
    """A wait as the service writes it: hh:mm:ss, rounded up to the second."""
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@dataclass
class GraphQuota:
    """The quota window; `enforced` makes a spent window answer 429 (off: headers only, never 429).

    `throttle_next` answers the next N queries 429 whatever the window says (a throttling fault)."""

    queries: int = DEFAULT_QUERIES
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    enforced: bool = False
    throttle_next: int = 0
    _window_start: float = field(default=float("-inf"), repr=False)
    _used: int = field(default=0, repr=False)

    def charge(self, now: float | None = None) -> tuple[bool, dict[str, str]]:
        """Count one query: (allowed, the quota headers to send with its answer)."""
        now = time.monotonic() if now is None else now
        if now - self._window_start >= self.window_seconds:
            self._window_start, self._used = now, 0
        left = self.window_seconds - (now - self._window_start)
        throttled = self.throttle_next > 0 or (self.enforced and self._used >= self.queries)
        if self.throttle_next > 0:
            self.throttle_next -= 1
        if not throttled:
            self._used += 1
        remaining = 0 if throttled else max(0, self.queries - self._used)
        headers = {
            "x-ms-user-quota-remaining": str(remaining),
            "x-ms-user-quota-resets-after": resets_after(left),
            "x-ms-ratelimit-remaining-tenant-resource-requests": str(remaining),
        }
        return not throttled, headers

    def settings(self) -> dict[str, Any]:
        """The window in the admin endpoint's words."""
        return {
            "quotaQueries": self.queries,
            "quotaWindowSeconds": self.window_seconds,
            "enforceQuota": self.enforced,
            "throttleNext": self.throttle_next,
        }

    def update(self, settings: dict[str, Any]) -> None:
        """Apply admin settings, all checked before any is applied; ValueError names the bad one."""
        unknown = set(settings) - set(self.settings())
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        checks = {
            "quotaQueries": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10_000,
            "quotaWindowSeconds": lambda v: (
                isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 3600
            ),
            "enforceQuota": lambda v: isinstance(v, bool),
            "throttleNext": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10_000,
        }
        for name, value in settings.items():
            if not checks[name](value):
                raise ValueError(f"{name}: {value!r} is out of range")
        self.queries = settings.get("quotaQueries", self.queries)
        self.window_seconds = float(settings.get("quotaWindowSeconds", self.window_seconds))
        self.enforced = settings.get("enforceQuota", self.enforced)
        self.throttle_next = settings.get("throttleNext", self.throttle_next)
