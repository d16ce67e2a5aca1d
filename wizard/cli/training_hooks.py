"""Where `serve --drill` meets the drill command of issue 15 (branch i15a): one hook, wired once the
drill's app factory (seed, level) is on main."""

from __future__ import annotations

from typing import Protocol

from wizard.cli.room_files import Room
from wizard.domain.errors import BadInput

DRILLS_MISSING = (
    "serve --drill needs the drill command (issue 15, drills), which this build does not have yet"
)


class RunnableSeat(Protocol):
    """What a drill seat gives back: something to run until the trainee leaves (its exit code)."""

    def run(self) -> int:
        """Run the seat."""
        ...


def drills_available() -> bool:
    """Whether `serve --drill` can start a room: checked before the room opens, not per seat."""
    return False


def build_drill_seat(*, seed: int, level: int, room: Room, seat: str) -> RunnableSeat:
    """HOOK: the drill seat, from the drill's app factory (seed, level), publishing to `room` as
    `seat` does for a scenario. Until the drill command lands this refuses in one line."""
    raise BadInput(DRILLS_MISSING)
