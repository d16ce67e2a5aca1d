"""What changed: the Activity Log behind each finding, through the real MonitorManagementClient
against the emulator (the estate's history, and the writes the emulator itself received)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import BackendFactory
from wizard.azure.activity import ActivityGateway
from wizard.cli import main
from wizard.domain.errors import Forbidden
from wizard.domain.forensics import NEEDS_ACTIVITY_READ
from wizard.engine.forensics import KEY_DATA_PLANE
from wizard.run.diagnose import diagnose
from wizard.run.forensics import what_changed


def test_the_history_names_who_removed_the_role(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("rbac-role-missing")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    diagnosis = diagnose(backend.connect(), cluster_id)
    changed = what_changed(ActivityGateway(backend.connect()), diagnosis)
    [change] = changed.changes
    assert change.finding == "RBAC_ROLE_MISSING"
    assert change.event.operation == "Microsoft.Authorization/roleAssignments/delete"
    assert change.event.caller == "jane.doe@contoso.com"
    assert change.event.status == "Succeeded"
    assert change.event.correlation_id
    assert timedelta(days=2) < datetime.now(UTC) - change.event.time < timedelta(days=4)


def test_a_window_too_short_finds_nothing_but_says_what_it_searched(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("rbac-role-missing")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    changed = what_changed(
        ActivityGateway(backend.connect()), diagnose(backend.connect(), cluster_id), days=1
    )
    assert changed.changes == ()
    assert changed.until - changed.since == timedelta(days=1)


def test_the_emulator_logs_every_write_it_answers(emulator_backend: BackendFactory) -> None:
    """A role assignment deleted through the SDK while the emulator runs shows up, caller and all."""
    backend = emulator_backend("healthy")
    gateway = backend.connect()
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    vault = gateway.get_vault(gateway.find_vault("kv-cmk-demo").id)  # type: ignore[union-attr]
    client = gateway.factory.authorization(vault.subscription_id)
    for assignment in client.role_assignments.list_for_scope(vault.id):
        client.role_assignments.delete(vault.id, assignment.name)
    changed = what_changed(ActivityGateway(gateway), diagnose(gateway, cluster_id))
    operations = [(c.finding, c.event.operation, c.event.caller) for c in changed.changes]
    assert (
        "RBAC_ROLE_MISSING",
        "Microsoft.Authorization/roleAssignments/delete",
        "operator@emulator.local",
    ) in operations


def test_data_plane_key_changes_are_said_to_be_elsewhere(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("key-expired")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    changed = what_changed(ActivityGateway(backend.connect()), diagnose(backend.connect(), cluster_id))
    assert KEY_DATA_PLANE in changed.not_shown
    assert "AuditEvent" in KEY_DATA_PLANE


def test_no_activity_log_permission_is_unknown_with_what_would_let_it(
    emulator_backend: BackendFactory,
) -> None:
    backend = emulator_backend("firewall-blocked")
    backend.emulator.set_faults(restrictions=["deny:activity-log"])
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    changed = what_changed(ActivityGateway(backend.connect()), diagnose(backend.connect(), cluster_id))
    assert changed.changes == ()
    [unknown] = changed.unanswered
    assert unknown.finding == "VAULT_FIREWALL_BLOCKS_SERVICE"
    assert NEEDS_ACTIVITY_READ in unknown.needs
    with pytest.raises(Forbidden):
        ActivityGateway(backend.connect()).list_activity(
            backend.connect().factory.subscription_id,
            "rg-cmk-demo",
            datetime.now(UTC) - timedelta(days=1),
            datetime.now(UTC),
        )


def test_diagnose_json_gains_what_changed_and_keeps_its_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "--scenario", "identity-deleted", "--format", "json", "--what-changed"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "cmk-wizard/diagnosis/v1"
    change = out["whatChanged"]["changes"][0]
    assert change["operation"] == "Microsoft.ManagedIdentity/userAssignedIdentities/delete"
    assert change["caller"] == "deploy-pipeline@contoso.com"
    assert {"time", "status", "correlationId", "resourceId", "finding"} <= set(change)
    assert main(["diagnose", "--scenario", "identity-deleted", "--format", "json"]) == 1
    assert "whatChanged" not in json.loads(capsys.readouterr().out)


def test_the_incident_report_has_a_what_changed_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "incident.md"
    code = main(
        ["fix", "--scenario", "multi-fault", "--all", "--yes", "--what-changed", "--report", str(report)]
    )
    assert code == 0
    text = report.read_text()
    section = text.split("## What changed (Activity Log)")[1].split("## Timeline")[0]
    assert "netops@contoso.com" in section
    assert "Microsoft.Authorization/roleAssignments/delete" in section
    assert "AuditEvent" in section


@pytest.mark.parametrize("since", ["0d", "91d", "forever"])
def test_a_bad_window_is_one_line_and_exit_2(since: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["diagnose", "--scenario", "healthy", "--what-changed", "--since", since])
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
