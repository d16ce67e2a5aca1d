"""A scrollable pane of short text blocks, so wrapped lines keep their indentation (set in CSS)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.widgets import Static

from screens.widgets.keys import KeyedScroll, relabel

Block = tuple[str, str]
"""(CSS class, content markup): the class decides indentation and emphasis."""


class _Block(Static):
    """One block; tells its pane when it is mounted."""

    def on_mount(self) -> None:
        """The pane applies what it was asked to show once every block is mounted (after this
        handler: Textual marks the widget mounted when its Mount handlers have returned)."""
        if isinstance(self.parent, DetailPane):
            self.call_after_refresh(self.parent.block_mounted)


class DetailPane(KeyedScroll, can_focus=True):
    """Shows blocks in a pool of Statics: updated in place, hidden when not needed, mounted only
    when the pool is short, never removed.

    Two Textual timings make the obvious version lay out wrongly on a busy machine: a removed
    widget is pruned later, by message, so remove-then-add in one frame loses blocks or leaves
    gaps; and a widget updated before its Mount event keeps the size measured for its old text.
    So nothing is removed, and while new blocks are mounting the pane waits for them before it
    updates any block.

    escape goes back one level: from the pane to its list (`back_to`), whose name the footer shows."""

    BINDINGS = [
        Binding("escape", "leave", "List", id="pane.back", tooltip="Back from the details to the list"),
    ]

    def __init__(
        self,
        *,
        id: str | None = None,
        classes: str | None = None,
        back_to: str = "",
        back_label: str = "List",
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.back_to = back_to
        relabel(self, "leave", back_label)
        self._pool: list[_Block] = []
        self._wanted: list[Block] = []
        self._scroll_home = False
        self._shown = 0

    def show(self, blocks: Sequence[Block], *, scroll_home: bool = False) -> None:
        """Replace what the pane says."""
        self._wanted = list(blocks)
        self._scroll_home = self._scroll_home or scroll_home
        if not self.is_attached:
            return  # shown from on_mount
        if len(self._wanted) > len(self._pool):
            missing = self._wanted[len(self._pool) :]
            added = [_Block(markup, classes=css_class) for css_class, markup in missing]
            self._pool += added
            self.mount_all(added)
        self.block_mounted()

    def on_mount(self) -> None:
        """Show what was asked before the pane was in the DOM."""
        if self._wanted:
            self.show(self._wanted)

    def block_mounted(self) -> None:
        """Apply the wanted blocks once every block of the pool is mounted."""
        if not all(widget.is_mounted for widget in self._pool):
            return
        for widget, (css_class, markup) in zip(self._pool, self._wanted, strict=False):
            widget.update(markup)
            widget.set_classes(css_class)
            widget.display = True
        for widget in self._pool[len(self._wanted) :]:
            widget.display = False
        self._shown = len(self._wanted)
        if self._scroll_home:
            self._scroll_home = False
            self.scroll_home(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """escape stays with the screen when there is no list to go back to (or it is hidden)."""
        if action == "leave":
            return bool(self.back_to) and any(w.display for w in self.screen.query(self.back_to))
        return True

    def action_leave(self) -> None:
        """Back to the list beside the pane; the screen's own escape is one more press away."""
        self.screen.query_one(self.back_to).focus()

    def text(self) -> str:
        """Everything the pane shows, as plain text (what was asked last shows once its new blocks
        are mounted)."""
        return "\n".join(str(widget.visual) for widget in self._pool[: self._shown])
