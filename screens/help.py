"""Help: every key of every screen on one page, built from the bindings themselves so it never drifts."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static

HelpSection = tuple[str, Sequence[Binding]]


class HelpScreen(ModalScreen[None]):
    """A modal listing keys by screen; escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        """A titled, scrollable box."""
        with Vertical(id="help-box"):
            yield Static("[b]Keys[/]  ·  escape closes", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(self._text(), id="help-text")

    def _text(self) -> str:
        lines: list[str] = []
        for title, bindings in self.sections:
            lines.append(f"[b $accent]{escape(title)}[/]")
            for binding in bindings:
                key = escape(self.app.get_key_display(binding))
                what = binding.tooltip or binding.description
                lines.append(f"  [b]{key:<10}[/] {escape(what)}")
            lines.append("")
        return "\n".join(lines).rstrip()

    def action_close(self) -> None:
        """Back to where the operator was."""
        self.dismiss()
