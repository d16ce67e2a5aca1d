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
    """Several `show`s in one frame, shrinking and growing: the last one is shown, whole, in order."""
    app = PaneApp()
    async with app.run_test() as pilot:
        pane = app.query_one(DetailPane)
        pane.show(blocks(13, "a"))
        await pilot.pause()
        for count, tag in ((11, "b"), (15, "c"), (9, "d"), (14, "e")):
            pane.show(blocks(count, tag))
        await pilot.pause()
        shown = [str(widget.visual) for widget in pane.query_children(Static) if widget.display]
        assert shown == [f"e{n}" for n in range(14)]
        assert pane.text().splitlines() == shown
        assert len(pane.children) == 15  # the pool grew to the largest show, nothing was removed


async def test_blocks_given_before_the_pane_is_mounted_are_shown_once_it_is() -> None:
    pane = DetailPane()
    pane.show(blocks(3, "early"))
    app = PaneApp()
    async with app.run_test() as pilot:
        await app.screen.mount(pane)
        await pilot.pause()
        await pilot.pause()
        assert pane.text().splitlines() == ["early0", "early1", "early2"]
