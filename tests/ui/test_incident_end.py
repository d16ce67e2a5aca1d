"""How an incident ends in the wizard: the exit code is the verdict, skips are one row and can be
taken back (issue 12)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from screens.app import WizardApp
from screens.diagnosis import DiagnosisScreen
from screens.fix import RemediationScreen
from screens.start import StartScreen
from tests.conftest import BackendFactory
from tests.ui.helpers import settle, shown, until
from tests.ui.test_remediation import open_fix
from wizard.domain.results import OutcomeStatus


def _rows(screen: RemediationScreen) -> list[str]:
    steps = screen.query_one("#fix-steps", OptionList)
    return [str(steps.get_option_at_index(i).prompt) for i in range(steps.option_count)]


async def test_quitting_after_a_successful_fix_exits_0(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        await pilot.press("a", "y")
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        if screen.next_step() is not None:
            await pilot.press("w")
            await until(pilot, lambda: any(o.wait for o in screen.outcomes) and not screen.busy)
        assert screen.session is not None
        assert screen.session.current is not None
        assert screen.session.current.verdict == "healthy"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


async def test_quitting_after_bad_input_exits_2(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("healthy")
    app = WizardApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        await pilot.press("slash", *"/subscriptions/bad", "enter")
        await until(pilot, lambda: isinstance(app.screen, DiagnosisScreen))
        await until(pilot, lambda: "Bad input" in shown(app, "#diagnosis-summary"), what="the bad input")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 2


async def test_a_skip_is_one_row_counted_once_and_can_be_taken_back(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("multi-fault")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        assert screen.plan is not None
        planned = len(screen.plan.steps)
        await pilot.press("a", "y")
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        skipped = screen.next_step()
        assert skipped is not None
        await pilot.press("s")
        await until(pilot, lambda: len(screen.outcomes) == 2 and not screen.busy)
        rows = _rows(screen)
        assert len(rows) == planned, rows
        assert sum(skipped.title in row for row in rows) == 1, rows
        assert f"of {planned}:" in shown(app, "#fix-summary")
        assert f"3 of {planned}" in shown(app, "#fix-summary")
        detail = shown(app, "#fix-detail")
        assert "Skipped" in detail
        assert "nothing was sent" in detail
        assert "answer yes" not in detail
        assert "not confirmed" not in detail
        second = screen.next_step()
        assert second is not None
        assert second.kind == "write"
        await pilot.press("s")
        await until(pilot, lambda: len(screen.outcomes) == 3 and not screen.busy)
        rows = _rows(screen)
        assert len(rows) == planned, rows
        assert sum(skipped.title in row for row in rows) == 1, rows
        assert [o.status for o in screen.outcomes][1:] == [OutcomeStatus.SKIPPED] * 2
        # u takes the skip under the cursor back (else the last one): both, one after the other
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        assert screen.skipped == frozenset()
        assert screen.next_step() == skipped
        assert "a applies step 2" in shown(app, "#fix-summary")
        assert len(_rows(screen)) == planned
