"""A same-name recreated identity is a new identity: replaced like a deleted one, with the grant
its vault's permission model needs, through the real SDK against the emulator, on both models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory, until
from tests.remediation.test_fix_scenarios import writes
from wizard.cli import main
from wizard.emulator.model import State
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.diagnose import diagnose
from wizard.run.fix import FixSession
from wizard.run.incident import incident_markdown

OLD_PRINCIPAL = "9d1a7c3e-2b4f-4e6a-8c0d-5f7e9a1b3c2d"
NEW_PRINCIPAL = "4b8e2f6a-93c1-4d5e-a7b0-1c2d3e4f5a6b"
RECREATED_ON_POLICIES = f"""
name: identity-recreated-policies
identities:
  - {{name: id-cmk-demo, principalId: {NEW_PRINCIPAL}}}
vaults:
  - name: kv-cmk-policies
    permissionModel: accessPolicy
    accessPolicies:
      - {{principal: {OLD_PRINCIPAL}, keys: [get, list, wrapKey, unwrapKey]}}
    keys: [{{name: cmk, size: 4096, expires: +365d}}]
clusters:
  - name: cluster-recreated-policies
    identities: [{{identity: id-cmk-demo, principalId: {OLD_PRINCIPAL}}}]
    encryption: {{identity: id-cmk-demo, vault: kv-cmk-policies, key: cmk}}
"""
MODELS = {
    "rbac": ("identity-recreated", "RBAC_ROLE_MISSING", "grant-crypto-role"),
    "accessPolicy": ("policies.yaml", "ACCESS_POLICY_MISSING", "add-access-policy"),
}


def replacement(grant: str) -> list[str]:
    """The replacement's steps: a new identity, the grant its vault takes, then the attach."""
    return ["create-identity", grant, "attach-identity-and-key"]


def scenario(model: str, tmp_path: Path) -> str:
    name = MODELS[model][0]
    if name.endswith(".yaml"):
        (tmp_path / name).write_text(RECREATED_ON_POLICIES)
        return str(tmp_path / name)
    return name


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_recreated_identity_lists_only_the_grant_its_vault_takes_and_names_the_missing_access(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, access_code, grant = MODELS[model]
    other = "add-access-policy" if grant == "grant-crypto-role" else "grant-crypto-role"
    assert main(["diagnose", "--scenario", scenario(model, tmp_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    findings = {f["code"]: f for f in report["findings"]}
    assert findings["IDENTITY_RECREATED"]["remediations"] == replacement(grant)
    assert findings[access_code]["remediations"] == [grant]
    assert findings[access_code]["evidence"]["principalId"] == NEW_PRINCIPAL
    assert all(other not in f["remediations"] for f in report["findings"])


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_recreated_identity_is_replaced_by_a_new_one_and_the_cluster_is_ready(
    model: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    _, access_code, grant = MODELS[model]
    backend = emulator_backend(scenario(model, tmp_path))
    cluster_id = backend.default_cluster_id() or ""
    gateway = backend.connect()
    session = FixSession(gateway, cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    first = session.plan()
    create = first.steps[0]
    assert create.remediation == "create-identity"
    assert "same name" in create.explanation
    result = session.run(auto_confirm)
    assert not result.stopped, result.stopped
    assert [o.step.remediation for o in result.outcomes if o.step.kind == "write"] == replacement(grant)
    assert {access_code} <= set(result.outcomes[1].step.also_fixes) | {result.outcomes[1].step.finding}
    emulator = backend.emulator
    assert until(lambda: emulator.health()["clusters"][cluster_id]["status"] == "Ready")

    def cluster_and_grants(state: State) -> tuple[str, str, list[Any], list[Any]]:
        cluster = state.clusters[0]
        identity = state.identity(cluster.key_identity_id or "")
        assert identity is not None
        policies = [p.object_id for p in state.vaults[0].access_policies]
        assignments = [a.principal_id for a in state.role_assignments]
        return identity.name, identity.principal_id, policies, assignments

    name, principal, policies, assignments = emulator.mutate(cluster_and_grants)
    assert name != "id-cmk-demo"
    assert name.startswith("id-cmk-demo-")
    assert principal not in (OLD_PRINCIPAL, NEW_PRINCIPAL)
    granted = assignments if grant == "grant-crypto-role" else policies
    assert principal in granted
    assert NEW_PRINCIPAL not in policies + assignments, "the recreated principal is never granted"
    kinds = {r["kind"] for r in writes(emulator)}
    assert ("role-assignments" in kinds) is (grant == "grant-crypto-role")
    assert diagnose(gateway, cluster_id).verdict == "healthy"
    report = incident_markdown(session)
    assert f"Remediations that apply here: create-identity, {grant}, attach-identity-and-key" in report


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_wizards_findings_pane_shows_only_the_grant_that_fits(
    model: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    from screens.findings import finding_detail
    from wizard.domain.catalog import load_catalog

    _, access_code, grant = MODELS[model]
    backend = emulator_backend(scenario(model, tmp_path))
    result = diagnose(backend.connect(), backend.default_cluster_id() or "")
    catalog = load_catalog()
    titles = {r: catalog.remediations[r].title for r in ("grant-crypto-role", "add-access-policy")}
    other = "add-access-policy" if grant == "grant-crypto-role" else "grant-crypto-role"
    for code in ("IDENTITY_RECREATED", access_code):
        finding = next(f for f in result.findings if f.code == code)
        shown = " ".join(text for _, text in finding_detail(result, finding, catalog))
        assert titles[grant] in shown, code
        assert titles[other] not in shown, code
        assert "Create a new user-assigned identity" in shown, code
