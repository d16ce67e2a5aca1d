"""Shared fixtures: the embedded emulator behind the real gateway, per scenario."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from wizard.backends import EmulatorBackend, Options

BackendFactory = Callable[..., EmulatorBackend]


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
