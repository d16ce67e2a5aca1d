"""A seat tells its room what it is doing: its screen, the findings of its last diagnosis, and the
connection file of its own emulator, which the trainer then reaches; closing removes that file."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.ui.helpers import settle, until
from wizard.cli.room_files import Room
from wizard.cli.seat import SeatApp, SeatBackend
from wizard.cli.trainer_desk import RoomSeats
from wizard.cli.wiring import Options
from wizard.domain.training import SeatProgress


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
