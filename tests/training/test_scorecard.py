"""The scorecard and the room report, from a record kept with a stepping clock."""

from __future__ import annotations

from collections.abc import Callable

from wizard.training.drill import DrillSpec
from wizard.training.scorecard import (
    SCORECARD_SCHEMA,
    DrillRecord,
    PathStep,
    room_lines,
    room_report,
    scorecard,
    wrong_writes,
)

PATH = [
    PathStep("recover-vault", "VAULT_SOFT_DELETED", "Recover the deleted vault"),
    PathStep("extend-key-expiry", "KEY_EXPIRED", "Extend the key's expiry"),
    PathStep("grant-crypto-role", "RBAC_ROLE_MISSING", "Grant the role"),
]
SPEC = DrillSpec(7, 3, ("VAULT_SOFT_DELETED", "KEY_EXPIRED"), "why")


def stepping(step: float = 10.0) -> Callable[[], float]:
    """A clock that moves `step` seconds each time it is read."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def test_a_key_inside_a_soft_deleted_vault_is_not_part_of_the_first_answer() -> None:
    assert SPEC.answer == {"VAULT_SOFT_DELETED"}
    assert SPEC.later == ("RBAC_ROLE_MISSING", "KEY_EXPIRED")


def test_the_time_to_the_right_diagnosis_is_the_first_right_guess() -> None:
    record = DrillRecord(SPEC, "ann", stepping())
    assert not record.guess(["KEY_EXPIRED"]).right
    right = record.guess(["VAULT_SOFT_DELETED"])
    assert right.right
    record.guess(["VAULT_SOFT_DELETED"])
    assert record.right_at == right.seconds == 20.0


def test_writes_beyond_the_shortest_path_are_wrong_or_unnecessary() -> None:
    record = DrillRecord(SPEC, "ann", stepping())
    for remediation in ("recover-vault", "allow-trusted-services", "recover-vault", "grant-crypto-role"):
        record.write(remediation, "X", "/target", "ok")
    wrong = wrong_writes(record.writes, PATH)
    assert [w.remediation for w in wrong] == ["allow-trusted-services", "recover-vault"]


def test_the_scorecard_holds_every_measure_and_the_reveal() -> None:
    record = DrillRecord(SPEC, "ann", stepping(), teach=True)
    record.visit("cluster.state")
    record.visit("vault.deleted")
    record.visit("cluster.state")
    record.hint("findings")
    record.guess(["VAULT_SOFT_DELETED"])
    record.write("recover-vault", "VAULT_SOFT_DELETED", "/v", "ok")
    record.write("enable-key", "KEY_DISABLED", "/k", "error")
    record.predict("cluster.state", "pass", "fail")
    record.predict("vault.deleted", "fail", "fail")
    card = scorecard(record, came_back=True, path=PATH, seconds=95.0)
    assert card["schema"] == SCORECARD_SCHEMA
    assert card["drill"] == {"seed": 7, "level": 3, "teach": True}
    assert card["seconds"] == 95.0
    assert card["diagnosis"]["right"] is True
    assert card["diagnosis"]["secondsToRight"] == 10.0
    assert card["checksVisited"] == 2
    assert card["hintsUsed"] == 1
    assert card["writes"]["attempted"] == 2
    assert card["writes"]["wrongOrUnnecessary"] == 1
    assert [w["needed"] for w in card["writes"]["list"]] == [True, False]
    assert card["clusterCameBack"] is True
    assert card["teach"] == {"predictions": 2, "right": 1}
    reveal = card["reveal"]
    assert [c["code"] for c in reveal["causes"]] == ["VAULT_SOFT_DELETED", "KEY_EXPIRED"]
    assert reveal["causes"][0]["title"] == "Key vault deleted (recoverable)"
    assert reveal["uncoveredLater"] == ["RBAC_ROLE_MISSING", "KEY_EXPIRED"]
    assert [s["remediation"] for s in reveal["shortestPath"]] == [p.remediation for p in PATH]


def test_the_room_puts_the_fastest_right_diagnosis_first() -> None:
    cards = []
    for name, guesses in (("slow", 3), ("never", 0), ("fast", 1)):
        record = DrillRecord(SPEC, name, stepping())
        for _ in range(guesses - 1):
            record.guess(["KEY_EXPIRED"])
        if guesses:
            record.guess(["VAULT_SOFT_DELETED"])
        cards.append(scorecard(record, came_back=name == "fast", path=PATH, seconds=60.0))
    room = room_report(cards)
    assert [r["trainee"] for r in room["rows"]] == ["fast", "slow", "never"]
    assert (room["trainees"], room["right"], room["cameBack"]) == (3, 2, 1)
    lines = room_lines(room)
    assert lines[0] == "3 scorecards: 2 named the cause, 1 brought the cluster back"
    assert lines[2].split()[:4] == ["fast", "7", "3", "yes"]
    assert lines[4].split()[3:5] == ["no", "-"]
