"""Long-running operations as recorded: mongoClusters PATCH is 202 with Azure-AsyncOperation and
Location and no Retry-After, so the wizard polls at its own interval and says how the operation is
doing while it waits. Real SDK against the emulator (`timing.operationSeconds`)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BackendFactory
from tests.estates import scenario_with
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession


def test_the_attach_reports_its_operation_while_it_runs(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(scenario_with(tmp_path, "identity-deleted", timing={"operationSeconds": 0.5}))
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    told: list[str] = []
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    session.on_notice = told.append
    result = session.run(auto_confirm)
    assert not result.stopped, result.stopped
    progress = [t for t in told if t.startswith("cluster cluster-identity-deleted update: InProgress")]
    assert progress, told
    assert "the wizard polls every 0.05 s; Azure gives no Retry-After for it" in progress[0]
    polls = [r for r in backend.emulator.requests() if r["kind"] == "operations"]
    assert len(polls) >= 3, "polled at the wizard's interval, not azure-core's 30 s"
