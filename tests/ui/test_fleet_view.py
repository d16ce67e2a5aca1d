"""The start screen as the fleet view: progressive, responsive while keys are read, grouped, filtered."""

from __future__ import annotations

import threading

from textual.widgets import DataTable

from screens.app import WizardApp
from screens.diagnosis import DiagnosisScreen
from screens.help import HelpScreen
from screens.start import StartScreen
from tests.ui.conftest import MakeBackend
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import settle, shown, until


def _cells(app: WizardApp) -> list[list[str]]:
    table: DataTable[object] = app.screen.query_one("#clusters", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_rows_show_before_the_keys_are_read_and_keys_are_answered_meanwhile() -> None:
    backend = FakeBackend("key-expired", open_default=False)
    gate = threading.Event()
    backend.key_gate = gate
    app = WizardApp(backend)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: len(_cells(app)) == 3, what="the clusters before their keys")
            assert all("reading key" in row[-1] for row in _cells(app))
            assert "reading keys" in shown(app, "#start-intro")
            await pilot.press("g")
            await until(pilot, lambda: any(row[0].startswith("──") for row in _cells(app)), what="groups")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, StartScreen), what="back to the fleet")
            gate.set()
            await until(pilot, lambda: any("KEY_EXPIRED" in row[-1] for row in _cells(app)), what="verdicts")
            assert "critical 1" in shown(app, "#start-intro")
            assert "kv-orders" in shown(app, "#fleet-groups")
    finally:
        gate.set()


async def test_not_ready_first_then_grouped_by_key_vault_identity() -> None:
    app = WizardApp(FakeBackend("key-expired", open_default=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        first = _cells(app)[0]
        assert "Inaccessible" in first[0]
        assert first[1] == "orders-prod"
        screen = app.screen
        assert isinstance(screen, StartScreen)
        for kind in ("key", "vault", "identity"):
            await pilot.press("g")
            await pilot.pause()
            assert f"grouped by {kind}" in shown(app, "#start-status")
            assert _cells(app)[0][0] == f"── {kind}"
        await pilot.press("g")
        await pilot.pause()
        assert screen.grouping is None


async def test_enter_on_a_group_narrows_the_list_and_enter_on_a_cluster_diagnoses() -> None:
    app = WizardApp(FakeBackend("key-expired", open_default=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "g")
        await pilot.pause()
        table = app.screen.query_one("#clusters", DataTable)
        table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        rows = _cells(app)
        assert rows[0][1] == "kv-orders"
        assert [r[1] for r in rows[1:]] == ["orders-prod"]
        table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert app.screen.cluster_name == "orders-prod"


async def test_the_fleet_view_over_the_emulator_names_what_is_broken(wizard_backend: MakeBackend) -> None:
    backend = wizard_backend("multi-fault")
    app = WizardApp(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        causes = " ".join(row[-1] for row in _cells(app))
        assert "VAULT_FIREWALL_BLOCKS_SERVICE" in causes or "KEY_EXPIRED" in causes
        assert "critical 1" in shown(app, "#start-intro")
