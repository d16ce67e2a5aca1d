"""Never wait for Ready while a cause is still there: one rule for `fix`, `watch` and the Fix
screen (wizard/run/wait_gate.py; issue 12 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.cli import main
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.results import OutcomeStatus
from wizard.emulator.model import State
from wizard.run.audit import AuditLog
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings

FAST = FixSettings(wait_timeout=30.0, wait_poll=0.05, wait_max_poll=0.1, wait_recheck=0.2)


def disable_key(state: State) -> None:
    vault = state.live_vault("kv-cmk-demo")
    assert vault is not None
    key = vault.key("cmk")
    assert key is not None
    key.latest.enabled = False


def _session(backend: EmulatorBackend, tmp_path: Path) -> FixSession:
    cluster_id = backend.default_cluster_id() or ""
    return FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "a.jsonl"), settings=FAST)


def test_watch_on_a_cluster_nobody_fixed_does_not_wait(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["watch", "--scenario", "multi-fault", "--wait-timeout", "30"])
    out = capsys.readouterr().out
    assert code == 1
    assert "no wait for Ready" in out
    for cause in ("KEY_EXPIRED", "VAULT_FIREWALL_BLOCKS_SERVICE", "RBAC_ROLE_MISSING"):
        assert f"{cause} (present" in out
    assert "waiting: cluster" not in out
    assert "cmk-wizard fix --cluster" in out


def test_a_skipped_cause_means_no_wait(tmp_path: Path) -> None:
    backend = EmulatorBackend(Options(), scenario="multi-fault")
    try:
        session = FixSession(
            backend.connect(),
            backend.default_cluster_id() or "",
            audit=AuditLog(tmp_path / "a.jsonl"),
            settings=FAST,
        )
        session.diagnose()
        firewall = next(s for s in session.plan().steps if s.finding == "VAULT_FIREWALL_BLOCKS_SERVICE")
        session.skip(firewall)
        waited = session.wait()
        assert waited.status == OutcomeStatus.BLOCKED
        assert waited.wait is None  # not one poll
        assert "VAULT_FIREWALL_BLOCKS_SERVICE (skipped" in waited.message
        assert "KEY_EXPIRED (present" in waited.message
        assert session.unskip(firewall)
        assert "skipped" not in session.wait().message
    finally:
        backend.close()


def test_a_wait_stops_when_a_cause_shows_up_during_it(tmp_path: Path) -> None:
    backend = EmulatorBackend(Options(), scenario="key-expired", revalidate_seconds=3600)
    try:
        session = FixSession(
            backend.connect(),
            backend.default_cluster_id() or "",
            audit=AuditLog(tmp_path / "a.jsonl"),
            settings=FAST,
        )
        extend = session.plan().next_step
        assert extend is not None
        assert session.apply(extend, confirmation=True).succeeded
        backend.emulator.mutate(disable_key)  # someone disables the key while we wait
        waited = session.wait()
        assert waited.status == OutcomeStatus.BLOCKED
        assert waited.wait is not None
        assert waited.wait.polls >= 1
        assert "KEY_DISABLED (present" in waited.message
        assert "stopped waiting" in waited.message
    finally:
        backend.close()
