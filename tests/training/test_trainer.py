"""The trainer's app, driven by Pilot against real emulators over their admin endpoints: apply a
fault, watch the emulator's own verdict turn, undo it, and find every change in the log; with a
room, the seats and their progress, and enter sends the faults to a seat."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList

from screens.trainer import TrainerApp
from tests.ui.helpers import until
from wizard.cli.room_files import Room
from wizard.cli.trainer import JsonlLog
from wizard.cli.trainer_desk import EmulatorDesk, RoomSeats
from wizard.domain.training import SeatProgress
from wizard.emulator import Emulator


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Emulator, Path]]:
    """A healthy estate with a random token, and its connection file (token inside, as standalone)."""
    with Emulator("healthy", token="trainer-test-token") as emu:
        path = tmp_path / "emulator.json"
        emu.write_connection_file(path, with_token=True)
        yield emu, path


def _cells(app: TrainerApp, selector: str) -> list[list[str]]:
    table = app.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_apply_watch_and_undo_a_fault(running: tuple[Emulator, Path], tmp_path: Path) -> None:
    emu, connection = running
    log = tmp_path / "trainer.jsonl"
    app = TrainerApp(EmulatorDesk.from_file(str(connection)), log_change=JsonlLog(log))
    async with app.run_test(size=(120, 40)) as pilot:
        faults = app.query_one("#trainer-faults", OptionList)
        await until(pilot, lambda: faults.option_count > 0, what="the faults")
        assert "Key expired" in str(faults.get_option_at_index(0).prompt)  # the catalogue's title
        await until(pilot, lambda: _cells(app, "#trainer-health") != [], what="the health")
        assert _cells(app, "#trainer-health")[0][2] == "yes"
        await pilot.press("a")
        await until(pilot, lambda: _cells(app, "#trainer-changes") != [], what="the change")
        assert not emu.health()["clusters"][emu.connection["clusters"][0]]["canUseKey"]
        await until(pilot, lambda: _cells(app, "#trainer-health")[0][2] == "no", what="the verdict")
        assert "key-expired" in _cells(app, "#trainer-health")[0][3]
        assert _cells(app, "#trainer-changes")[0][1:] == ["key-expired", "cluster-healthy", "in force"]
        await pilot.press("u")
        await until(pilot, lambda: _cells(app, "#trainer-changes")[0][3] == "undone", what="the undo")
        await until(pilot, lambda: _cells(app, "#trainer-health")[0][2] == "yes", what="the verdict")
        await pilot.press("u")  # undoing it twice is refused, and logged
        await until(pilot, lambda: len(_records(log)) == 3, what="the third record")
    records = _records(log)
    assert [(r["verb"], r["result"]) for r in records] == [("apply", "ok"), ("undo", "ok"), ("undo", "error")]
    assert records[0]["fault"] == "key-expired"
    assert "trainer-test-token" not in log.read_text()


async def test_a_room_lists_its_seats_and_enter_breaks_one(
    running: tuple[Emulator, Path], tmp_path: Path
) -> None:
    emu, connection = running
    room = Room.create(str(tmp_path / "room"))
    now = time.time()
    room.write_progress(
        SeatProgress(
            "seat0001",
            os.getpid(),
            now,
            now,
            "key-expired",
            screen="FindingsScreen",
            findings=("KEY_EXPIRED",),
            diagnoses=1,
            connection_file=str(connection),
        )
    )
    room.write_progress(SeatProgress("seat0002", 2**22 + 1, now + 1, now + 1, "key-expired"))
    app = TrainerApp(None, log_change=JsonlLog(tmp_path / "log.jsonl"), room=RoomSeats(room))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(_cells(app, "#trainer-seats")) == 2, what="the seats")
        first, second = _cells(app, "#trainer-seats")
        assert first[0] == "seat0001"
        assert first[2] == "Findings · KEY_EXPIRED · 0 writes · cluster healthy"
        assert second[2] == "left the room"  # no such process
        await pilot.press("a")  # no seat chosen yet: nothing is applied
        await pilot.pause()
        assert emu.live_faults()["changes"] == []
        app.query_one("#trainer-seats", DataTable).focus()
        await pilot.press("enter")
        faults = app.query_one("#trainer-faults", OptionList)
        await until(pilot, lambda: faults.option_count > 0, what="the seat's faults")
        await pilot.press("a")
        await until(pilot, lambda: emu.live_faults()["changes"] != [], what="the seat's change")
        await until(pilot, lambda: "cluster broken" in _cells(app, "#trainer-seats")[0][2], what="progress")
