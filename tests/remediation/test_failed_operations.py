"""A failed operation is not a failed cluster: through the real SDK against the emulator, a running
cluster whose last operation failed is a warning, never a delete (not even at the writer), and an
update whose long-running operation ends Failed is one clear error with the operation's own words."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TextIO, cast

import pytest

from tests.conftest import STATUS_MODES, BackendFactory
from wizard.cli import build_parser
from wizard.cli.fix import run_fix
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.actions import AttachIdentityAndKey, DeleteFailedCluster
from wizard.domain.errors import OperationFailed, WriteRefused
from wizard.domain.models import Severity
from wizard.domain.results import StepKind
from wizard.emulator import Emulator
from wizard.emulator.model import State
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.diagnose import diagnose
from wizard.run.fix import FixSession

NOT_ATTACHED = """
name: not-attached
identities: [{name: id-cmk-demo}]
vaults:
  - name: kv-cmk-demo
    keys: [{name: cmk, size: 4096, expires: +365d}]
clusters:
  - name: cluster-not-attached
    identities: []
    encryption: {identity: id-cmk-demo, vault: kv-cmk-demo, key: cmk}
roleAssignments:
  - {principal: id-cmk-demo, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-cmk-demo"}
"""


def writes(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["write"]]


def disable_key(state: State) -> None:
    """Break the key between the plan and the write: the PATCH is accepted, its operation fails."""
    vault = state.live_vault("kv-cmk-demo")
    assert vault is not None
    key = vault.key("cmk")
    assert key is not None
    key.latest.enabled = False


@pytest.mark.parametrize("mode", STATUS_MODES)
def test_a_running_cluster_whose_last_operation_failed_is_only_a_warning(
    mode: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("failed-last-operation", status_mode=mode)
    cluster_id = backend.default_cluster_id() or ""
    result = diagnose(backend.connect(), cluster_id)
    assert [(f.code, f.severity) for f in result.findings] == [
        ("CLUSTER_LAST_OPERATION_FAILED", Severity.WARNING)
    ]
    warning = result.findings[0]
    assert warning.remediations == ()
    assert "may hold data" in warning.summary
    assert result.verdict == "healthy"
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    plan = session.plan()
    assert plan.writes == ()
    assert [s.remediation for s in plan.steps if s.kind != StepKind.ESCALATE] == []
    assert "delete-failed-cluster" not in {s.remediation for s in plan.steps}


def test_fix_all_yes_on_a_failed_last_operation_writes_nothing(tmp_path: Path) -> None:
    backend = EmulatorBackend(Options(retry_total=0), scenario="failed-last-operation")
    emulator = backend.emulator
    args = build_parser().parse_args(
        [
            "fix",
            "--scenario",
            "failed-last-operation",
            "--all",
            "--yes",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ]
    )
    out = io.StringIO()
    code = run_fix(args, lambda _: backend, stdin=io.StringIO(""), out=out)
    assert code == 0, out.getvalue()
    assert writes(emulator) == []
    assert "CLUSTER_LAST_OPERATION_FAILED" in out.getvalue()
    assert "delete-failed-cluster" not in out.getvalue()
    assert not (tmp_path / "audit.jsonl").exists()


def test_the_writer_refuses_to_delete_a_running_cluster_whose_last_operation_failed(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Defence in depth: even a DeleteFailedCluster handed straight to the writer, with the right
    name typed, is refused once the writer has read the cluster again; no DELETE is sent."""
    backend = emulator_backend("failed-last-operation")
    cluster_id = backend.default_cluster_id() or ""
    name = cluster_id.rsplit("/", 1)[-1]
    writer = backend.connect().writer(AuditLog(tmp_path / "audit.jsonl"))
    with pytest.raises(WriteRefused, match="came up and may hold data"):
        writer.apply(DeleteFailedCluster(cluster_id, confirm_name=name))
    emulator = backend.emulator
    assert [r for r in emulator.requests() if r["method"] == "DELETE"] == []
    assert writes(emulator) == []
    assert cluster_id in emulator.health()["clusters"]


def test_the_writer_still_deletes_a_cluster_that_never_came_up(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("provisioning-failed")
    cluster_id = backend.default_cluster_id() or ""
    writer = backend.connect().writer(AuditLog(tmp_path / "audit.jsonl"))
    result = writer.apply(DeleteFailedCluster(cluster_id, confirm_name=cluster_id.rsplit("/", 1)[-1]))
    assert result.status == "ok"
    assert [r["method"] for r in writes(backend.emulator)] == ["DELETE"]


def test_an_update_whose_operation_fails_is_one_error_with_the_operations_message(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Accepted (202), then the operation ends Failed: OperationFailed with the service's code and
    message, never the poller's bare 'Operation failed or canceled'."""
    backend = emulator_backend("healthy")
    cluster_id = backend.default_cluster_id() or ""
    gateway = backend.connect()
    identity = gateway.get_cluster(cluster_id).key_identity_id or ""
    writer = gateway.writer(AuditLog(tmp_path / "audit.jsonl"))
    key_url = "https://kv-cmk-demo.vault.azure.net/keys/missing"
    with pytest.raises(OperationFailed) as failed:
        writer.apply(AttachIdentityAndKey(cluster_id, identity, key_url, None))
    text = str(failed.value)
    assert "Azure accepted it, then the operation failed: KeyEncryptionKeyAccessFailed" in text
    assert "Couldn't get access to the key" in text
    assert failed.value.code == "KeyEncryptionKeyAccessFailed"
    after = diagnose(gateway, cluster_id)
    codes = {f.code for f in after.findings}
    assert "CLUSTER_LAST_OPERATION_FAILED" in codes
    assert "CLUSTER_PROVISIONING_FAILED" not in codes


class BreakingStdin:
    """Answers 'y' to the one write, after breaking the key under it (as a colleague might); the
    two calls `fix` makes of its stdin."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        self.emulator.mutate(disable_key)
        return "y\n"


def test_fix_reports_a_failed_update_in_one_line_and_never_offers_the_delete(tmp_path: Path) -> None:
    estate = tmp_path / "not-attached.yaml"
    estate.write_text(NOT_ATTACHED, encoding="utf-8")
    backend = EmulatorBackend(Options(retry_total=0), scenario=str(estate))
    emulator = backend.emulator
    args = build_parser().parse_args(
        ["fix", "--scenario", str(estate), "--all", "--audit-log", str(tmp_path / "audit.jsonl")]
    )
    out = io.StringIO()
    code = run_fix(args, lambda _: backend, stdin=cast(TextIO, BreakingStdin(emulator)), out=out)
    text = out.getvalue()
    assert code == 1, text
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if "-> error:" in line]
    assert len(errors) == 1, text
    assert "the operation failed: KeyEncryptionKeyAccessFailed: Couldn't get access" in errors[0]
    assert "not a reason to delete it" in text
    assert "CLUSTER_LAST_OPERATION_FAILED" in text
    assert "CLUSTER_PROVISIONING_FAILED" not in text
    assert [(r["method"], r["status"]) for r in writes(emulator)] == [("PATCH", 202)]


def test_after_a_failed_update_the_session_plans_no_delete(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    estate = tmp_path / "not-attached.yaml"
    estate.write_text(NOT_ATTACHED, encoding="utf-8")
    backend = emulator_backend(str(estate))
    cluster_id = backend.default_cluster_id() or ""
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))

    def confirm(step: Any) -> Any:
        backend.emulator.mutate(disable_key)
        return auto_confirm(step)

    result = session.run(confirm)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [("attach-identity-and-key", "error")]
    assert "KeyEncryptionKeyAccessFailed" in result.outcomes[0].message
    codes = {f.code for f in result.final.findings}
    assert {"CLUSTER_LAST_OPERATION_FAILED", "KEY_DISABLED", "IDENTITY_NOT_ATTACHED"} <= codes
    assert "CLUSTER_PROVISIONING_FAILED" not in codes
    assert "delete-failed-cluster" not in {s.remediation for s in session.plan().steps}
