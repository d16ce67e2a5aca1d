"""A scrollable pane of short text blocks, so wrapped lines keep their indentation (set in CSS)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.widgets import Static

Block = tuple[str, str]
"""(CSS class, content markup): the class decides indentation and emphasis."""


class DetailPane(VerticalScroll, can_focus=True):
    """Updates blocks in place (no remounting per progress message) and adds or drops the difference."""

    def show(self, blocks: Sequence[Block], *, scroll_home: bool = False) -> None:
        """Replace what the pane says."""
        existing = list(self.query_children(Static))
        for widget, (css_class, markup) in zip(existing, blocks, strict=False):
            widget.update(markup)
            widget.set_classes(css_class)
        if len(blocks) > len(existing):
            missing = blocks[len(existing):]
            self.mount_all([Static(markup, classes=css_class) for css_class, markup in missing])
        for widget in existing[len(blocks):]:
            widget.remove()
        if scroll_home:
            self.scroll_home(animate=False)

    def text(self) -> str:
        """Everything the pane shows, as plain text (tests and copy-out)."""
        return "\n".join(str(widget.visual) for widget in self.query_children(Static))
