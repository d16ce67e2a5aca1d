"""Incremental verify (re-read what a write touched, keep the rest) never says more than a full
diagnosis would: after every step of every fixable scenario, a full diagnosis judges the step the
same way and reaches the same verdict and findings; and it costs fewer requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BackendFactory
from tests.remediation.test_fix_scenarios import FIXABLE, OPERATOR, WRITES_NOTHING
from wizard.domain.actions import RecoverVault
from wizard.engine.tree import ReadKind
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.diagnose import diagnose
from wizard.run.fix import FixSession
from wizard.run.outcomes import StepOutcome
from wizard.run.rediagnose import touched
from wizard.run.verify import verify


@pytest.mark.parametrize("scenario", [s for s in FIXABLE if s not in WRITES_NOTHING])
def test_every_step_is_judged_as_a_full_diagnosis_would(
    scenario: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(scenario)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    operator_ip, vault = OPERATOR.get(scenario, (None, ""))
    session = FixSession(
        gateway, cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"), operator_ip=operator_ip
    )
    names = {cluster_id.rsplit("/", 1)[-1]} | ({vault} if vault else set())
    compared: list[str] = []

    def against_full(outcome: StepOutcome) -> None:
        if outcome.verification is None or session.deleted_cluster:
            return
        incremental = session.current
        assert incremental is not None
        full = diagnose(gateway, cluster_id)
        again = verify(outcome.step, full, outcome.after)
        assert outcome.verification.status == again.status, (outcome.step.remediation, again.detail)
        assert incremental.verdict == full.verdict
        assert [f.code for f in incremental.findings] == [f.code for f in full.findings]
        compared.append(outcome.step.remediation)

    result = session.run(lambda s: auto_confirm(s, names), on_outcome=against_full)
    assert not result.stopped, result.stopped
    assert compared or result.deleted_cluster


def test_multi_fault_reads_less_than_a_full_diagnosis_per_step(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("multi-fault")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    session.diagnose()
    full = len(backend.emulator.requests())
    result = session.run(auto_confirm)
    assert result.final.verdict == "healthy"
    requests = backend.emulator.requests()[full:]
    writes = [r for r in requests if r["write"]]
    reads = [r for r in requests if not r["write"]]
    steps = [o for o in result.outcomes if o.verification is not None]
    assert len(steps) >= 3
    # each step's verify costs the cluster and what it touched; one full diagnosis at the end
    assert len(reads) < full * (len(steps) + 1), (len(reads), full, len(steps), len(writes))


def test_writes_that_move_the_vault_get_a_full_diagnosis() -> None:
    vault = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v"
    assert touched(RecoverVault(vault, "v", "westus2")) is None
    assert touched(None) is None


def test_the_cluster_is_read_again_after_every_write() -> None:
    from wizard.run.rediagnose import ALWAYS

    assert ReadKind.CLUSTER in ALWAYS
