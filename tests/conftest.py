"""Shared fixtures: the embedded emulator behind the real gateway, per scenario."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, settings

from wizard.cli.wiring import OFFLINE_VARIABLE, EmulatorBackend, Options

T = TypeVar("T")


class BackendFactory(Protocol):
    """What the `emulator_backend` fixture hands out: a scenario (or estate file) in, a backend out."""

    def __call__(
        self,
        scenario: str,
        *,
        read_only: bool = False,
        retry_total: int = 0,
        latency_ms: int = 0,
        status_mode: str | None = None,
    ) -> EmulatorBackend: ...


# Tests never reach real Azure (nor the instance metadata address a live credential probes):
# the composition root refuses live mode, here and in every subprocess the tests start.
os.environ[OFFLINE_VARIABLE] = "1"
# The operator's own settings never reach the code under test.
for _name in [n for n in os.environ if n.startswith("CMK_WIZARD_") and n != OFFLINE_VARIABLE]:
    del os.environ[_name]
os.environ.pop("NO_COLOR", None)
# Nor its state: the default audit log (whose pending undos a fix completes first) and reports go
# to a directory of this test run's own, here and in every subprocess.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="cmk-wizard-tests-state-")

# `make test` (and so CI) runs the same examples every time; plain `pytest` explores new ones.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def emulator_backend() -> Iterator[BackendFactory]:
    """Build emulator-backed backends (real SDK clients, HTTPS on 127.0.0.1); all closed after."""
    made: list[EmulatorBackend] = []

    def make(
        scenario: str,
        *,
        read_only: bool = False,
        retry_total: int = 0,
        latency_ms: int = 0,
        status_mode: str | None = None,
    ) -> EmulatorBackend:
        backend = EmulatorBackend(
            Options(read_only=read_only, retry_total=retry_total),
            scenario=scenario,
            latency_ms=latency_ms,
            status_mode=status_mode,
        )
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


STATUS_MODES = ("documented", "arm-enum")
"""The emulator's two ways of showing lost key access: clusterStatus Inaccessible, or Ready throughout."""


def in_both_status_modes(scenarios: Iterable[str]) -> list[tuple[str, str]]:
    """pytest params: each scenario in each status mode."""
    return [(scenario, mode) for scenario in scenarios for mode in STATUS_MODES]


def until(predicate: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll `predicate` until it is truthy or the deadline passes, and return its last value (a
    deadline, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        pause.wait(0.02)
