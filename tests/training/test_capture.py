"""capture: every built-in scenario, captured from the emulator and replayed, diagnoses and plans alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import BackendFactory
from wizard.cli import main
from wizard.emulator import load_estate, scenario_names
from wizard.engine.fix_plan import plan_fixes
from wizard.run.diagnose import Diagnosis, diagnose

ORIGINAL_SUBSCRIPTION = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"


def diagnosed(make: BackendFactory, scenario: str) -> Diagnosis:
    backend = make(scenario)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    return diagnose(backend.connect(), cluster_id)


def shape(d: Diagnosis) -> tuple[object, ...]:
    """What must survive a capture: verdict, findings, every check's status, the plan's steps."""
    plan = plan_fixes(d)
    return (
        d.verdict,
        [f.code for f in d.findings],
        {c.id: c.status for c in d.assessment.checks},
        [(s.remediation, s.finding, s.kind, s.confirm) for s in plan.steps],
    )


def capture(scenario: str, output: Path, *extra: str) -> int:
    return main(["capture", "--scenario", scenario, "--output", str(output), "--retry-total", "0", *extra])


@pytest.mark.parametrize("scenario", scenario_names())
def test_a_captured_scenario_replays_to_the_same_findings_and_plan(
    scenario: str, tmp_path: Path, emulator_backend: BackendFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "incident.yaml"
    assert capture(scenario, output) == 0
    assert f"replay: cmk-wizard demo --scenario {output}" in capsys.readouterr().out
    load_estate(str(output))  # a valid estate file, through the documented loader
    assert shape(diagnosed(emulator_backend, str(output))) == shape(diagnosed(emulator_backend, scenario))
    raw = json.loads((tmp_path / "incident.raw.json").read_text())
    assert raw["schema"] == "cmk-wizard/capture-raw/v1"
    assert raw["answers"]
    assert all("read" in a for a in raw["answers"])
    for path in (output, tmp_path / "incident.raw.json"):
        assert (path.stat().st_mode & 0o777) == 0o600


def test_names_and_ids_are_replaced_consistently(tmp_path: Path, emulator_backend: BackendFactory) -> None:
    output = tmp_path / "incident.yaml"
    assert capture("identity-recreated", output) == 0
    text = output.read_text() + (tmp_path / "incident.raw.json").read_text()
    source = load_estate("identity-recreated").build(0.0)
    for original in (
        ORIGINAL_SUBSCRIPTION,
        source.tenant_id,
        "rg-cmk-demo",
        "kv-cmk-demo",
        "id-cmk-demo",
        "cluster-identity-recreated",
        *(i.principal_id for i in source.identities),
    ):
        assert original.lower() not in text.lower(), original
    estate = yaml.safe_load(output.read_text())
    cluster = estate["clusters"][0]
    identity = estate["identities"][0]
    # the same identity is called the same everywhere; the principal the cluster remembers differs
    assert cluster["encryption"]["identity"].endswith("/" + identity["name"])
    assert cluster["identities"][0]["principalId"] != identity["principalId"]
    # the old principal's assignment is read only while the identity read is still pending
    for assignment in estate["roleAssignments"]:
        assert assignment["principal"] == cluster["identities"][0]["principalId"]


def test_keep_names_keeps_names_but_not_ids(tmp_path: Path) -> None:
    output = tmp_path / "incident.yaml"
    assert capture("firewall-blocked", output, "--keep-names") == 0
    estate = yaml.safe_load(output.read_text())
    assert estate["vaults"][0]["name"] == "kv-cmk-demo"
    assert estate["clusters"][0]["name"] == "cluster-firewall-blocked"
    assert ORIGINAL_SUBSCRIPTION not in output.read_text()
    assert estate["vaults"][0]["networkAcls"]["ipRules"] == ["192.0.2.1/32"]


def test_capture_refuses_a_symlinked_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere.yaml"
    target.write_text("keep me")
    link = tmp_path / "incident.yaml"
    link.symlink_to(target)
    assert capture("key-expired", link) == 2
    assert target.read_text() == "keep me"
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "scenario",
    [
        "rbac-role-missing",
        "identity-deleted",
        "vault-soft-deleted",
        "firewall-blocked",
        "multi-fault",
        "provisioning-failed",
    ],
)
def test_the_activity_log_behind_the_findings_is_captured_too(
    scenario: str, tmp_path: Path, emulator_backend: BackendFactory
) -> None:
    from wizard.run.forensics import what_changed

    output = tmp_path / "incident.yaml"
    assert capture(scenario, output) == 0

    def timeline(name: str) -> list[tuple[str, str, str]]:
        backend = emulator_backend(name)
        cluster_id = backend.default_cluster_id()
        assert cluster_id
        changed = what_changed(backend.activity(), diagnose(backend.connect(), cluster_id))
        return [(c.finding, c.event.operation, c.event.status) for c in changed.changes]

    original = timeline(scenario)
    assert original, "these scenarios have a history behind their findings"
    assert timeline(str(output)) == original
    assert "contoso.com" not in output.read_text()
