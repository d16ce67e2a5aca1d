"""Drills by keyboard, seeded and deterministic: briefing, naming the cause, a fix, the scorecard."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from textual.widgets import SelectionList, Static

from screens.diagnosis import DiagnosisScreen
from screens.drill import DrillApp, DrillBriefing, NameCauseScreen, ScorecardScreen, nameable_causes
from screens.fix import RemediationScreen
from screens.teach import TeachScreen
from screens.widgets.checklist import CheckList
from tests.ui.helpers import settle, shown, until
from wizard.cli.training import drill_app
from wizard.domain.catalog import load_catalog
from wizard.engine.tree import load_tree
from wizard.training.drill import draw_drill


def seed_for(level: int, causes: tuple[str, ...]) -> int:
    """The first seed that draws these causes (the draw is stable, so this is too)."""
    return next(s for s in range(2000) if draw_drill(s, level).causes == causes)


def stepping() -> Callable[[], float]:
    """A clock that moves one second each time it is read: timings are the same every run."""
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    return clock


def screen_text(app: DrillApp) -> str:
    """Every Static on the current screen."""
    return "\n".join(str(s.visual) for s in app.screen.query(Static))


async def name_causes(app: DrillApp, pilot: object, codes: tuple[str, ...]) -> None:
    """n, pick the codes, enter."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, NameCauseScreen), what="the cause picker")
    picker = app.screen.query_one("#name-list", SelectionList)
    for code in codes:
        picker.select(code)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, NameCauseScreen), what="the picker to close")


async def test_a_drill_start_screen_never_names_the_cause(tmp_path: Path) -> None:
    seed = seed_for(3, ("VAULT_SOFT_DELETED", "KEY_EXPIRED"))
    app = drill_app(seed, 3, trainee="ann", scorecard_dir=tmp_path, clock=stepping())
    catalog = load_catalog()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DrillBriefing)
            text = screen_text(app) + app.export_screenshot()
            assert f"seed {seed}" in text
            for code in app.record.spec.causes:
                assert code not in text
                assert catalog.finding(code).title not in text
            assert "emulator: " not in app.context_line
            assert app.backend.scenarios() == []
    finally:
        app.backend.close()


async def test_naming_the_cause_fixing_it_and_the_scorecard(tmp_path: Path) -> None:
    seed = seed_for(1, ("KEY_EXPIRED",))
    app = drill_app(seed, 1, trainee="bob", scorecard_dir=tmp_path, clock=stepping(), revalidate_seconds=0.0)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DiagnosisScreen)
            await until(pilot, lambda: app.latest is not None, what="the diagnosis")
            checks = app.screen.query_one("#checks", CheckList)
            assert checks.highlighted == 0, "a drill never moves the cursor onto the cause"
            await pilot.press("down", "down")
            await pilot.press("h")
            await name_causes(app, pilot, ("KEY_DISABLED",))
            await name_causes(app, pilot, ("KEY_EXPIRED",))
            assert [g.right for g in app.record.guesses] == [False, True]
            # The fix: findings (a hint: they name the cause), x, apply, wait for Ready.
            await pilot.press("f")
            await pilot.pause()
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, RemediationScreen), what="the fix screen")
            fix = app.screen
            assert isinstance(fix, RemediationScreen)
            await until(pilot, lambda: fix.plan is not None and not fix.busy, what="the plan")
            await pilot.press("a", "y")
            await until(pilot, lambda: bool(fix.outcomes) and not fix.busy, what="the write")
            await pilot.press("w")
            await until(pilot, lambda: any(o.wait is not None for o in fix.outcomes) and not fix.busy)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, ScorecardScreen), what="the scorecard")
            card_screen = app.screen
            assert isinstance(card_screen, ScorecardScreen)
            await until(pilot, lambda: card_screen.card is not None, seconds=60, what="the judging")
            await until(pilot, lambda: "Saved:" in shown(app, "#scorecard"), what="the card on screen")
            text = shown(app, "#scorecard")
    finally:
        app.backend.close()
    saved = list(tmp_path.glob("bob-seed*-level1-*.json"))
    assert len(saved) == 1
    card = json.loads(saved[0].read_text())
    assert card == card_screen.card
    assert card["diagnosis"]["right"] is True
    assert card["diagnosis"]["secondsToRight"] is not None
    assert card["diagnosis"]["secondsToRight"] > 0
    assert [a["right"] for a in card["diagnosis"]["attempts"]] == [False, True]
    assert {spec.id for spec in load_tree()[:3]} <= set(card["visited"])  # the cursor moved down twice
    assert card["hints"][0] in {s.id for s in load_tree()}
    assert card["hints"][1] == "findings"
    assert card["hintsUsed"] == 2
    assert card["writes"]["attempted"] == 1
    assert card["writes"]["wrongOrUnnecessary"] == 0
    assert card["writes"]["list"][0]["remediation"] == "extend-key-expiry"
    assert card["clusterCameBack"] is True
    assert [s["remediation"] for s in card["reveal"]["shortestPath"]] == ["extend-key-expiry"]
    # the reveal on screen comes from the same card: the cause and the path, in the catalogue's words
    catalog = load_catalog()
    assert catalog.finding("KEY_EXPIRED").title in text
    assert catalog.remediations["extend-key-expiry"].title in text
    assert "Cluster came back: yes" in text
    assert (saved[0].stat().st_mode & 0o777) == 0o600


