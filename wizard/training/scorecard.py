"""What a trainee did in a drill, and the scorecard and reveal it comes to (JSON per trainee)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from wizard.domain.catalog import load_catalog
from wizard.training.drill import DrillSpec

SCORECARD_SCHEMA = "cmk-wizard/drill-scorecard/v1"
ROOM_SCHEMA = "cmk-wizard/drill-room/v1"


@dataclass(frozen=True)
class PathStep:
    """One step of the shortest path: what the wizard's own fix applies, in order."""

    remediation: str
    finding: str
    title: str


@dataclass(frozen=True)
class WriteAttempt:
    """A write the trainee asked for, and what came of it."""

    remediation: str
    finding: str
    target: str
    status: str
    seconds: float


@dataclass(frozen=True)
class Guess:
    """The causes the trainee named at one moment."""

    codes: tuple[str, ...]
    right: bool
    seconds: float


@dataclass(frozen=True)
class Prediction:
    """Teach mode: what the trainee expected a check to answer, and what it answered."""

    check_id: str
    predicted: str
    actual: str

    @property
    def right(self) -> bool:
        """The check answered what the trainee said it would."""
        return self.predicted == self.actual


class DrillJudge(Protocol):
    """What only the composition root can tell at the end: the emulator's verdict, the path, the file."""

    def came_back(self) -> bool:
        """Whether the emulator itself says the drill's cluster is Ready again."""
        ...

    def shortest_path(self) -> list[PathStep]:
        """The steps the wizard's own fix applies to the drill's estate, in order."""
        ...

    def save(self, card: dict[str, Any]) -> str:
        """Save the scorecard for the trainer; returns where (or why it could not)."""
        ...


@dataclass
class DrillRecord:
    """Every scored thing a trainee does, timed from the drill's start by an injected clock."""

    spec: DrillSpec
    trainee: str
    clock: Callable[[], float]
    teach: bool = False
    started: float = 0.0
    visited: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    guesses: list[Guess] = field(default_factory=list)
    writes: list[WriteAttempt] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def elapsed(self) -> float:
        """Seconds since the drill started."""
        return max(0.0, self.clock() - self.started)

    def visit(self, check_id: str) -> None:
        """The trainee looked at a check (each check counts once)."""
        if check_id not in self.visited:
            self.visited.append(check_id)

    def hint(self, what: str) -> None:
        """A hint was shown (or the findings, which name the causes, were opened)."""
        self.hints.append(what)

    def guess(self, codes: Iterable[str]) -> Guess:
        """The trainee names the causes; right when they are exactly the ones the first diagnosis can see."""
        named = tuple(sorted(set(codes)))
        made = Guess(named, frozenset(named) == self.spec.answer, round(self.elapsed(), 3))
        self.guesses.append(made)
        return made

    def write(self, remediation: str, finding: str, target: str, status: str) -> None:
        """A write was attempted (applied, refused or failed: declined steps are not attempts)."""
        self.writes.append(WriteAttempt(remediation, finding, target, status, round(self.elapsed(), 3)))

    def predict(self, check_id: str, predicted: str, actual: str) -> Prediction:
        """Teach mode: one prediction, judged against the check's answer."""
        made = Prediction(check_id, predicted, actual)
        self.predictions.append(made)
        return made

    @property
    def right_at(self) -> float | None:
        """Seconds to the first right diagnosis, or None."""
        return next((g.seconds for g in self.guesses if g.right), None)


def wrong_writes(writes: Sequence[WriteAttempt], path: Sequence[PathStep]) -> list[WriteAttempt]:
    """Writes the shortest path does not make, or makes fewer times than they were attempted."""
    budget = Counter(step.remediation for step in path)
    wrong = []
    for attempt in writes:
        if budget[attempt.remediation] > 0:
            budget[attempt.remediation] -= 1
        else:
            wrong.append(attempt)
    return wrong


