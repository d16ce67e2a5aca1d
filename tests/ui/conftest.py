"""UI fixtures: backends to drive the app with, fake (fast, for snapshots) and emulator-backed."""

from __future__ import annotations

from typing import Protocol

import pytest

from tests.conftest import BackendFactory
from tests.ui.fakes import FakeBackend
from wizard.domain.ports import Backend


class MakeBackend(Protocol):
    """make(scenario, *, read_only=False) -> a Backend whose default cluster is the scenario's."""

    def __call__(self, scenario: str, *, read_only: bool = False) -> Backend: ...


class MakeFakeBackend(Protocol):
    """The fake's maker also says whether the app opens the default cluster on start."""

    def __call__(self, scenario: str, *, read_only: bool = False, open_default: bool = True) -> Backend: ...


@pytest.fixture
def fake_backend() -> MakeFakeBackend:
    """Fake backends over our own dataclasses: fast, fixed dates, fit for snapshots."""

    def make(scenario: str, *, read_only: bool = False, open_default: bool = True) -> Backend:
        return FakeBackend(scenario, read_only=read_only, open_default=open_default)

    return make


@pytest.fixture(params=["fake", "emulator"])
def wizard_backend(request: pytest.FixtureRequest, fake_backend: MakeFakeBackend) -> MakeBackend:
    """Flow tests run over the fake and over the real gateway and emulator (a broken emulator fails)."""
    if request.param == "fake":
        return fake_backend
    make_emulator: BackendFactory = request.getfixturevalue("emulator_backend")

    def make(scenario: str, *, read_only: bool = False) -> Backend:
        return make_emulator(scenario, read_only=read_only)

    return make
