"""The one-line bar at the top of every screen: where we are connected, as whom, and read-only."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class ContextBar(Horizontal):
    """Mirrors the app's `context_line` and `read_only` so every screen shows who is asking."""

    def compose(self) -> ComposeResult:
        """Who and where on the left, the read-only badge on the right."""
        yield Static(id="context-who")
        yield Static(" READ-ONLY ", id="context-read-only")

    def on_mount(self) -> None:
        """Follow the app's reactives for the life of the screen."""
        self.watch(self.app, "context_line", self._show_context)
        self.watch(self.app, "read_only", self._show_read_only)

    def _show_context(self, line: str) -> None:
        self.query_one("#context-who", Static).update(line)

    def _show_read_only(self, read_only: bool) -> None:
        self.query_one("#context-read-only", Static).display = read_only
