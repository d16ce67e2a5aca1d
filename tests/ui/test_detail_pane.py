"""The detail pane shows exactly the last blocks it was given, however fast they come."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from screens.widgets.detail_pane import Block, DetailPane


class PaneApp(App[None]):
    """Just the pane."""

    def compose(self) -> ComposeResult:
        yield DetailPane()


def blocks(count: int, tag: str) -> list[Block]:
    """`count` one-line blocks, each naming its tag and position."""
    return [("field", f"{tag}{n}") for n in range(count)]


async def test_shows_in_one_frame_that_shrink_then_grow_keep_every_block() -> None:
    """Removing a widget finishes later (Textual prunes it by message): a second `show` in the
    same frame must neither reuse a widget that is on its way out nor count it as present."""
    app = PaneApp()
    async with app.run_test() as pilot:
        pane = app.query_one(DetailPane)
        pane.show(blocks(13, "a"))
        await pilot.pause()
        for count, tag in ((11, "b"), (15, "c"), (9, "d"), (14, "e")):
            pane.show(blocks(count, tag))
        await pilot.pause()
        shown = [str(widget.visual) for widget in pane.query_children(Static)]
        assert shown == [f"e{n}" for n in range(14)]
        assert pane.text().splitlines() == shown
