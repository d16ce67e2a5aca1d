"""A seat tells its room what it is doing: its screen, the findings of its last diagnosis, and the
connection file of its own emulator, which the trainer then reaches; closing removes that file."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tests.ui.helpers import settle, until
from wizard.cli.room_files import Room
from wizard.cli.seat import SCORECARDS, DrillSeatApp, SeatApp, SeatBackend, seat_app
from wizard.cli.trainer_desk import RoomSeats
from wizard.cli.wiring import Options
from wizard.domain.training import SeatProgress
from wizard.training.drill import draw_drill


async def test_a_seat_publishes_its_progress(tmp_path: Path) -> None:
    room = Room.create(str(tmp_path / "room"))
    backend = SeatBackend(Options(emulator_token="seat-test-token"), scenario="key-disabled")
    try:
        connection = room.connection_file("s1")
        backend.emulator.write_connection_file(connection, with_token=True)
        now = time.time()
        progress = SeatProgress("s1", os.getpid(), now, now, "key-disabled", connection_file=str(connection))
        app = SeatApp(backend, room=room, progress=progress, cluster_id=backend.default_cluster_id())
        assert backend.scenarios() == []  # a seat cannot switch its estate away from the trainer
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await until(pilot, lambda: "KEY_DISABLED" in room.seats()[0].findings, what="the findings")
            seat = room.seats()[0]
            assert seat.screen == "DiagnosisScreen"
            assert seat.diagnoses == 1
            desk = RoomSeats(room).desk(seat)
            assert desk is not None
            assert [h.can_use_key for h in desk.health()] == [False]
            await pilot.press("f")
            await until(pilot, lambda: room.seats()[0].screen == "FindingsScreen", what="the findings screen")
    finally:
        backend.close()
        room.leave("s1")
    assert not connection.exists()
    assert RoomSeats(room).desk(room.seats()[0]) is None


async def test_a_drill_seat_hides_the_causes_from_the_trainee_but_tells_the_room(tmp_path: Path) -> None:
    """`serve --drill`: every seat gets the seeded drill behind the briefing, and the room (and the
    trainer's desk) still sees its progress and reaches its emulator."""
    room = Room.create(str(tmp_path / "room"))
    args = argparse.Namespace(drill=True, seed=7, level=1, scenario=None, revalidate_seconds=0.0)
    app, backend = seat_app(args, room, "d1")
    try:
        assert isinstance(app, DrillSeatApp)
        backend.emulator.write_connection_file(room.connection_file("d1"), with_token=True)
        causes = draw_drill(7, 1).causes
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await until(pilot, lambda: bool(room.seats()), what="the seat's first progress")
            seat = room.seats()[0]
            assert seat.exercise == "drill seed 7 level 1"
            assert seat.screen == "DrillBriefing"
            shown = "\n".join(str(w.render()) for w in app.screen.query("Static"))
            assert not [c for c in causes if c in shown]
            desk = RoomSeats(room).desk(seat)
            assert desk is not None
            assert [h.can_use_key for h in desk.health()] == [False]
    finally:
        backend.close()
        room.leave("d1")
    assert getattr(app.judge, "scorecard_dir", None) == room.root / SCORECARDS
