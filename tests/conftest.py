"""Shared fixtures: the embedded emulator behind the real gateway, per scenario."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from wizard.backends import OFFLINE_VARIABLE, EmulatorBackend, Options

BackendFactory = Callable[..., EmulatorBackend]

# Tests never reach real Azure (nor the instance metadata address a live credential probes):
# the composition root refuses live mode, here and in every subprocess the tests start.
os.environ[OFFLINE_VARIABLE] = "1"


@pytest.fixture
def emulator_backend() -> Iterator[BackendFactory]:
    """Build emulator-backed backends (real SDK clients, HTTPS on 127.0.0.1); all closed after."""
    made: list[EmulatorBackend] = []

    def make(scenario: str, *, read_only: bool = False, retry_total: int = 0,
             **kwargs: object) -> EmulatorBackend:
        backend = EmulatorBackend(Options(read_only=read_only, retry_total=retry_total),
                                  scenario=scenario, **kwargs)  # type: ignore[arg-type]
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()
