"""What a training room shares: a seat's progress, the trainer's live faults, and the port the trainer
screen drives an emulator through (the CLI hands it one over the emulator's admin endpoints)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol


@dataclass(frozen=True)
class SeatProgress:
    """One trainee's seat as the seat itself reports it (the emulator's health is read separately)."""

    seat: str
    pid: int
    started_at: float
    updated_at: float
    exercise: str
    """The scenario's name, or `drill` (a drill's causes stay hidden from the room's listing too)."""
    screen: str = "StartScreen"
    findings: tuple[str, ...] = ()
    diagnoses: int = 0
    connection_file: str | None = None
    ended: bool = False

    def closed(self) -> SeatProgress:
        """The same seat, marked ended (its process is gone)."""
        return replace(self, ended=True)

    def to_json(self) -> dict[str, Any]:
        """The progress file's JSON."""
        return {
            "seat": self.seat,
            "pid": self.pid,
            "startedAt": self.started_at,
            "updatedAt": self.updated_at,
            "exercise": self.exercise,
            "screen": self.screen,
            "findings": list(self.findings),
            "diagnoses": self.diagnoses,
            "connectionFile": self.connection_file,
            "ended": self.ended,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeatProgress:
        """Read a progress file's JSON (KeyError or TypeError if it is not one)."""
        return cls(
            seat=str(data["seat"]),
            pid=int(data["pid"]),
            started_at=float(data["startedAt"]),
            updated_at=float(data["updatedAt"]),
            exercise=str(data["exercise"]),
            screen=str(data["screen"]),
            findings=tuple(str(code) for code in data["findings"]),
            diagnoses=int(data["diagnoses"]),
            connection_file=data.get("connectionFile"),
            ended=bool(data.get("ended", False)),
        )


@dataclass(frozen=True)
class LiveFaultInfo:
    """A fault the trainer can apply: its name, the finding it should lead to, and what it does."""

    name: str
    finding: str
    summary: str


@dataclass(frozen=True)
class LiveChange:
    """One fault applied to one cluster, and when it was undone (None: still in force)."""

    id: int
    fault: str
    finding: str
    cluster: str
    applied_at: int
    undone_at: int | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveChange:
        """The emulator's change record."""
        undone = data.get("undoneAt")
        return cls(
            id=int(data["id"]),
            fault=str(data["fault"]),
            finding=str(data["finding"]),
            cluster=str(data["cluster"]),
            applied_at=int(data["appliedAt"]),
            undone_at=None if undone is None else int(undone),
        )


@dataclass(frozen=True)
class ClusterHealth:
    """The emulator's own verdict on one cluster (independent of the wizard's diagnosis)."""

    cluster: str
    status: str
    can_use_key: bool
    reasons: tuple[str, ...]


class TrainerDesk(Protocol):
    """A running emulator as the trainer sees it; every method may raise WizardError when it is gone."""

    label: str

    def faults(self) -> list[LiveFaultInfo]:
        """The faults it can apply."""
        ...

    def changes(self) -> list[LiveChange]:
        """Every change applied so far, oldest first."""
        ...

    def apply(self, fault: str, cluster: str | None = None) -> LiveChange:
        """Break a cluster (the estate's first when none is named)."""
        ...

    def undo(self, change_id: int) -> LiveChange:
        """Take a change back."""
        ...

    def health(self) -> list[ClusterHealth]:
        """The emulator's verdict per cluster."""
        ...

    def writes(self) -> int:
        """How many writes the emulator has answered (a seat's work, seen from outside)."""
        ...


class SeatDirectory(Protocol):
    """The seats of a room, and a desk onto each open seat's emulator."""

    def seats(self) -> list[SeatProgress]:
        """Every seat, oldest first."""
        ...

    def desk(self, seat: SeatProgress) -> TrainerDesk | None:
        """The seat's emulator (None once it closed)."""
        ...
