"""Fault injection: latency, seeded 429/503/timeout/lost-write faults, and a hold that stalls every answer."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

from wizard.emulator.estate import restriction_problem
from wizard.emulator.wire import Request, Response, arm_error, kv_error

FAULT_KINDS = ("429", "503", "timeout", "lost-write")
UNCHANGED_LIMIT = -1
"""The `fault_limit` that leaves the limit as it is (None means no limit)."""
NO_FAULT = "none"
LOST_WRITE = "lost-write"
"""Carry the write out, then drop the connection before the answer."""


def is_graph_query(request: Request) -> bool:
    """A Resource Graph query: a POST that reads, whatever answers it."""
    return request.host == "arm" and request.path.rstrip("/").lower().endswith(
        "/providers/microsoft.resourcegraph/resources"
    )


def check_settings(
    latency_ms: int | None,
    fault_rate: float | None,
    restrictions: Iterable[str] | None,
    fault_kinds: list[str] | tuple[str, ...] | None,
    fault_limit: int | None,
) -> None:
    """ValueError naming the first bad value, before anything changes (None leaves a setting as it is)."""
    if latency_ms is not None and (
        isinstance(latency_ms, bool) or not isinstance(latency_ms, int) or not 0 <= latency_ms <= 60_000
    ):
        raise ValueError(f"latencyMs must be an integer from 0 to 60000, got {latency_ms!r}")
    if fault_rate is not None and (
        isinstance(fault_rate, bool)
        or not isinstance(fault_rate, int | float)
        or not 0.0 <= fault_rate <= 1.0
    ):
        raise ValueError(f"faultRate must be a number from 0 to 1, got {fault_rate!r}")
    if restrictions is not None:
        for r in restrictions:
            problem = restriction_problem(r)
            if problem is not None:
                raise ValueError(problem)
    if fault_kinds is not None and (not fault_kinds or any(k not in FAULT_KINDS for k in fault_kinds)):
        raise ValueError(f"faultKinds must be a non-empty list of {', '.join(FAULT_KINDS)}")
    if (
        fault_limit is not None
        and fault_limit != UNCHANGED_LIMIT
        and (isinstance(fault_limit, bool) or not isinstance(fault_limit, int) or fault_limit < 0)
    ):
        raise ValueError(f"faultLimit must be a non-negative integer or null, got {fault_limit!r}")


class FaultInjector:
    """The fault settings and the seeded dice that apply them, plus the hold tests use to stall Azure.

    It shares the emulator's lock, so a settings change is atomic with the restrictions beside it.
    """

    def __init__(self, lock: threading.RLock, stopping: threading.Event, seed: str) -> None:
        self._lock = lock
        self._stopping = stopping
        self.latency_ms = 0
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = ("429", "503")
        self.fault_limit: int | None = None
        self.timeout_seconds = 30.0
        self._rng = random.Random(seed)
        self._answering = threading.Event()
        self._answering.set()
        self._held = 0
        self._matching: Callable[[str, str, str], bool] | None = None
        self._released = threading.Event()  # set: no request is held by `hold_matching`
        self._released.set()

    def apply(
        self,
        latency_ms: int | None,
        fault_rate: float | None,
        fault_kinds: list[str] | tuple[str, ...] | None,
        fault_limit: int | None,
    ) -> None:
        """Take checked settings (see `check_settings`); the caller holds the lock."""
        if latency_ms is not None:
            self.latency_ms = latency_ms
        if fault_rate is not None:
            self.fault_rate = float(fault_rate)
        if fault_kinds is not None:
            self.fault_kinds = tuple(fault_kinds)
        if fault_limit != UNCHANGED_LIMIT:
            self.fault_limit = fault_limit

    def settings(self) -> dict[str, Any]:
        """The current settings in the admin endpoint's words; the caller holds the lock."""
        return {
            "latencyMs": self.latency_ms,
            "faultRate": self.fault_rate,
            "faultKinds": list(self.fault_kinds),
            "faultLimit": self.fault_limit,
        }

    def inject(self, request: Request) -> Response | str | None:
        """The fault for this request, if the dice say so (deterministic, seeded).

        NO_FAULT, LOST_WRITE, an error response to send instead, or None once a timeout has been
        waited out (drop the connection). `lost-write` applies only to authenticated writes: the
        write is carried out, then the connection drops before the answer, as when Azure took a
        write and the reply was lost.
        """
        authenticated_write = (
            request.method in ("PUT", "PATCH", "DELETE", "POST")
            and bool(request.headers.get("authorization"))
            and not request.path.endswith("/resources")
        )
        with self._lock:
            if self.fault_rate <= 0.0 or self.fault_limit == 0:
                return NO_FAULT
            kinds = [k for k in self.fault_kinds if k != LOST_WRITE or authenticated_write]
            if not kinds or self._rng.random() >= self.fault_rate:
                return NO_FAULT
            kind = self._rng.choice(kinds)
            if self.fault_limit is not None:
                self.fault_limit -= 1
        if kind == LOST_WRITE:
            return LOST_WRITE
        if kind == "timeout":
            self._stopping.wait(self.timeout_seconds)
            return None
        if kind == "429":
            return self._throttled(request)
        return arm_error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry.",
            {"Retry-After": "1"},
        )

    def _throttled(self, request: Request) -> Response:
        """A 429 as each service sends it: ARM with Retry-After and its remaining-budget header,
        Resource Graph with its quota headers and no Retry-After (a POST azure-core will not retry),
        Key Vault with Retry-After on every other one (seeded) and without on the rest (both seen)."""
        if is_graph_query(request):
            return arm_error(
                429,
                "RateLimiting",
                "Please provide below info when asking for support: the request was throttled "
                "because the user quota of queries was exceeded.",
                {"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:01"},
            )
        if request.host == "arm":
            budget = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(request.method, "writes")
            return arm_error(
                429,
                "TooManyRequests",
                "The request is being throttled as the limit has been "
                "reached for operation type - Read_ObservationWindow_00:05:00. For more details, "
                "see https://aka.ms/armthrottling",
                {"Retry-After": "1", f"x-ms-ratelimit-remaining-subscription-{budget}": "0"},
            )
        with self._lock:
            with_retry_after = self._rng.random() < 0.5
        return kv_error(
            429,
            "Throttled",
            "Request was not allowed because the vault's request rate limit was exceeded.",
            headers={"Retry-After": "1"} if with_retry_after else {},
        )

    def wait_latency(self) -> bool:
        """Sleep the configured latency; False when the emulator stops meanwhile (drop the connection)."""
        latency = self.latency_ms
        return not (latency and self._stopping.wait(latency / 1000.0))

    def hold(self) -> None:
        """Stop answering until `release`."""
        self._answering.clear()

    def hold_matching(self, matches: Callable[[str, str, str], bool]) -> None:
        """Hold the requests `matches(host, method, path)` accepts until `release`; answer the rest."""
        with self._lock:
            self._matching = matches
            self._released.clear()

    def release(self) -> None:
        """Answer the held requests and every later one."""
        with self._lock:
            self._matching = None
            self._released.set()
        self._answering.set()

    def held(self) -> int:
        """How many requests are waiting on `hold` right now."""
        with self._lock:
            return self._held

    def wait_while_held(self, host: str = "", method: str = "", path: str = "") -> bool:
        """Block while held (all, or this request by `hold_matching`); False when the emulator stops
        meanwhile (the connection is dropped)."""
        with self._lock:
            selected = self._matching is not None and self._matching(host, method, path)
        gates = (self._answering, self._released) if selected else (self._answering,)
        if all(g.is_set() for g in gates):
            return True
        with self._lock:
            self._held += 1
        try:
            for gate in gates:
                while not gate.wait(0.02):
                    if self._stopping.is_set():
                        return False
            return True
        finally:
            with self._lock:
                self._held -= 1
