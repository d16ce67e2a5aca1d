"""Small helpers for Pilot tests: settle without sleeping, read what a screen shows."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from screens.diagnosis import DiagnosisScreen
from screens.fix import RemediationScreen
from screens.start import StartScreen
from screens.widgets.detail_pane import DetailPane


def started(screen: Screen[object]) -> bool:
    """The screen has started the work it does on opening (these two start it after their first
    frame, so that the first frame never waits for the Azure SDK to import)."""
    if isinstance(screen, DiagnosisScreen):
        return screen.generation > 0
    if isinstance(screen, StartScreen):
        return screen.listings > 0
    return True


async def settle(pilot: Pilot[int], *, deadline_s: float = 10.0) -> None:
    """Until every open screen has started its work, wait for every worker, let messages land,
    and the screen stops changing."""
    loop_deadline = time.monotonic() + deadline_s
    await pilot.pause()
    while not all(started(screen) for screen in pilot.app.screen_stack):
        if time.monotonic() > loop_deadline:
            raise AssertionError(f"a screen had not started its work after {deadline_s} s")
        await pilot.pause(0.01)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await steady(pilot)


async def steady(pilot: Pilot[int], *, deadline_s: float = 10.0, agreeing: int = 3) -> None:
    """Until every widget is mounted and `agreeing` screenshots in a row agree: `pause` waits one
    round of messages, and on a starved machine a relayout can take more than one round."""
    loop_deadline = time.monotonic() + deadline_s
    previous, same = "", 0
    while time.monotonic() < loop_deadline:
        pilot.app.screen.refresh(layout=True)
        await pilot.pause()
        current = pilot.app.export_screenshot()
        mounted = all(widget.is_mounted for widget in pilot.app.screen.walk_children(Widget))
        same = same + 1 if current == previous and mounted else 0
        if same >= agreeing - 1:
            return
        previous = current
    raise AssertionError(f"the screen kept changing for {deadline_s} s")


async def until(
    pilot: Pilot[int], condition: Callable[[], object], *, seconds: float = 20.0, what: str = "the screen"
) -> None:
    """Let messages land until `condition()` holds: a deadline, never a fixed sleep, and never a
    wait on workers (a wait-for-Ready worker may run for minutes)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await pilot.pause(0.02)


def shown(app: App[int], selector: str) -> str:
    """The plain text of a Static or a DetailPane on the current screen."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, DetailPane):
        return widget.text()
    assert isinstance(widget, Static)
    return str(widget.visual)


async def fix_from_here(pilot: Pilot[int]) -> RemediationScreen:
    """Press x where the diagnosis is shown, and wait for the Fix screen's plan."""
    app = pilot.app
    await pilot.press("x")
    await until(pilot, lambda: isinstance(app.screen, RemediationScreen), what="the fix")
    fix = app.screen
    assert isinstance(fix, RemediationScreen)
    await until(pilot, lambda: fix.plan is not None and not fix.busy, what="the plan")
    return fix
