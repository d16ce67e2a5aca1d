"""Every built-in scenario, diagnosed through the real SDK against the emulator."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BackendFactory, in_both_status_modes
from wizard.cli import main
from wizard.domain.models import CheckStatus, Severity
from wizard.emulator import scenario_names
from wizard.engine.assess import critical_causes
from wizard.run.diagnose import diagnose

EXPECTED_CAUSES = {
    "healthy": set(),
    "key-expired": {"KEY_EXPIRED"},
    "key-disabled": {"KEY_DISABLED"},
    "key-soft-deleted": {"KEY_SOFT_DELETED"},
    "key-purged": {"KEY_PURGED"},
    "key-not-yet-active": {"KEY_NOT_YET_ACTIVE"},
    "vault-soft-deleted": {"VAULT_SOFT_DELETED"},
    "vault-soft-deleted-elsewhere": {"VAULT_SOFT_DELETED"},
    "vault-group-deleted": {"VAULT_SOFT_DELETED"},
    "vault-purged": {"VAULT_PURGED"},
    "identity-deleted": {"IDENTITY_DELETED"},
    "identity-recreated": {"IDENTITY_RECREATED", "RBAC_ROLE_MISSING"},
    "rbac-role-missing": {"RBAC_ROLE_MISSING"},
    "access-policy-revoked": {"ACCESS_POLICY_MISSING"},
    "firewall-blocked": {"VAULT_FIREWALL_BLOCKS_SERVICE"},
    "provisioning-failed": {"CLUSTER_PROVISIONING_FAILED", "RBAC_ROLE_MISSING"},
    "vault-recovered-rbac-lost": {"RBAC_ROLE_MISSING"},
    "operator-firewalled": set(),
    "multi-fault": {"KEY_EXPIRED", "RBAC_ROLE_MISSING", "VAULT_FIREWALL_BLOCKS_SERVICE"},
    "failed-last-operation": set(),
    "key-type-unsupported": {"KEY_TYPE_UNSUPPORTED"},
    "key-url-pinned-newest-disabled": set(),
    "operator-network-denied": {"KEY_EXPIRED"},
    "vault-private-default-bypass": set(),
}
"""The critical causes each scenario was built with. A cluster that came up and has a cause is also
CLUSTER_INACCESSIBLE (the symptom), from clusterStatus or, when that says Ready, Resource Health."""
NEVER_CAME_UP = {"provisioning-failed"}
WARNINGS = {"failed-last-operation": {"CLUSTER_LAST_OPERATION_FAILED"}}
"""Scenarios whose only findings are these warnings."""


def expected_criticals(scenario: str) -> set[str]:
    """The causes, and the symptom when a cluster that came up has one."""
    causes = EXPECTED_CAUSES[scenario]
    symptom = {"CLUSTER_INACCESSIBLE"} if causes and scenario not in NEVER_CAME_UP else set()
    return causes | symptom


def test_every_design_scenario_is_built_in() -> None:
    assert set(scenario_names()) == set(EXPECTED_CAUSES)


@pytest.mark.parametrize(("scenario", "mode"), in_both_status_modes(sorted(EXPECTED_CAUSES)))
def test_scenario_causes_are_exactly_what_it_was_built_with_in_both_status_modes(
    scenario: str, mode: str, emulator_backend: BackendFactory
) -> None:
    """The causes come from the dependency chain, whatever clusterStatus says: in `arm-enum` mode it
    stays Ready, and the symptom is seen through Resource Health instead."""
    backend = emulator_backend(scenario, status_mode=mode)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    result = diagnose(backend.connect(), cluster_id)
    criticals = {f.code for f in result.findings if f.severity == Severity.CRITICAL}
    assert critical_causes(result.findings) == EXPECTED_CAUSES[scenario]
    assert criticals == expected_criticals(scenario)
    if scenario in WARNINGS:
        assert {f.code for f in result.findings} == WARNINGS[scenario]
    assert not [c for c in result.assessment.checks if c.status == CheckStatus.UNKNOWN]
    assert result.exit_code == (0 if not EXPECTED_CAUSES[scenario] else 1)
    health = backend.emulator.health()["clusters"][cluster_id]
    assert health["canUseKey"] is (not EXPECTED_CAUSES[scenario])
    if mode == "arm-enum" and scenario not in NEVER_CAME_UP:
        assert result.cluster is not None
        assert result.cluster.cluster_status == "Ready", "only Resource Health shows the outage"


def test_operator_firewalled_reads_keys_through_the_management_plane(
    emulator_backend: BackendFactory,
) -> None:
    backend = emulator_backend("operator-firewalled")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    result = diagnose(backend.connect(), cluster_id)
    assert result.verdict == "healthy"
    data_plane = [r for r in backend.emulator.requests() if r["host"] != "arm"]
    assert data_plane == []


def test_diagnose_json_matches_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diagnose", "--scenario", "key-expired", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["schema"] == "cmk-wizard/diagnosis/v1"
    assert out["verdict"] == "unhealthy"
    assert set(out["cluster"]) >= {"id", "status", "provisioningState", "keyUrl", "identityId"}
    assert out["cluster"]["status"] == "Inaccessible"
    assert out["cluster"]["resourceHealth"]["availabilityState"] == "Unavailable"
    expired = next(f for f in out["findings"] if f["code"] == "KEY_EXPIRED")
    assert expired["severity"] == "critical"
    assert expired["remediations"][0] == "extend-key-expiry"
    assert "expiresOn" in expired["evidence"]
    assert {c["status"] for c in out["checks"]} <= {"pass", "fail", "unknown", "skipped"}
    assert isinstance(out["durationMs"], int)


def test_diagnose_text_names_the_cause(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "--scenario", "healthy"]) == 0
    assert "verdict  healthy" in capsys.readouterr().out
    assert main(["diagnose", "--scenario", "key-disabled"]) == 1
    assert "KEY_DISABLED" in capsys.readouterr().out


def test_a_private_vault_without_network_acls_lets_the_service_in_and_plans_nothing(
    emulator_backend: BackendFactory,
) -> None:
    """Public access Disabled and no networkAcls: bypass defaults to AzureServices (the Key Vault
    spec), so the firewall check passes and there is nothing to fix: no finding, no PATCH."""
    from wizard.engine.fix_plan import plan_fixes

    backend = emulator_backend("vault-private-default-bypass")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    result = diagnose(backend.connect(), cluster_id)
    network = next(c for c in result.assessment.checks if c.id == "vault.network")
    assert network.status == CheckStatus.PASS
    assert "default is AzureServices" in network.detail
    assert network.evidence["publicNetworkAccess"] == "Disabled"
    assert network.evidence["bypass"] is None
    assert result.findings == ()
    assert plan_fixes(result).steps == ()


def test_a_running_cluster_whose_last_operation_failed_is_never_offered_a_delete(
    emulator_backend: BackendFactory,
) -> None:
    from wizard.engine.fix_plan import plan_fixes

    backend = emulator_backend("failed-last-operation")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    result = diagnose(backend.connect(), cluster_id)
    codes = {f.code for f in result.findings}
    assert "CLUSTER_LAST_OPERATION_FAILED" in codes
    assert "CLUSTER_PROVISIONING_FAILED" not in codes
    named = plan_fixes(result, scope=["CLUSTER_LAST_OPERATION_FAILED"])
    assert all(s.remediation != "delete-failed-cluster" for s in named.steps)
