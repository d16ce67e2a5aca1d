"""A training room's folder: one progress file and one emulator connection file per seat.

`serve` makes the folder, each seat (one browser session, one process) writes its own files, and
`trainer --room` reads them: the folder is the only thing the three share.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.domain.errors import BadInput
from wizard.domain.training import SeatProgress

SEATS = "seats"


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically, mode 0600 (a temporary file beside it, then rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Room:
    """The room folder; every path a seat or the trainer uses comes from here."""

    root: Path

    @classmethod
    def create(cls, folder: str | None) -> Room:
        """The folder asked for (made if missing), or a new private one under the temporary folder."""
        root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="cmk-room-"))
        try:
            (root / SEATS).mkdir(parents=True, exist_ok=True, mode=0o700)
            root.chmod(0o700)
        except OSError as exc:
            raise BadInput(f"--room {folder}: cannot use it: {exc.strerror or exc}") from None
        return cls(root.resolve())

    @classmethod
    def open(cls, folder: str) -> Room:
        """An existing room folder (the trainer's side): one clear line if it is not one."""
        root = Path(folder)
        if not (root / SEATS).is_dir():
            raise BadInput(f"--room {folder}: not a training room (no {SEATS}/ folder; see serve's output)")
        return cls(root.resolve())

    def seat_folder(self, seat: str) -> Path:
        """Where a seat keeps its audit log and reports."""
        folder = self.root / SEATS / seat
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def progress_file(self, seat: str) -> Path:
        """The seat's progress, rewritten as it moves."""
        return self.root / SEATS / f"{seat}.json"

    def connection_file(self, seat: str) -> Path:
        """The seat's emulator connection file (with its token), while the seat is open."""
        return self.root / SEATS / f"{seat}.connection.json"

    def write_progress(self, progress: SeatProgress) -> None:
        """Publish a seat's progress for the trainer."""
        write_private_json(self.progress_file(progress.seat), progress.to_json())

    def leave(self, seat: str) -> None:
        """The seat closed: its emulator is gone, so is its connection file."""
        self.connection_file(seat).unlink(missing_ok=True)

    def seats(self) -> list[SeatProgress]:
        """Every seat that wrote progress, oldest first; one whose process is gone is marked ended."""
        found: list[SeatProgress] = []
        for path in sorted((self.root / SEATS).glob("*.json")):
            if path.name.endswith(".connection.json"):
                continue
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                progress = SeatProgress.from_json(json.loads(path.read_text(encoding="utf-8")))
                if not progress.ended and not _alive(progress.pid):
                    progress = progress.closed()
                found.append(progress)
        return sorted(found, key=lambda p: (p.started_at, p.seat))
