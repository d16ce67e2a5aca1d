"""Small helpers for Pilot tests: settle without sleeping, read what a screen shows."""

from __future__ import annotations

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
    await pilot.pause()


def shown(app: App[int], selector: str) -> str:
    """The plain text of a Static or a DetailPane on the current screen."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, DetailPane):
        return widget.text()
    assert isinstance(widget, Static)
    return str(widget.visual)
