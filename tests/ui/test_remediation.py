"""Keyboard walks through a fix: preview, confirm, apply, verify, wait for Ready, report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from screens.app import WizardApp
from screens.confirm import ConfirmStepScreen
from screens.diagnosis import DiagnosisScreen
from screens.findings import FindingsScreen
from screens.fix import RemediationScreen
from screens.incident import ReportScreen, clipboard_sequences
from tests.conftest import BackendFactory
from tests.ui.conftest import MakeBackend, MakeFakeBackend
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import settle, shown, until
from wizard.domain.catalog import load_catalog


async def open_fix(pilot: Pilot[int]) -> RemediationScreen:
    """From the finished diagnosis: findings, then x, then wait for the plan."""
    app = pilot.app
    await settle(pilot)
    assert isinstance(app.screen, DiagnosisScreen)
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, FindingsScreen), what="the findings")
    await pilot.press("x")
    await until(pilot, lambda: isinstance(app.screen, RemediationScreen), what="the fix screen")
    screen = app.screen
    assert isinstance(screen, RemediationScreen)
    await until(pilot, lambda: screen.plan is not None and not screen.busy)
    # The preview follows the plan by a message or two (the step list's highlight): on a busy
    # machine the pane can still say "Planning" when the plan is already there.
    await until(pilot, lambda: "Planning" not in shown(app, "#fix-detail"), what="the first step's preview")
    return screen


def top(app: App[int]) -> Screen[Any]:
    """The screen on top, unnarrowed (so identity checks after isinstance asserts type-check)."""
    return app.screen


def audit_records(path: Path) -> list[dict[str, object]]:
    """The JSONL audit log, or nothing when no write was attempted."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_a_full_fix_by_keyboard(wizard_backend: MakeBackend, tmp_path: Path) -> None:
    backend = wizard_backend("key-expired")
    app = WizardApp(
        backend,
        cluster_id=backend.default_cluster_id(),
        audit_path=tmp_path / "audit.jsonl",
        report_dir=tmp_path / "reports",
    )
    catalog = load_catalog()
    extend = catalog.remediations["extend-key-expiry"]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        # Preview: what changes, the REST call, az, permission, reversibility.
        preview = shown(app, "#fix-detail")
        assert extend.title in preview
        assert "What changes" in preview
        assert "expires" in preview
        assert "→" in preview
        assert "PATCH " in preview
        assert "az keyvault key set-attributes" in preview
        assert extend.permission in preview
        assert "Reversible" in preview
        assert "a applies step 1" in shown(app, "#fix-summary")
        # Confirm: a yes/no modal.
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmStepScreen)
        assert extend.title in "\n".join(str(s.visual) for s in app.screen.query(Static))
        await pilot.press("y")
        # Apply, verify, re-plan.
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        assert top(app) is screen
        result = shown(app, "#fix-detail")
        assert "Done" in result
        assert "Verified by diagnosing again" in result
        assert "verified" in result
        assert "key.dates" in result
        records = audit_records(tmp_path / "audit.jsonl")
        assert [r["phase"] for r in records] == ["before", "after"]
        assert records[0]["remediation"] == "extend-key-expiry"
        # Wait for Ready.
        await pilot.press("w")
        await until(pilot, lambda: any(o.wait is not None for o in screen.outcomes) and not screen.busy)
        assert "Ready" in shown(app, "#fix-detail")
        assert "cluster is Ready" in shown(app, "#fix-summary")
        # Report: shown, saved, and mentioning the step.
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen))
        report_screen = app.screen
        assert isinstance(report_screen, ReportScreen)
        assert report_screen.path is not None
        assert report_screen.path.parent == tmp_path / "reports"
        saved = report_screen.path.read_text()
        assert "extend-key-expiry" in saved
        assert "KEY_EXPIRED" in saved
        assert "## What changed (Activity Log)" in saved
        assert "AuditEvent" in saved  # the key's own changes are in the vault's logs, and it says so
        saved_to = shown(app, "#report-path").splitlines()
        assert "".join(saved_to[1:]) == str(report_screen.path)  # broken only between names
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert top(app) is screen
        # Back to the findings: something changed, so the diagnosis runs again and is healthy now.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DiagnosisScreen)
        await until(pilot, lambda: "Healthy" in shown(app, "#diagnosis-summary"))
        # The palette opens the last report again.
        await pilot.press("ctrl+p", *"Open report", "enter")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen))


