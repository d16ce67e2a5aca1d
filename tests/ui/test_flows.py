"""Keyboard-only walks through the wizard, asserting on what the screens show."""

from __future__ import annotations

from textual.widgets import DataTable

from screens.app import WizardApp
from screens.diagnosis import DiagnosisScreen
from screens.findings import FindingsScreen
from screens.help import HelpScreen
from screens.start import StartScreen
from screens.themes import TERMINAL_COLOUR_THEME
from screens.widgets.checklist import CheckList
from tests.ui.conftest import MakeBackend, MakeFakeBackend
from tests.ui.helpers import settle, shown, until
from wizard.domain.catalog import load_catalog
from wizard.engine.tree import load_tree


def _name_of(cluster_id: str | None) -> str:
    assert cluster_id
    return cluster_id.rsplit("/", 1)[-1]


async def test_walk_from_the_list_to_the_findings_by_keyboard(wizard_backend: MakeBackend) -> None:
    backend = wizard_backend("key-expired")
    broken = _name_of(backend.default_cluster_id())
    app = WizardApp(backend)
    catalog = load_catalog()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        assert app.screen.query_one("#clusters", DataTable).row_count >= 1
        await pilot.press("slash", *broken, "enter")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert "Unhealthy" in shown(app, "#diagnosis-summary")
        statuses = app.screen.query_one("#checks", CheckList).statuses
        assert statuses["key.dates"] == "fail"
        assert all(status.done for status in statuses.values())
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)
        plan = shown(app, "#finding-detail")
        assert catalog.finding("KEY_EXPIRED").title in plan
        assert catalog.passage_for("KEY_EXPIRED") in plan
        assert catalog.remediations["extend-key-expiry"].title in plan
        assert "az keyvault key set-attributes" in plan
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosisScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


async def test_a_given_cluster_opens_at_once_and_escape_reaches_the_list(wizard_backend: MakeBackend) -> None:
    backend = wizard_backend("rbac-role-missing")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        await pilot.press("f")
        await pilot.pause()
        assert load_catalog().finding("RBAC_ROLE_MISSING").title in shown(app, "#finding-detail")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


async def test_quitting_returns_the_verdict_as_exit_code(wizard_backend: MakeBackend) -> None:
    for scenario, code in (("key-expired", 1), ("healthy", 0)):
        backend = wizard_backend(scenario)
        app = WizardApp(backend, cluster_id=backend.default_cluster_id())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
        assert app.return_value == code


async def test_the_check_that_found_the_cause_is_selected_with_its_evidence(
    fake_backend: MakeFakeBackend,
) -> None:
    backend = fake_backend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id())
    tree = load_tree()
    key_dates = next(i for i, spec in enumerate(tree) if spec.id == "key.dates")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#checks", CheckList).highlighted == key_dates
        detail = shown(app, "#check-detail")
        assert tree[key_dates].title in detail
        assert "2026-10-01T00:00:00Z" in detail
        assert "keys.get (management plane)" in detail
        assert load_catalog().passages[tree[key_dates].passage] in detail
        assert "under 10 ms" in detail


async def test_a_permission_gap_is_unknown_and_names_the_role(fake_backend: MakeFakeBackend) -> None:
    backend = fake_backend("no-role-read")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id())
    rbac = next(i for i, spec in enumerate(load_tree()) if spec.id == "access.rbac")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Incomplete" in shown(app, "#diagnosis-summary")
        await pilot.press(*["down"] * rbac)
        title = load_tree()[rbac].title
        await until(pilot, lambda: shown(app, "#check-detail").startswith(title), what="the rbac check")
        detail = shown(app, "#check-detail")
        assert "unknown" in detail
        assert "To answer this you need" in detail
        assert "roleAssignments/read" in detail
        await pilot.press("q")
    assert app.return_value == 3


async def test_a_sign_in_failure_is_explained_not_raised(fake_backend: MakeFakeBackend) -> None:
    backend = fake_backend("signed-out")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert "az login" in shown(app, "#check-detail")
        assert "not connected" in app.context_line
        await pilot.press("escape")
        await pilot.pause()
        assert "az login" in shown(app, "#start-problem")
        await pilot.press("q")
    assert app.return_value == 3


async def test_no_list_permission_still_lets_you_paste_a_cluster_id(fake_backend: MakeFakeBackend) -> None:
    backend = fake_backend("cannot-list", open_default=False)
    cluster_id = FakeBackendId.of(backend)
    app = WizardApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        problem = shown(app, "#start-problem")
        assert "Reader on subscription" in problem
        assert "paste a cluster resource ID" in problem
        await pilot.press("slash", *cluster_id, "enter")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert "Unhealthy" not in shown(app, "#diagnosis-summary")
        assert "Healthy" in shown(app, "#diagnosis-summary")


class FakeBackendId:
    """The healthy billing cluster's ID, for the paste test."""

    @staticmethod
    def of(backend: object) -> str:
        from tests.ui.fakes import arm_id

        return arm_id("rg-billing", "Microsoft.DocumentDB/mongoClusters", "billing-prod")


async def test_help_lists_every_binding_of_every_screen(fake_backend: MakeFakeBackend) -> None:
    backend = fake_backend("healthy", open_default=False)
    app = WizardApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.plain_text()
        for _, bindings in app.help_sections():
            for binding in bindings:
                assert (binding.tooltip or binding.description) in text
        assert "Command palette" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


async def test_palette_reruns_and_switches_to_terminal_colours(fake_backend: MakeFakeBackend) -> None:
    backend = fake_backend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), terminal_colours=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        first_run = app.screen.generation
        await pilot.press("ctrl+p", *"Re-run diagnosis", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert app.screen.generation == first_run + 1
        assert "Unhealthy" in shown(app, "#diagnosis-summary")
        await pilot.press("ctrl+p", *"Toggle terminal colours", "enter")
        await pilot.pause()
        assert app.theme == TERMINAL_COLOUR_THEME


async def test_palette_switches_scenario_and_opens_its_cluster(fake_backend: MakeFakeBackend) -> None:
    backend = fake_backend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Switch scenario: healthy", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert "Healthy" in shown(app, "#diagnosis-summary")
        assert "fake: healthy" in app.context_line
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)


async def test_read_only_shows_a_banner(fake_backend: MakeFakeBackend) -> None:
    app = WizardApp(fake_backend("healthy", read_only=True, open_default=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one("#context-read-only")
        assert banner.display
        assert "READ-ONLY" in shown(app, "#context-read-only")


async def test_filter_narrows_the_list_and_enter_opens_the_only_match(fake_backend: MakeFakeBackend) -> None:
    app = WizardApp(fake_backend("key-expired", open_default=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#clusters", DataTable)
        assert table.row_count == 3
        await pilot.press("slash", *"kv-ledger")
        await until(pilot, lambda: table.row_count == 1, what="the filter to apply")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        assert app.screen.cluster_name == "ledger-dev"
