"""SVG snapshots of the main screens at 80x24 and 120x40, over the fake backend (fixed data, no times)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import PurePath
from typing import Any, Protocol

import pytest
from textual.app import App
from textual.pilot import Pilot

from screens.app import WizardApp
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import settle, steady, until


class SnapCompare(Protocol):
    """pytest-textual-snapshot's `snap_compare` fixture (the plugin annotates it as taking a path only)."""

    def __call__(
        self,
        app: str | PurePath | App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool: ...


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def _app(
    scenario: str, *, open_cluster: bool, read_only: bool = False, colours: bool | None = False
) -> WizardApp:
    backend = FakeBackend(scenario, read_only=read_only, open_default=open_cluster)
    return WizardApp(backend, cluster_id=backend.default_cluster_id(), terminal_colours=colours)


@pytest.mark.parametrize("size", SIZES)
def test_start_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The fleet view, read-only banner on, the broken cluster first, cursor on it."""
    assert snap_compare(
        _app("key-expired", open_cluster=False, read_only=True), terminal_size=size, run_before=settle
    )


@pytest.mark.parametrize("size", SIZES)
def test_fleet_view_grouped_by_vault(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The fleet view grouped by vault (`g` twice): each vault's heading, then its clusters."""

    async def group(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("g", "g")
        await steady(pilot)

    assert snap_compare(_app("multi-fault", open_cluster=False), terminal_size=size, run_before=group)


@pytest.mark.parametrize("size", SIZES)
def test_diagnosis_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """A finished key-expired diagnosis, the check that found the cause (key.dates) selected."""
    assert snap_compare(_app("key-expired", open_cluster=True), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_findings_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Three causes and the symptom in the order the fix takes them; `j` moves to the second (the
    firewall: the key's plan would show a new expiry date, which moves with the clock)."""

    async def open_findings(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(_app("multi-fault", open_cluster=True), terminal_size=size, run_before=open_findings)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Every key on one page: long lines wrap under their text; only the help's keys in the footer."""

    async def open_help(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(_app("healthy", open_cluster=False), terminal_size=size, run_before=open_help)


async def _open_fix(pilot: Pilot[int]) -> None:
    from screens.findings import FindingsScreen
    from screens.fix import RemediationScreen

    await settle(pilot)
    await pilot.press("f")
    await until(pilot, lambda: isinstance(pilot.app.screen, FindingsScreen), what="the findings")
    await pilot.press("x")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RemediationScreen)
    assert pilot.app.screen.plan is not None


@pytest.mark.parametrize("size", SIZES)
def test_fix_preview_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The first step of the rbac-role-missing plan: change, before → after, REST, az, permission."""
    assert snap_compare(
        _app("rbac-role-missing", open_cluster=True), terminal_size=size, run_before=_open_fix
    )


def test_fix_preview_read_only(snap_compare: SnapCompare) -> None:
    """Read-only: the plan with no apply, skip or wait in the footer."""
    assert snap_compare(
        _app("rbac-role-missing", open_cluster=True, read_only=True),
        terminal_size=(80, 24),
        run_before=_open_fix,
    )


@pytest.mark.parametrize("size", SIZES)
def test_fix_confirm_typed_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The irreversible purge-protection step asks for the vault's name (cursor blink off)."""

    async def open_confirm(pilot: Pilot[int]) -> None:
        from textual.widgets import Input

        await _open_fix(pilot)
        await pilot.press("a")
        await until(pilot, lambda: bool(pilot.app.screen.query(Input)), what="the confirmation")
        pilot.app.screen.query_one(Input).cursor_blink = False
        await steady(pilot)

    assert snap_compare(
        _app("purge-protection-off", open_cluster=True), terminal_size=size, run_before=open_confirm
    )


@pytest.mark.parametrize("size", SIZES)
def test_fix_confirm_yes_no_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """An ordinary write asks yes or no."""

    async def open_confirm(pilot: Pilot[int]) -> None:
        await _open_fix(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(
        _app("rbac-role-missing", open_cluster=True), terminal_size=size, run_before=open_confirm
    )


COLOUR_MODES = [
    pytest.param({"NO_COLOR": "1"}, False, id="no-color"),
    pytest.param({}, True, id="colours-terminal"),
    pytest.param({"TERM": "screen"}, None, id="term-screen"),
]


@pytest.mark.parametrize(("environ", "colours"), COLOUR_MODES)
@pytest.mark.parametrize("size", SIZES)
def test_colour_modes(
    snap_compare: SnapCompare,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
    environ: dict[str, str],
    colours: bool | None,
) -> None:
    """The checklist with the failing check selected and the details pane unfocused, in each
    colour mode: the selected ✗ and the pane's border stay readable."""
    for name in ("NO_COLOR", "COLORTERM", "CMK_WIZARD_COLOURS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert snap_compare(
        _app("key-expired", open_cluster=True, colours=colours), terminal_size=size, run_before=settle
    )