async def test_read_only_shows_the_plan_and_cannot_write(wizard_backend: MakeBackend, tmp_path: Path) -> None:
    backend = wizard_backend("key-expired", read_only=True)
    app = WizardApp(
        backend,
        cluster_id=backend.default_cluster_id(),
        audit_path=tmp_path / "audit.jsonl",
        report_dir=tmp_path / "reports",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        assert "READ-ONLY: writes are disabled" in shown(app, "#fix-summary")
        assert "writes are disabled" in shown(app, "#fix-detail")
        assert load_catalog().remediations["extend-key-expiry"].title in shown(app, "#fix-detail")
        await pilot.press("a")
        await pilot.pause()
        assert top(app) is screen
        assert not isinstance(app.screen, ConfirmStepScreen)
        assert screen.outcomes == ()
        # Calling the action directly (bypassing the dimmed key) still confirms nothing.
        screen.action_apply()
        await pilot.pause()
        assert top(app) is screen
    assert audit_records(tmp_path / "audit.jsonl") == []
    if isinstance(backend, FakeBackend):
        assert backend.reader.writes == 0


async def test_irreversible_step_needs_the_exact_name(tmp_path: Path) -> None:
    backend = FakeBackend("purge-protection-off")
    app = WizardApp(
        backend,
        cluster_id=backend.default_cluster_id(),
        audit_path=tmp_path / "audit.jsonl",
        report_dir=tmp_path / "reports",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        preview = shown(app, "#fix-detail")
        assert "NO: this cannot be undone" in preview
        assert "type the name kv-orders" in preview
        await pilot.press("a")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmStepScreen)
        await pilot.press("y")
        await pilot.pause()
        assert top(app) is confirm, "y alone must not confirm an irreversible step"
        await pilot.press(*"kv-other", "enter")
        await pilot.pause()
        assert top(app) is confirm
        assert "nothing was changed" in shown(app, "#confirm-error")
        assert backend.reader.writes == 0
        await pilot.press(*"kv-orders", "enter")
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        assert screen.outcomes[0].status == "ok"
        assert backend.estate.vaults["kv-orders"].purge_protection
    assert backend.reader.writes == 1


async def test_cancelling_a_confirmation_changes_nothing(tmp_path: Path) -> None:
    backend = FakeBackend("rbac-role-missing")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmStepScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert top(app) is screen
        assert screen.outcomes == ()
    assert backend.reader.writes == 0
    assert audit_records(tmp_path / "audit.jsonl") == []


async def test_leaving_during_the_wait_stops_it(tmp_path: Path) -> None:
    backend = FakeBackend("key-expired")
    backend.estate.revalidate_polls = 10_000
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        await pilot.press("a", "y")
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        await pilot.press("w")
        await pilot.pause()
        assert screen.busy == "waiting"
        await until(pilot, lambda: screen.last_progress is not None)
        assert "elapsed" in shown(app, "#fix-wait-line")
        assert "Inaccessible" in shown(app, "#fix-wait-line")
        await pilot.press("escape")
        await settle(pilot)
        assert screen.cancel_wait.is_set()
        assert not isinstance(app.screen, RemediationScreen)


async def test_a_failed_write_is_shown_with_what_to_do(tmp_path: Path) -> None:
    from wizard.domain.errors import Forbidden

    backend = FakeBackend("rbac-role-missing")
    backend.estate.errors["write"] = Forbidden(
        "AuthorizationFailed: roleAssignments/write denied", needs="Owner"
    )
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        await pilot.press("a", "y")
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        detail = shown(app, "#fix-detail")
        assert "Failed" in detail
        assert "What to do" in detail
        assert "roleAssignments/write" in detail


async def test_a_session_that_cannot_open_is_explained(tmp_path: Path) -> None:
    from wizard.domain.errors import Unreachable

    backend = FakeBackend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        backend.estate.errors["get_cluster"] = Unreachable("connection reset")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, RemediationScreen)
        detail = shown(app, "#fix-detail")
        assert "Could not plan: some checks could not run" in detail
        assert "connection reset" in detail
        assert "incomplete" in shown(app, "#fix-summary")


