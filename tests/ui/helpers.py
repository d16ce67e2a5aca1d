"""Small helpers for Pilot tests: settle without sleeping, read what a screen shows."""

from __future__ import annotations

import time

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from screens.widgets.detail_pane import DetailPane


async def settle(pilot: Pilot[int]) -> None:
    """Let pushed screens start their workers, wait for every worker, then let messages land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await steady(pilot)


async def steady(pilot: Pilot[int], *, deadline_s: float = 10.0) -> None:
    """Until two screenshots in a row agree: a finished run moves the cursor, which refills the
    detail pane, which lays out again, and on a loaded machine that can trail the messages."""
    loop_deadline = time.monotonic() + deadline_s
    previous = ""
    while time.monotonic() < loop_deadline:
        pilot.app.screen.refresh(layout=True)
        await pilot.pause()
        current = pilot.app.export_screenshot()
        if current == previous:
            return
        previous = current
    raise AssertionError(f"the screen kept changing for {deadline_s} s")


def shown(app: App[int], selector: str) -> str:
    """The plain text of a Static or a DetailPane on the current screen."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, DetailPane):
        return widget.text()
    assert isinstance(widget, Static)
    return str(widget.visual)
