"""SVG snapshots of the drill's screens at 80x24 and 120x40, over the fake backend (fixed data)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from screens.drill import DrillApp, ScorecardScreen
from screens.teach import TeachScreen
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import settle, steady, until
from tests.ui.test_snapshots import SIZES, SnapCompare
from wizard.training.drill import DrillSpec
from wizard.training.scorecard import DrillRecord, PathStep


class FixedJudge:
    """The end of a drill without an emulator: a fixed verdict, path and place."""

    def came_back(self) -> bool:
        """Not yet."""
        return False

    def shortest_path(self) -> list[PathStep]:
        """The key-expired fix."""
        return [PathStep("extend-key-expiry", "KEY_EXPIRED", "Extend the key's expiry date")]

    def save(self, card: dict[str, Any]) -> str:
        """Nowhere: a fixed path for the picture."""
        return "/srv/room/ann-seed7-level1.json"


def drill(*, teach: bool = False) -> DrillApp:
    backend = FakeBackend("key-expired")
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    record = DrillRecord(DrillSpec(7, 1, ("KEY_EXPIRED",)), "ann", clock, teach=teach)
    return DrillApp(backend, record, FixedJudge(), terminal_colours=False)


@pytest.mark.parametrize("size", SIZES)
def test_drill_briefing(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The briefing: seed and level, the keys, never the cause."""
    assert snap_compare(drill(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_teach_mode_question(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Teach mode's first node, before the prediction."""

    async def begin(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, TeachScreen) and bool(app.screen.lessons))
        await steady(pilot)

    assert snap_compare(drill(teach=True), terminal_size=size, run_before=begin)


@pytest.mark.parametrize("size", SIZES)
def test_drill_scorecard(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The scorecard and the reveal of a drill ended at once."""

    async def end(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("e")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, ScorecardScreen) and app.screen.card is not None)
        await steady(pilot)

    assert snap_compare(drill(), terminal_size=size, run_before=end)
