"""UI fixtures: backends to drive the app with, fake (fast, for snapshots) and emulator-backed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.ui.fakes import FakeBackend
from wizard.domain.ports import Backend

MakeBackend = Callable[..., Backend]
"""make(scenario, *, read_only=False) -> a Backend whose default cluster is the scenario's."""


@pytest.fixture
def fake_backend() -> MakeBackend:
    """Fake backends over our own dataclasses: fast, fixed dates, fit for snapshots."""

    def make(scenario: str, *, read_only: bool = False, open_default: bool = True) -> Backend:
        return FakeBackend(scenario, read_only=read_only, open_default=open_default)

    return make


@pytest.fixture(params=["fake", "emulator"])
def wizard_backend(request: pytest.FixtureRequest, fake_backend: MakeBackend) -> MakeBackend:
    """Flow tests run over the fake and over the real gateway and emulator (a broken emulator fails)."""
    if request.param == "fake":
        return fake_backend
    make_emulator: MakeBackend = request.getfixturevalue("emulator_backend")

    def make(scenario: str, *, read_only: bool = False) -> Backend:
        return make_emulator(scenario, read_only=read_only)

    return make
