"""The scan and `diagnose` agree: on a combined estate of every built-in scenario, each cluster's scan
verdict names only causes the diagnosis names, and leaves every other one to the diagnosis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scan.estates import combined_estate
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.fleet import ClusterState, FleetReport
from wizard.emulator import scenario_names
from wizard.run.diagnose import diagnose
from wizard.run.scan import scan


@pytest.fixture(scope="module")
def every_scenario() -> Iterator[tuple[EmulatorBackend, FleetReport]]:
    """One emulator holding every built-in scenario's cluster, and one scan of it."""
    backend = EmulatorBackend(Options(retry_total=0), estate=combined_estate(scenario_names()))
    try:
        yield backend, scan(backend.fleet())
    finally:
        backend.close()


def test_the_scan_sees_every_scenario_cluster(every_scenario: tuple[EmulatorBackend, FleetReport]) -> None:
    _, report = every_scenario
    assert len(report.verdicts) == len(scenario_names())
    assert report.complete
    assert not report.unreadable
    states = {v.cluster.name.removeprefix("cluster-"): v.state for v in report.verdicts}
    assert states["healthy"] == ClusterState.HEALTHY
    assert states["key-expired"] == ClusterState.CRITICAL
    assert states["key-soft-deleted"] == ClusterState.CRITICAL  # Inaccessible; the cause is for diagnose


@pytest.mark.parametrize("scenario", scenario_names())
def test_scan_verdict_agrees_with_diagnose(
    scenario: str, every_scenario: tuple[EmulatorBackend, FleetReport]
) -> None:
    backend, report = every_scenario
    verdict = next(v for v in report.verdicts if v.cluster.name == f"cluster-{scenario}")
    diagnosis = diagnose(backend.connect(), verdict.cluster.id)
    diagnosed = {f.code for f in diagnosis.findings}
    scanned = set(verdict.causes)
    assert scanned <= diagnosed, f"the scan names causes diagnose does not: {scanned - diagnosed}"
    left_to_diagnose = {q.check_id for q in verdict.open_questions if q.diagnose_settles}
    unseen = {f.check_id for f in diagnosis.findings if f.code not in scanned}
    assert unseen <= left_to_diagnose, f"the scan missed {diagnosed - scanned} without saying so"
    if diagnosis.verdict == "healthy":
        assert verdict.state in (ClusterState.HEALTHY, ClusterState.WARNING)


def test_what_only_diagnose_settles_is_marked(every_scenario: tuple[EmulatorBackend, FleetReport]) -> None:
    _, report = every_scenario
    by_name = {v.cluster.name: v for v in report.verdicts}
    soft_deleted = by_name["cluster-key-soft-deleted"]
    assert "KEY_SOFT_DELETED" not in soft_deleted.causes
    question = next(q for q in soft_deleted.open_questions if q.check_id == "key.exists")
    assert question.diagnose_settles
    assert "soft-deleted" in question.detail
    assert "VAULT_SOFT_DELETED" in by_name["cluster-vault-soft-deleted-elsewhere"].causes
    assert "VAULT_PURGED" in by_name["cluster-vault-purged"].causes
