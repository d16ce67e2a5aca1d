"""Help: every key of every screen on one page, built from the bindings themselves so it never drifts."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from screens.widgets.keys import KeyedScroll

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
            with KeyedScroll(id="help-scroll"):
                for title, bindings in self.sections:
                    yield Static(f"[b $accent]{escape(title)}[/]", classes="help-heading")
                    yield Static(self._keys(bindings), classes="help-keys")
        yield Footer(show_command_palette=False)

    def shown_keys(self, bindings: Sequence[Binding]) -> list[tuple[str, str]]:
        """(key, what it does) for each key of a section: a key bound twice (by a pane and by its
        screen) shows once, with both meanings."""
        rows: dict[str, str] = {}
        for binding in bindings:
            key, what = self.app.get_key_display(binding), binding.tooltip or binding.description
            rows[key] = f"{rows[key]}; {what}" if key in rows and what not in rows[key] else what
        return list(rows.items())

    def plain_text(self) -> str:
        """Every heading and key line, as text."""
        lines: list[str] = []
        for title, bindings in self.sections:
            lines += [title, *(f"{key}  {what}" for key, what in self.shown_keys(bindings))]
        return "\n".join(lines)

    def _keys(self, bindings: Sequence[Binding]) -> Table:
        """A two-column grid, so a long line wraps under its own text, not under the key."""
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=13, no_wrap=True)
        grid.add_column(ratio=1)
        for key, what in self.shown_keys(bindings):
            grid.add_row(Text(key, style="bold"), Text(what))
        return grid

    def action_close(self) -> None:
        """Back to where the operator was."""
        self.dismiss()