@pytest.mark.parametrize("tmux", [False, True])
def test_clipboard_is_osc52_and_tmux_wrapped_inside_tmux(tmux: bool) -> None:
    env = {"TMUX": "/tmp/tmux-0/default,1,0"} if tmux else {}
    sequences = clipboard_sequences("report", env)
    assert sequences[0].startswith("\x1b]52;c;")
    assert len(sequences) == (2 if tmux else 1)
    if tmux:
        assert sequences[1].startswith("\x1bPtmux;")
    assert clipboard_sequences("x" * 200_000, env) == []


async def test_open_report_without_a_fix_says_how_to_get_one() -> None:
    backend = FakeBackend("healthy", open_default=False)
    app = WizardApp(backend)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Open report", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)
        assert any("No report yet" in n.message for n in app._notifications)


async def test_a_sign_in_failure_when_opening_the_fix_is_explained(tmp_path: Path) -> None:
    from wizard.domain.errors import AuthFailed

    backend = FakeBackend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        backend.estate.connect_error = AuthFailed("token expired")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, RemediationScreen)
        assert "az login" in shown(app, "#fix-detail")
        assert "Could not sign in" in shown(app, "#fix-summary")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)


async def test_escape_while_a_write_is_applying_keeps_the_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaving mid-write would hide a write that goes on in the worker: escape is refused."""
    import threading

    from tests.ui.fakes import FakeWriter

    entered, release = threading.Event(), threading.Event()
    original = FakeWriter.extend_key_expiry

    def held(self: FakeWriter, *args: Any) -> Any:
        entered.set()
        release.wait(20)
        return original(self, *args)

    monkeypatch.setattr(FakeWriter, "extend_key_expiry", held)
    backend = FakeBackend("key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_fix(pilot)
        await pilot.press("a", "y")
        try:
            deadline = time.monotonic() + 20
            while not entered.is_set():
                assert time.monotonic() < deadline, "the write never started"
                await pilot.pause(0.01)
            assert screen.busy == "applying"
            await pilot.press("escape")
            await pilot.pause()
            assert top(app) is screen
            assert any("write is in progress" in n.message for n in app._notifications)
        finally:
            release.set()
        await until(pilot, lambda: screen.outcomes and not screen.busy)
        await pilot.press("escape")
        await pilot.pause()
        assert top(app) is not screen


PURGE_PROTECTION_OFF = """
name: purge-protection-off
identities: [{name: id-orders}]
vaults:
  - {name: kv-orders, purgeProtection: false, keys: [{name: cmk, expires: +365d}]}
clusters:
  - name: orders-prod
    identities: [id-orders]
    encryption: {identity: id-orders, vault: kv-orders, key: cmk}
roleAssignments:
  - {principal: id-orders, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-orders"}
"""


@pytest.mark.parametrize("kind", ["fake", "emulator"])
async def test_x_on_a_warning_fixes_that_warning_alone(
    kind: str, fake_backend: MakeFakeBackend, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """A healthy cluster's warning is never part of the cluster's fix: x with it under the cursor
    plans it on its own, and the summary says so."""
    estate = tmp_path / "purge-protection-off.yaml"
    estate.write_text(PURGE_PROTECTION_OFF)
    backend = fake_backend("purge-protection-off") if kind == "fake" else emulator_backend(str(estate))
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_fix(pilot)
        assert screen.scope == {"VAULT_PURGE_PROTECTION_OFF"}
        assert screen.plan is not None
        assert [s.remediation for s in screen.plan.steps] == ["enable-purge-protection"]
        assert "VAULT_PURGE_PROTECTION_OFF only" in shown(app, "#fix-summary")