def scorecard(
    record: DrillRecord, *, came_back: bool, path: Sequence[PathStep], seconds: float | None = None
) -> dict[str, Any]:
    """The scorecard and the reveal, as saved for the trainer (schema cmk-wizard/drill-scorecard/v1)."""
    catalog = load_catalog()
    spec = record.spec
    wrong = wrong_writes(record.writes, path)
    card: dict[str, Any] = {
        "schema": SCORECARD_SCHEMA,
        "trainee": record.trainee,
        "drill": {"seed": spec.seed, "level": spec.level, "teach": record.teach},
        "seconds": round(record.elapsed() if seconds is None else seconds, 3),
        "diagnosis": {
            "right": record.right_at is not None,
            "secondsToRight": record.right_at,
            "attempts": [
                {"named": list(g.codes), "right": g.right, "seconds": g.seconds} for g in record.guesses
            ],
        },
        "checksVisited": len(record.visited),
        "visited": list(record.visited),
        "writes": {
            "attempted": len(record.writes),
            "wrongOrUnnecessary": len(wrong),
            "list": [
                {
                    "remediation": w.remediation,
                    "finding": w.finding,
                    "status": w.status,
                    "seconds": w.seconds,
                    "needed": w not in wrong,
                }
                for w in record.writes
            ],
        },
        "hintsUsed": len(record.hints),
        "hints": list(record.hints),
        "clusterCameBack": came_back,
        "reveal": {
            "causes": [{"code": c, "title": catalog.finding(c).title} for c in spec.causes],
            "seenFirst": sorted(spec.answer),
            "uncoveredLater": list(spec.later),
            "why": spec.why,
            "shortestPath": [
                {"remediation": s.remediation, "finding": s.finding, "title": s.title} for s in path
            ],
        },
    }
    if record.teach:
        card["teach"] = {
            "predictions": len(record.predictions),
            "right": sum(1 for p in record.predictions if p.right),
        }
    return card


def room_report(cards: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A room's scorecards side by side (schema cmk-wizard/drill-room/v1), fastest right diagnosis first."""

    def order(card: dict[str, Any]) -> tuple[bool, float, str]:
        to_right = card["diagnosis"]["secondsToRight"]
        return (to_right is None, to_right or 0.0, str(card["trainee"]))

    rows = [
        {
            "trainee": c["trainee"],
            "seed": c["drill"]["seed"],
            "level": c["drill"]["level"],
            "right": c["diagnosis"]["right"],
            "secondsToRight": c["diagnosis"]["secondsToRight"],
            "checksVisited": c["checksVisited"],
            "wrongWrites": c["writes"]["wrongOrUnnecessary"],
            "hintsUsed": c["hintsUsed"],
            "clusterCameBack": c["clusterCameBack"],
        }
        for c in sorted(cards, key=order)
    ]
    return {
        "schema": ROOM_SCHEMA,
        "trainees": len(rows),
        "right": sum(1 for r in rows if r["right"]),
        "cameBack": sum(1 for r in rows if r["clusterCameBack"]),
        "rows": rows,
    }


def room_lines(room: dict[str, Any]) -> list[str]:
    """The room as a table for the trainer's terminal."""
    head = (
        f"{'trainee':<20} {'seed':>6} {'lvl':>3} {'right':>5} {'to right':>9} "
        f"{'checks':>6} {'wrong':>5} {'hints':>5}  back"
    )
    lines = [
        f"{room['trainees']} scorecards: {room['right']} named the cause, "
        f"{room['cameBack']} brought the cluster back",
        head,
    ]
    for r in room["rows"]:
        to_right = "-" if r["secondsToRight"] is None else f"{r['secondsToRight']:.0f} s"
        lines.append(
            f"{str(r['trainee'])[:20]:<20} {r['seed']:>6} {r['level']:>3} {'yes' if r['right'] else 'no':>5} "
            f"{to_right:>9} {r['checksVisited']:>6} {r['wrongWrites']:>5} {r['hintsUsed']:>5}  "
            f"{'yes' if r['clusterCameBack'] else 'no'}"
        )
    return lines
