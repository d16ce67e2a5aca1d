"""How an incident ends in the wizard: the exit code is the verdict, skips are one row and can be
taken back (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from screens.app import WizardApp
from screens.diagnosis import DiagnosisScreen
from screens.fix import RemediationScreen
from screens.incident import ReportScreen
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


async def _press_for_outcome(pilot: Pilot[int], screen: RemediationScreen, *keys: str) -> None:
    """Press the keys, then wait for the step's outcome."""
    count = len(screen.outcomes)
    await pilot.press(*keys)
    await until(pilot, lambda: len(screen.outcomes) > count and not screen.busy)


async def _to_fix_again(pilot: Pilot[int]) -> RemediationScreen:
    """Leave a fix (the checklist re-runs), then findings and x again: the second pass."""
    app = pilot.app
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, DiagnosisScreen), what="the checklist")
    await settle(pilot)
    return await open_fix(pilot)


async def test_two_passes_are_one_incident_in_one_report_and_the_audit_log(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("multi-fault")
    audit = tmp_path / "audit.jsonl"
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=audit, report_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        first = await open_fix(pilot)
        await pilot.press("a", "y")  # the key's expiry
        await until(pilot, lambda: len(first.outcomes) == 1 and not first.busy)
        await pilot.press("s")  # the firewall, for the second pass
        await until(pilot, lambda: len(first.outcomes) == 2 and not first.busy)
        await pilot.press("a", "y")  # the role
        await until(pilot, lambda: len(first.outcomes) == 3 and not first.busy)
        second = await _to_fix_again(pilot)
        assert second is not first
        await pilot.press("a", "y")  # the firewall
        await until(pilot, lambda: second.outcomes and not second.busy)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), what="the report")
        report = app.screen
        assert isinstance(report, ReportScreen)
        text = report.markdown
    assert first.session is not None
    assert second.session is not None
    incident = first.session.incident
    assert second.session.incident is incident
    for cause in ("KEY_EXPIRED", "RBAC_ROLE_MISSING", "VAULT_FIREWALL_BLOCKS_SERVICE"):
        assert cause in text.split("- Causes found:")[1].splitlines()[0]
    changes = text.split("- Changes made:")[1].splitlines()[0]
    assert changes.startswith(" 3 ("), changes
    for remediation in ("extend-key-expiry", "grant-crypto-role", "allow-trusted-services"):
        assert remediation in changes
    assert "### Pass 1" in text
    assert "### Pass 2" in text
    assert f"`{incident.id}`" in text
    assert "| checklist |" in text
    assert "| fix pass 2 |" in text
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert {r["incident"] for r in records} == {incident.id}
    assert {r["pass"] for r in records} == {1, 2}
    before = [r for r in records if r["phase"] == "before"]
    assert all(r["diagnosis"]["verdict"] == "unhealthy" for r in before)
    assert "KEY_EXPIRED" in before[0]["diagnosis"]["findings"]


async def test_a_diagnosis_report_without_a_fix(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), report_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        await pilot.press("ctrl+p", *"Open report", "enter")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), what="the diagnosis report")
        report = app.screen
        assert isinstance(report, ReportScreen)
        assert report.path is not None
        assert report.path.parent == tmp_path
        saved = report.path.read_text()
    assert "No fix was attempted" in saved
    assert "## What would fix it" in saved
    assert "extend-key-expiry" in saved
    assert "az keyvault key set-attributes" in saved
    assert "KEY_EXPIRED" in saved


async def test_deleting_the_failed_cluster_is_shown_as_done_and_exits_0(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("provisioning-failed")
    app = WizardApp(
        backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "a.jsonl", report_dir=tmp_path
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        while (upcoming := screen.next_step()) is not None and upcoming.confirm != "typed":
            await _press_for_outcome(pilot, screen, "a", "y")
        assert upcoming is not None
        await pilot.press("a", *upcoming.confirm_text, "enter")
        await until(pilot, lambda: screen.session is not None and screen.session.deleted_cluster)
        await until(pilot, lambda: not screen.busy)
        rows = _rows(screen)
        assert not any("Escalate" in row for row in rows), rows
        assert len(rows) == len(screen.outcomes)
        assert "done: failed cluster deleted" in shown(app, "#fix-summary")
        assert screen.check_action("wait", ()) is None
        detail = shown(app, "#fix-detail")
        assert "documented end" in detail
        assert "az rest --method put" in detail
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), what="the report")
        report = app.screen
        assert isinstance(report, ReportScreen)
        assert "Final verdict: **done: the failed cluster was deleted" in report.markdown
        assert "unhealthy" not in report.markdown.split("- Final verdict:")[1].splitlines()[0]
        await pilot.press("escape", "escape")  # the checklist runs again on a cluster that is gone
        await until(pilot, lambda: isinstance(app.screen, DiagnosisScreen), what="the checklist")
        await settle(pilot)
        assert "deleted by this incident's fix" in shown(app, "#diagnosis-summary")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


async def test_the_cluster_list_shows_the_fixed_cluster_as_it_is_now(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("key-expired")
    cluster_id = backend.default_cluster_id()
    assert cluster_id is not None
    app = WizardApp(backend, cluster_id=cluster_id, audit_path=tmp_path / "a.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        await _press_for_outcome(pilot, screen, "a", "y")
        await pilot.press("escape")  # the findings close too: the checklist runs again
        await until(pilot, lambda: isinstance(app.screen, DiagnosisScreen), what="the checklist")
        await settle(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StartScreen), what="the cluster list")
        await pilot.pause()
        table = app.screen.query_one("#clusters", DataTable)
        status = str(table.get_row(cluster_id)[0])
    assert "Ready" in status, status
    assert "Inaccessible" not in status


async def test_no_wait_while_a_skipped_cause_is_there_and_the_wizard_goes_back_to_it(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("multi-fault")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "a.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        await _press_for_outcome(pilot, screen, "a", "y")  # the key's expiry
        firewall = screen.next_step()
        assert firewall is not None
        assert firewall.finding == "VAULT_FIREWALL_BLOCKS_SERVICE"
        await _press_for_outcome(pilot, screen, "s")
        await _press_for_outcome(pilot, screen, "a", "y")  # the role
        assert screen.next_step() is None  # not the wait
        summary = shown(app, "#fix-summary")
        assert "no wait:" in summary
        assert "VAULT_FIREWALL_BLOCKS_SERVICE skipped" in summary
        assert screen.check_action("wait", ()) is None
        await pilot.press("w")
        await pilot.pause()
        assert screen.busy != "waiting"
        assert not any(o.wait for o in screen.outcomes)
        steps = screen.query_one("#fix-steps", OptionList)
        assert steps.highlighted is not None
        assert screen.rows[steps.highlighted] == firewall  # back to it
        assert "Skipped" in shown(app, "#fix-detail")
        await pilot.press("u")
        await pilot.pause()
        assert screen.next_step() == firewall
