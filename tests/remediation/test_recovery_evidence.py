"""clusterStatus is not evidence of recovery: through the real SDK against the emulator, Resource Health
is read as a check (unknown with `needs` when the operator may not), the wait ends only on proof of
revalidation (else `unconfirmed`: verdict incomplete, exit 3), and a Stopped cluster is not waited on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.conftest import BackendFactory
from wizard.cli import build_parser, main
from wizard.cli.fix import run_fix
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.models import CheckStatus
from wizard.emulator.model import State
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.diagnose import diagnose
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings
from wizard.run.incident import incident_markdown
from wizard.run.wait import UNCONFIRMED

NO_HEALTH_READ = "no-resource-health-read"
HEALTH_PERMISSION = "Microsoft.ResourceHealth/availabilityStatuses/read"

STOPPED_EXPIRED = """
name: stopped-expired
identities: [{name: id-cmk-demo}]
vaults:
  - name: kv-cmk-demo
    keys: [{name: cmk, size: 4096, expires: -1d}]
clusters:
  - name: cluster-stopped
    clusterStatus: Stopped
    identities: [id-cmk-demo]
    encryption: {identity: id-cmk-demo, vault: kv-cmk-demo, key: cmk}
roleAssignments:
  - {principal: id-cmk-demo, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-cmk-demo"}
"""


def enable_key(state: State) -> None:
    vault = state.live_vault("kv-cmk-demo")
    assert vault is not None
    key = vault.key("cmk")
    assert key is not None
    key.latest.enabled = True


@pytest.mark.parametrize("mode", ["documented", "arm-enum"])
def test_without_resource_health_read_the_check_is_unknown_and_a_healthy_cluster_stays_healthy(
    mode: str, emulator_backend: BackendFactory
) -> None:
    """cluster.health is not essential to the diagnosis (critical = false in tree.toml), like the
    other non-essential checks: its `unknown` names the permission and leaves the verdict alone."""
    backend = emulator_backend("healthy", status_mode=mode)
    backend.emulator.set_faults(restrictions=[NO_HEALTH_READ])
    result = diagnose(backend.connect(), backend.default_cluster_id() or "")
    health = next(c for c in result.assessment.checks if c.id == "cluster.health")
    assert health.status == CheckStatus.UNKNOWN
    assert HEALTH_PERMISSION in health.needs
    assert result.verdict == "healthy"
    assert result.exit_code == 0
    assert result.to_json()["cluster"]["resourceHealth"] is None


def test_diagnose_json_names_the_missing_permission(
    emulator_backend: BackendFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    backend = emulator_backend("key-expired", status_mode="arm-enum")
    backend.emulator.set_faults(restrictions=[NO_HEALTH_READ])
    connection = tmp_path / "emulator.json"
    connection.write_text(json.dumps(backend.emulator.connection), encoding="utf-8")
    code = main(["diagnose", "--emulator", str(connection), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1, "the cause is found from the dependency chain, with no Resource Health at all"
    assert {f["code"] for f in out["findings"]} == {"KEY_EXPIRED"}
    health = next(c for c in out["checks"] if c["id"] == "cluster.health")
    assert (health["status"], HEALTH_PERMISSION in health["needs"]) == ("unknown", True)


def test_arm_ready_with_resource_health_down_is_inaccessible(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("key-disabled", status_mode="arm-enum")
    result = diagnose(backend.connect(), backend.default_cluster_id() or "")
    assert result.cluster is not None
    assert result.cluster.cluster_status == "Ready"
    symptom = next(f for f in result.findings if f.code == "CLUSTER_INACCESSIBLE")
    assert symptom.check_id == "cluster.health"
    assert symptom.evidence["availabilityState"] == "Unavailable"
    assert symptom.evidence["occurredTime"]
    assert "Unavailable in Resource Health (clusterStatus Ready)" in symptom.summary


def test_resource_health_down_with_no_cause_found_is_not_healthy(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Fixed, but the service has not revalidated yet (ARM says Ready throughout): not `healthy`, and
    the fix's wait keeps polling instead of reporting success."""
    backend = EmulatorBackend(
        Options(retry_total=0), scenario="key-disabled", status_mode="arm-enum", revalidate_seconds=3600
    )
    try:
        backend.emulator.mutate(enable_key)
        cluster_id = backend.default_cluster_id() or ""
        result = diagnose(backend.connect(), cluster_id)
        health = next(c for c in result.assessment.checks if c.id == "cluster.health")
        assert health.status == CheckStatus.FAIL
        assert "no cause found" in health.detail
        assert (result.verdict, result.exit_code) == ("incomplete", 3)
        settings = FixSettings(wait_timeout=0.3, wait_poll=0.05, wait_max_poll=0.1)
        session = FixSession(
            backend.connect(), cluster_id, audit=AuditLog(tmp_path / "a.jsonl"), settings=settings
        )
        fixed = session.run(auto_confirm)
        assert [(o.step.remediation, o.status) for o in fixed.outcomes] == [("wait-for-ready", "timeout")]
        assert "Resource Health Unavailable" in fixed.outcomes[0].message
        assert fixed.exit_code == 3
    finally:
        backend.close()


def test_watch_does_not_take_arm_ready_for_recovery(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["watch", "--scenario", "key-disabled", "--status-mode", "arm-enum", "--wait-timeout", "0.3"])
    out = capsys.readouterr().out
    assert code == 1  # ARM says Ready, yet the key is disabled: no wait, and never "Ready"
    assert "KEY_DISABLED (present" in out
    assert "cluster is Ready" not in out


def test_a_fix_without_resource_health_ends_unconfirmed_incomplete(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """ARM said Ready throughout and Resource Health cannot be read: nothing proves the key was
    revalidated, so the run says so and its verdict is incomplete (exit 3), in the report too."""
    backend = emulator_backend("key-expired", status_mode="arm-enum")
    backend.emulator.set_faults(restrictions=[NO_HEALTH_READ])
    cluster_id = backend.default_cluster_id() or ""
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    result = session.run(auto_confirm)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("extend-key-expiry", "ok"),
        ("wait-for-ready", "unconfirmed"),
    ]
    wait = result.outcomes[1]
    assert UNCONFIRMED in wait.message
    assert wait.wait is not None
    assert wait.wait.polls == 1, "polling longer would learn nothing"
    assert result.final.verdict == "healthy", "the diagnosis alone sees nothing wrong"
    assert (result.verdict, result.exit_code) == ("incomplete", 3)
    assert not result.stopped
    report = incident_markdown(session)
    assert UNCONFIRMED in report
    assert "Final verdict: **incomplete**" in report


def test_fix_cli_says_unconfirmed_and_exits_3(tmp_path: Path) -> None:
    backend = EmulatorBackend(Options(retry_total=0), scenario="key-expired", status_mode="arm-enum")
    backend.emulator.set_faults(restrictions=[NO_HEALTH_READ])
    args = build_parser().parse_args(
        ["fix", "--scenario", "key-expired", "--all", "--yes", "--audit-log", str(tmp_path / "a.jsonl")]
    )
    out = io.StringIO()
    assert run_fix(args, lambda _: backend, stdin=io.StringIO(""), out=out) == 3
    text = out.getvalue()
    assert UNCONFIRMED in text
    assert "final verdict: incomplete" in text


def test_without_resource_health_arm_moving_to_ready_is_the_evidence(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """In the documented mode clusterStatus went Inaccessible, then Ready: the service's own change."""
    backend = emulator_backend("key-expired", status_mode="documented")
    backend.emulator.set_faults(restrictions=[NO_HEALTH_READ])
    session = FixSession(
        backend.connect(), backend.default_cluster_id() or "", audit=AuditLog(tmp_path / "a.jsonl")
    )
    result = session.run(auto_confirm)
    wait = result.outcomes[-1]
    assert (wait.step.remediation, wait.status) == ("wait-for-ready", "ready")
    assert wait.wait is not None
    assert wait.wait.confirmed_by == "cluster-status"
    assert result.exit_code == 0


def test_a_stopped_cluster_is_not_waited_on(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    estate = tmp_path / "stopped.yaml"
    estate.write_text(STOPPED_EXPIRED, encoding="utf-8")
    backend = emulator_backend(str(estate))
    cluster_id = backend.default_cluster_id() or ""
    first = diagnose(backend.connect(), cluster_id)
    assert {f.code for f in first.findings} == {"KEY_EXPIRED"}, "Stopped is not Inaccessible"
    health = next(c for c in first.assessment.checks if c.id == "cluster.health")
    assert health.status == CheckStatus.SKIPPED
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "a.jsonl"))
    result = session.run(auto_confirm)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("extend-key-expiry", "ok"),
        ("wait-for-ready", "cluster-stopped"),
    ]
    wait = result.outcomes[1]
    assert wait.wait is not None
    assert wait.wait.polls == 1
    assert "Stopped" in wait.message
    assert "start" in wait.advice
    assert result.exit_code == 3
    assert backend.emulator.health()["clusters"][cluster_id]["status"] == "Stopped"


def test_watch_on_a_stopped_cluster_says_start_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    estate = tmp_path / "stopped.yaml"
    estate.write_text(STOPPED_EXPIRED.replace("expires: -1d", "expires: +365d"), encoding="utf-8")
    assert main(["watch", "--scenario", str(estate), "--wait-timeout", "30"]) == 3
    out = capsys.readouterr().out
    assert "the cluster is Stopped" in out
    assert "start it" in out


def test_the_status_mode_flag_reaches_the_embedded_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diagnose", "--scenario", "key-disabled", "--status-mode", "arm-enum", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["cluster"]["status"] == "Ready"
    assert out["cluster"]["resourceHealth"]["availabilityState"] == "Unavailable"
    assert {f["code"] for f in out["findings"]} == {"KEY_DISABLED", "CLUSTER_INACCESSIBLE"}
