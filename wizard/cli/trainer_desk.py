"""The trainer's hands on a running emulator: its admin endpoints over HTTPS on 127.0.0.1, with the
token from its connection file (never a real Azure credential), and the room's seats."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from wizard.cli.connection import Connection, load_connection
from wizard.cli.room_files import Room
from wizard.cli.wiring import DEFAULT_EMULATOR_TOKEN
from wizard.domain.errors import BadInput, GatewayError
from wizard.domain.training import ClusterHealth, LiveChange, LiveFaultInfo, SeatProgress, TrainerDesk

ADMIN_TIMEOUT_SECONDS = 10.0
WRITE_METHODS = {"PUT", "PATCH", "POST", "DELETE"}


class EmulatorDesk:
    """One running emulator, reached through its connection file."""

    def __init__(self, connection: Connection, *, label: str, token: str | None = None) -> None:
        self.label = label
        self._base = connection.arm_endpoint
        self._token = connection.token or token or DEFAULT_EMULATOR_TOKEN
        self._context = ssl.create_default_context(cafile=connection.ca_bundle)

    @classmethod
    def from_file(cls, path: str, *, token: str | None = None) -> EmulatorDesk:
        """The emulator a connection file names (BadInput, one line, if the file is not one)."""
        return cls(load_connection(path), label=Path(path).name, token=token)

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self._base + path,
            data=data,
            method="GET" if data is None else "POST",
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(
                request, context=self._context, timeout=ADMIN_TIMEOUT_SECONDS
            ) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise GatewayError(_error_message(exc), status=exc.code) from None
        except (OSError, ValueError) as exc:
            raise GatewayError(f"the emulator at {self._base} did not answer: {exc}") from None

    def faults(self) -> list[LiveFaultInfo]:
        """The faults the emulator can apply."""
        listing = self._call("/_emulator/live-faults")
        return [LiveFaultInfo(f["name"], f["finding"], f["summary"]) for f in listing["faults"]]

    def changes(self) -> list[LiveChange]:
        """Every change applied so far."""
        return [LiveChange.from_json(c) for c in self._call("/_emulator/live-faults")["changes"]]

    def apply(self, fault: str, cluster: str | None = None) -> LiveChange:
        """Break a cluster live."""
        body: dict[str, Any] = {"apply": fault} | ({"cluster": cluster} if cluster else {})
        return LiveChange.from_json(self._call("/_emulator/live-faults", body))

    def undo(self, change_id: int) -> LiveChange:
        """Take a change back."""
        return LiveChange.from_json(self._call("/_emulator/live-faults", {"undo": change_id}))

    def health(self) -> list[ClusterHealth]:
        """The emulator's own verdict per cluster."""
        clusters = self._call("/_emulator/health")["clusters"]
        return [
            ClusterHealth(cid, c["status"], bool(c["canUseKey"]), tuple(r["code"] for r in c["reasons"]))
            for cid, c in clusters.items()
        ]

    def writes(self) -> int:
        """How many writes the emulator answered (what a trainee changed)."""
        entries = self._call("/_emulator/requests")["requests"]
        return sum(1 for e in entries if str(e.get("method", "")).upper() in WRITE_METHODS)


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["error"]["message"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"the emulator answered HTTP {exc.code}"


class RoomSeats:
    """A room folder's seats, each with a desk onto its own emulator while it is open."""

    def __init__(self, room: Room) -> None:
        self.room = room

    def seats(self) -> list[SeatProgress]:
        """Every seat that has written progress."""
        return self.room.seats()

    def desk(self, seat: SeatProgress) -> TrainerDesk | None:
        """The seat's emulator, None once it closed."""
        if seat.ended or not seat.connection_file or not Path(seat.connection_file).exists():
            return None
        try:
            return EmulatorDesk(load_connection(seat.connection_file), label=f"seat {seat.seat}")
        except BadInput:
            return None
