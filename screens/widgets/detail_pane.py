"""A scrollable pane of short text blocks, so wrapped lines keep their indentation (set in CSS)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.widgets import Static

Block = tuple[str, str]
"""(CSS class, content markup): the class decides indentation and emphasis."""


class DetailPane(VerticalScroll, can_focus=True):
    """Updates blocks in place (no remounting per progress message) and adds or drops the difference.

    It keeps its own list of live blocks: Textual removes a widget later, by message, so the DOM
    still holds widgets on their way out when the next `show` comes in the same frame."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._blocks: list[Static] = []

    def show(self, blocks: Sequence[Block], *, scroll_home: bool = False) -> None:
        """Replace what the pane says."""
        for widget, (css_class, markup) in zip(self._blocks, blocks, strict=False):
            widget.update(markup)
            widget.set_classes(css_class)
        if len(blocks) > len(self._blocks):
            added = [Static(markup, classes=css_class) for css_class, markup in blocks[len(self._blocks):]]
            self._blocks += added
            self.mount_all(added)
        for widget in self._blocks[len(blocks):]:
            widget.remove()
        del self._blocks[len(blocks):]
        if scroll_home:
            self.scroll_home(animate=False)

    def text(self) -> str:
        """Everything the pane shows, as plain text (tests and copy-out)."""
        return "\n".join(str(widget.visual) for widget in self._blocks)