async def test_ending_at_once_scores_nothing_and_reveals_everything(tmp_path: Path) -> None:
    seed = seed_for(3, ("VAULT_SOFT_DELETED", "KEY_EXPIRED"))
    app = drill_app(seed, 3, trainee="cy", scorecard_dir=tmp_path, clock=stepping())
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, ScorecardScreen))
            card_screen = app.screen
            assert isinstance(card_screen, ScorecardScreen)
            await until(pilot, lambda: card_screen.card is not None, seconds=60, what="the judging")
            card = card_screen.card
    finally:
        app.backend.close()
    assert card is not None
    assert card["diagnosis"]["right"] is False
    assert card["clusterCameBack"] is False
    assert card["writes"]["attempted"] == 0
    assert card["reveal"]["seenFirst"] == ["VAULT_SOFT_DELETED"]
    path = [s["remediation"] for s in card["reveal"]["shortestPath"]]
    assert path == ["recover-vault", "extend-key-expiry", "grant-crypto-role"]


def test_the_picker_offers_every_critical_cause_and_no_symptom() -> None:
    catalog = load_catalog()
    codes = [code for code, _ in nameable_causes()]
    assert "CLUSTER_INACCESSIBLE" not in codes
    assert {"KEY_EXPIRED", "VAULT_SOFT_DELETED", "RBAC_ROLE_MISSING"} <= set(codes)
    assert all(catalog.finding(c).severity == "critical" for c in codes)


async def test_teach_mode_asks_first_then_explains_from_the_data(tmp_path: Path) -> None:
    seed = seed_for(1, ("KEY_EXPIRED",))
    app = drill_app(seed, 1, teach=True, trainee="dee", scorecard_dir=tmp_path, clock=stepping())
    catalog = load_catalog()
    tree = load_tree()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TeachScreen), what="teach mode")
            teach = app.screen
            assert isinstance(teach, TeachScreen)
            await until(pilot, lambda: bool(teach.lessons), what="the lessons")
            await steady_text(pilot, app)
            before = shown(app, "#teach-detail")
            assert tree[0].question in before.replace("\n", " ")
            assert "p: it passes" in before
            assert "pass:" not in before, "the answer is hidden until the prediction"
            await pilot.press("p")
            await until(pilot, lambda: "What was read" in shown(app, "#teach-detail"))
            after = shown(app, "#teach-detail")
            assert "You predicted it." in after
            assert "The same with az" in after
            assert "az resource show --ids" in after
            assert catalog.passages[tree[0].passage][:40] in after.replace("\n", " ")
            # walk to the key's dates and predict wrongly: it is recorded as such
            dates = [s.id for s in tree].index("key.dates")
            while teach.index < dates:
                if not teach.answered:
                    await pilot.press("p")
                await pilot.press("space")
                await pilot.pause()
            await pilot.press("p")
            await until(pilot, lambda: "You said pass." in shown(app, "#teach-detail"))
            assert "az keyvault key show" in shown(app, "#teach-detail")
    finally:
        app.backend.close()
    predictions = {p.check_id: p for p in app.record.predictions}
    assert predictions["cluster.load"].right
    assert predictions["key.dates"].actual == "fail"
    assert not predictions["key.dates"].right


async def steady_text(pilot: object, app: DrillApp) -> None:
    """Until the teach pane shows its first question."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await until(pilot, lambda: "Your prediction" in shown(app, "#teach-detail"), what="the first question")
