"""One seat of a training room: the process `serve` starts per browser session, with an emulator (and
so an estate) of its own, that tells the room how far its trainee has got."""

from __future__ import annotations

import argparse
import os
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import on

from screens import app as app_module
from screens.app import WizardApp
from screens.drill import DrillApp
from screens.messages import DiagnosisFinished
from wizard.cli.room_files import Room
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.training import SeatProgress

SCORECARDS = "scorecards"
"""The room's drill scorecards, one JSON per seat: `cmk-wizard drill --report <room>/scorecards`."""
PROGRESS_SECONDS = 0.5
"""How often a seat looks at its own screen to tell the room (only a change is written)."""


class SeatBackend(EmulatorBackend):
    """The seat's embedded emulator: its scenario stays put, so the trainer's connection file holds."""

    def scenarios(self) -> list[str]:
        """No switching scenarios from a seat."""
        return []


class SeatApp(WizardApp):
    """The wizard, telling the room which screen it is on and what the last diagnosis found."""

    CSS_PATH = [str(Path(app_module.__file__).with_name("app.tcss"))]

    def __init__(
        self, backend: EmulatorBackend, *, room: Room, progress: SeatProgress, **kwargs: Any
    ) -> None:
        super().__init__(backend, **kwargs)
        self.room = room
        self.progress = progress
        self._published: SeatProgress | None = None

    def on_mount(self) -> None:
        """Tell the room the seat is open, then keep it told (Textual runs WizardApp's own on_mount
        too, after this one: calling it here would open the start screen twice)."""
        self.call_after_refresh(self.publish)
        self.set_interval(PROGRESS_SECONDS, self.publish)

    @on(DiagnosisFinished)
    def count_diagnosis(self, message: DiagnosisFinished) -> None:
        """The findings of the latest diagnosis, for the trainer's listing."""
        codes = tuple(f.code for f in message.diagnosis.findings)
        self.progress = replace(self.progress, findings=codes, diagnoses=self.progress.diagnoses + 1)
        self.publish()

    def publish(self) -> None:
        """Write the progress file when something changed."""
        current = replace(self.progress, screen=type(self.screen).__name__)
        last = self._published
        if last is None or replace(current, updated_at=0) != replace(last, updated_at=0):
            self.progress = self._published = replace(current, updated_at=time.time())
            self.room.write_progress(self.progress)


class DrillSeatApp(SeatApp, DrillApp):
    """A drill in a seat: the causes stay hidden from the trainee, the room still sees the progress."""


def run_seat(args: argparse.Namespace) -> int:
    """Start this seat's own emulator, publish its connection file to the room, run the wizard."""
    room = Room.open(args.room)
    seat = secrets.token_hex(4)
    app, backend = seat_app(args, room, seat)
    try:
        backend.emulator.write_connection_file(room.connection_file(seat), with_token=True)
        app.run()
        room.write_progress(replace(app.progress, ended=True, updated_at=time.time()))
    finally:
        room.leave(seat)
        backend.close()
    return 0


def seat_app(args: argparse.Namespace, room: Room, seat: str) -> tuple[SeatApp, EmulatorBackend]:
    """The seat's app over an emulator of its own: the scenario, or the drill (its causes hidden)."""
    folder = room.seat_folder(seat)
    now = time.time()
    progress = SeatProgress(
        seat=seat,
        pid=os.getpid(),
        started_at=now,
        updated_at=now,
        exercise=f"drill seed {args.seed} level {args.level}" if args.drill else str(args.scenario),
        connection_file=str(room.connection_file(seat)),
    )
    token = secrets.token_urlsafe(24)
    if args.drill:
        from wizard.cli.training import drill_app

        drill = drill_app(
            args.seed,
            args.level,
            trainee=f"seat {seat}",
            scorecard_dir=room.root / SCORECARDS,
            revalidate_seconds=args.revalidate_seconds,
            audit_path=folder / "audit.jsonl",
            report_dir=folder / "reports",
            emulator_token=token,
            app_class=DrillSeatApp,
            room=room,
            progress=progress,
        )
        assert isinstance(drill, DrillSeatApp)
        assert isinstance(drill.backend, EmulatorBackend)
        return drill, drill.backend
    backend = SeatBackend(
        Options(emulator_token=token), scenario=args.scenario, revalidate_seconds=args.revalidate_seconds
    )
    app = SeatApp(
        backend,
        room=room,
        progress=progress,
        cluster_id=backend.default_cluster_id(),
        audit_path=folder / "audit.jsonl",
        report_dir=folder / "reports",
    )
    return app, backend
