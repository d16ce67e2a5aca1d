"""`cmk-wizard trainer`: the trainer's app over a running emulator (its connection file) or a room."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from wizard.cli.room_files import Room
from wizard.cli.trainer_desk import EmulatorDesk, RoomSeats
from wizard.domain.errors import BadInput

EMULATOR_TOKEN_ENV = "CMK_WIZARD_EMULATOR_TOKEN"


def default_log(room: Room | None) -> Path:
    """The room folder's log, else one beside the audit log in the user state directory."""
    if room is not None:
        return room.root / "trainer-log.jsonl"
    from platformdirs import user_state_dir

    return Path(user_state_dir("cmk-wizard")) / "trainer-log.jsonl"


class JsonlLog:
    """Append-only, one JSON object a line, written whole (a trainer's record of what it broke)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise BadInput(f"--log {path}: cannot write: {exc.strerror or exc}") from None

    def __call__(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def run_trainer(args: argparse.Namespace) -> int:
    """Open the trainer's app on the emulator or the room asked for."""
    from wizard.cli import _require_terminal

    room = Room.open(args.room) if args.room else None
    desk = (
        EmulatorDesk.from_file(args.emulator, token=os.environ.get(EMULATOR_TOKEN_ENV))
        if args.emulator
        else None
    )
    log = JsonlLog(Path(args.log) if args.log else default_log(room))
    _require_terminal("trainer")
    from screens.trainer import TrainerApp

    app = TrainerApp(desk, log_change=log, room=RoomSeats(room) if room is not None else None)
    app.run()
    return 0
