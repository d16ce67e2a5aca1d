"""Issue 12 items 8-10 and 14 in the wizard: keys that move and go back one level, footers that
tell the truth, the 80x24 layout, colour modes that stay readable, and what a scenario shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from screens.app import WizardApp
from screens.commands import WizardCommands
from screens.confirm import ConfirmStepScreen
from screens.diagnosis import DiagnosisScreen
from screens.findings import FindingsScreen
from screens.fix import RemediationScreen
from screens.help import HelpScreen
from screens.incident import ReportScreen
from screens.presentation import path_lines, tables_as_lists
from screens.themes import NO_COLOUR_THEME, TERMINAL_COLOUR_THEME
from screens.widgets.context_bar import ContextBar
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import fix_from_here, settle, shown, until
from wizard.engine.fix_plan import plan_fixes


def make_app(
    scenario: str, tmp_path: Path, *, read_only: bool = False, colours: bool | None = False
) -> WizardApp:
    backend = FakeBackend(scenario, read_only=read_only)
    return WizardApp(
        backend,
        cluster_id=backend.default_cluster_id(),
        terminal_colours=colours,
        audit_path=tmp_path / "audit.jsonl",
        report_dir=tmp_path / "reports",
    )


def footer_keys(pilot: Pilot[int]) -> dict[str, str]:
    """What the footer of the screen on top shows: key -> label, only the live bindings."""
    return {
        key: active.binding.description
        for key, active in pilot.app.screen.active_bindings.items()
        if active.binding.show
    }


async def test_j_and_k_move_like_the_arrows(tmp_path: Path) -> None:
    app = make_app("multi-fault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        checks = app.screen.query_one("#checks", OptionList)
        start = checks.highlighted or 0
        await pilot.press("j", "j")
        assert checks.highlighted == start + 2
        await pilot.press("k")
        assert checks.highlighted == start + 1


async def test_escape_goes_back_one_level_and_the_footer_says_where(tmp_path: Path) -> None:
    """From the details escape returns to the checklist (not the cluster list), as the footer says."""
    app = make_app("key-expired", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert footer_keys(pilot)["escape"] == "Clusters"
        await pilot.press("enter")
        assert app.screen.focused is app.screen.query_one("#check-detail")
        assert footer_keys(pilot)["escape"] == "Checklist"
        await pilot.press("escape")
        assert isinstance(app.screen, DiagnosisScreen)
        assert app.screen.focused is app.screen.query_one("#checks")
        assert footer_keys(pilot)["escape"] == "Clusters"


async def test_x_on_the_checklist_opens_the_fix(tmp_path: Path) -> None:
    app = make_app("key-expired", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert footer_keys(pilot)["x"] == "Fix"
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RemediationScreen), what="the fix")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, FindingsScreen), what="the findings")


async def test_a_modal_footer_shows_only_the_modal_keys(tmp_path: Path) -> None:
    """Under the confirmation: y and n, no quit, help or palette; q does not leave the app."""
    app = make_app("rbac-role-missing", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await fix_from_here(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmStepScreen), what="the confirmation")
        assert set(footer_keys(pilot)) == {"y", "n", "escape"}
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmStepScreen)
        assert app.is_running
        await pilot.press("question_mark")
        assert isinstance(app.screen, ConfirmStepScreen)


async def test_read_only_offers_no_apply_and_no_wait(tmp_path: Path) -> None:
    app = make_app("key-expired", tmp_path, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await fix_from_here(pilot)
        keys = footer_keys(pilot)
        assert "a" not in keys
        assert "w" not in keys
        assert "s" not in keys
        assert keys["p"] == "Report"


async def test_help_lines_wrap_under_their_text_and_enter_shows_once(tmp_path: Path) -> None:
    app = make_app("healthy", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        for _, bindings in help_screen.sections:
            keys = [key for key, _ in help_screen.shown_keys(bindings)]
            assert len(keys) == len(set(keys))
        console = Console(width=60, record=True, color_system=None)
        for _, bindings in help_screen.sections:
            console.print(help_screen._keys(bindings))
        lines = console.export_text().splitlines()
        continued = [line for line in lines if line and not line[:13].strip()]
        assert continued, "some help line is long enough to wrap at 60 columns"
        assert all(line.startswith(" " * 14) for line in continued)
        assert set(footer_keys(pilot)) <= {"escape", "q", "question_mark"}


async def test_the_confirmation_leaves_the_header_in_sight(tmp_path: Path) -> None:
    """Even the tallest box (an irreversible step, typed name) starts below the context bar."""
    app = make_app("purge-protection-off", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        fix = await fix_from_here(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmStepScreen), what="the confirmation")
        await pilot.pause()
        box = app.screen.query_one("#confirm-box").region
        bar = fix.query_one(ContextBar).region
        assert box.y > bar.y + bar.height - 1
        assert box.y + box.height <= 23  # the footer's row stays free


async def test_findings_are_listed_in_the_order_the_plan_fixes_them(tmp_path: Path) -> None:
    app = make_app("multi-fault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FindingsScreen), what="the findings")
        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        listed = [f.code for f in screen.findings]
        planned = list(dict.fromkeys(s.finding for s in plan_fixes(screen.diagnosis).steps))
        assert [code for code in listed if code in planned] == planned
        assert listed[: len(planned)] == planned
        assert listed != [
            f.code for f in screen.diagnosis.findings
        ]  # multi-fault: the engine's order differs


async def test_a_refusal_puts_the_needed_role_above_the_fold(tmp_path: Path) -> None:
    """The 403's role comes right under the status line; Azure's full text follows."""
    app = make_app("no-role-read", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiagnosisScreen)
        checks = screen.query_one("#checks", OptionList)
        checks.highlighted = [spec.id for spec in screen.specs].index("access.rbac")
        await settle(pilot)
        lines = shown(app, "#check-detail").splitlines()
        assert lines[2] == "To answer this you need"
        assert "Reader" in lines[3]
        assert "AuthorizationFailed" not in lines[1]
        assert any("AuthorizationFailed" in line for line in lines[4:])


def test_paths_break_only_between_names() -> None:
    path = (
        "/home/someone/.local/state/cmk-wizard/demo/reports/incident-cluster-multi-fault-20261201T235651Z.md"
    )
    lines = path_lines(path, 40)
    assert "".join(lines.splitlines()) == path
    assert all(line.endswith("/") for line in lines.splitlines()[:-1])
    assert lines.splitlines()[-1] == "incident-cluster-multi-fault-20261201T235651Z.md"


def test_report_tables_become_rows_the_status_can_be_read_in() -> None:
    markdown = (
        "| check | question | status | detail |\n|---|---|---|---|\n"
        "| `key.dates` | Key in date | fail | expired \\| gone |\n"
    )
    assert (
        tables_as_lists(markdown)
        == "- **`key.dates`** · question: Key in date · status: fail · detail: expired \\| gone"
    )


async def test_the_report_viewer_keeps_status_and_path_whole(tmp_path: Path) -> None:
    app = make_app("key-expired", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await fix_from_here(pilot)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), what="the report")
        report = app.screen
        assert isinstance(report, ReportScreen)
        assert footer_keys(pilot)["escape"] == "Fix"
        where = shown(app, "#report-path").splitlines()[1:]
        assert report.path is not None
        assert "".join(where) == str(report.path)
        assert all(line.endswith("/") for line in where[:-1])
        assert "| status |" in report.markdown  # the saved report keeps its table
        assert "status: fail" in report.viewed
        assert "|---" not in report.viewed


def _contrast(one: Color, other: Color) -> float:
    light, dark = sorted((one.brightness, other.brightness), reverse=True)
    return light - dark


async def test_no_color_keeps_the_selected_mark_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR greys every colour: the ✗ on the cursor row must not be grey on grey."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("key-expired", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == NO_COLOUR_THEME
        variables = app.get_css_variables()
        cursor = Color.parse(variables["block-cursor-background"])
        for mark in ("error", "success", "warning"):
            assert _contrast(Color.parse(variables[mark]), cursor) > 0.35, mark
            assert _contrast(Color.parse(variables[mark]), Color.parse(variables["surface"])) > 0.5, mark


@pytest.mark.parametrize("how", ["--colours terminal", "TERM=screen"])
async def test_terminal_colours_keep_an_unfocused_border(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """On a black terminal ansi_black is the background: a blurred pane's border must not use it."""
    if how == "TERM=screen":
        monkeypatch.setenv("TERM", "screen")
        monkeypatch.delenv("COLORTERM", raising=False)
        monkeypatch.delenv("CMK_WIZARD_COLOURS", raising=False)
    app = make_app("key-expired", tmp_path, colours=True if how.startswith("--") else None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == TERMINAL_COLOUR_THEME
        assert app.current_theme.variables["border-blurred"] != "ansi_black"


async def test_scenario_shown_on_start_and_marked_in_the_palette(tmp_path: Path) -> None:
    """A trainer sees what the scenario shows; the palette marks the one playing."""
    app = make_app("healthy", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = shown(app, "#diagnosis-scenario")
        assert line.startswith("Scenario healthy: A CMK cluster that can use its key")
        await pilot.press("escape")
        await settle(pilot)
        assert "Scenario healthy:" in str(app.screen.query_one("#start-scenario", Static).visual)
        titles = [title for title, _, _ in WizardCommands(app.screen)._commands()]
        assert "Switch scenario: healthy ● playing now" in titles
        assert "Switch scenario: key-expired" in titles
