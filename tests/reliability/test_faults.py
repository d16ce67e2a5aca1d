"""Throttling and transient faults: same findings as without faults, in bounded time; retries
honour Retry-After; a budget that runs out is `incomplete` (exit 3), never a hang."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import (
    BackendMaker,
    EmulatorMaker,
    assert_one_line,
    checks,
    codes,
    connection_path,
    faults_served,
)
from wizard.azure.clients import RetrySettings
from wizard.cli import main
from wizard.run.diagnose import diagnose

# The emulator's 429/503 carry `Retry-After: 1`.
RETRY_AFTER_S = 1.0


def _baseline(backend: BackendMaker, scenario: str) -> tuple[list[str], str]:
    clean = backend(scenario)
    result = diagnose(clean.connect(), clean.default_cluster_id() or "")
    return codes(result), result.verdict


@pytest.mark.parametrize("scenario", ["key-expired", "vault-soft-deleted", "key-soft-deleted"])
def test_throttled_reads_give_the_same_findings(backend: BackendMaker, scenario: str) -> None:
    expected, verdict = _baseline(backend, scenario)
    faulty = backend(scenario, retry_total=4, latency_ms=20)
    faulty.emulator.set_faults(fault_rate=0.5, fault_kinds=["429", "503"], fault_limit=2)
    started = time.perf_counter()
    result = diagnose(faulty.connect(), faulty.default_cluster_id() or "")
    elapsed = time.perf_counter() - started
    assert (codes(result), result.verdict) == (expected, verdict)
    assert faults_served(faulty.emulator) >= 1
    # every fault costs at most one Retry-After; they may overlap, never add up beyond this
    assert elapsed < faults_served(faulty.emulator) * RETRY_AFTER_S + 6.0


def test_retry_after_is_honoured(backend: BackendMaker) -> None:
    """One 429 on the first read (the cluster: nothing else can run yet). azure-core's own
    backoff before a FIRST retry is 0 s, so a wait of ~1 s can only come from Retry-After."""
    expected, _ = _baseline(backend, "key-expired")
    faulty = backend("key-expired", retry_total=2)
    faulty.emulator.set_faults(fault_rate=1.0, fault_kinds=["429"], fault_limit=1)
    started = time.perf_counter()
    result = diagnose(faulty.connect(), faulty.default_cluster_id() or "")
    elapsed = time.perf_counter() - started
    log = faulty.emulator.requests()
    assert [r["status"] for r in log[:2]] == [429, 200]
    assert log[0]["path"] == log[1]["path"]
    assert elapsed >= RETRY_AFTER_S * 0.95
    assert codes(result) == expected


def test_timeouts_are_retried_within_the_read_timeout(backend: BackendMaker) -> None:
    """A request the emulator never answers costs one read timeout, then is retried."""
    expected, verdict = _baseline(backend, "rbac-role-missing")
    faulty = backend("rbac-role-missing", retry_total=2, timeout=0.5)
    faulty.emulator.set_faults(fault_rate=1.0, fault_kinds=["timeout"], fault_limit=1)
    started = time.perf_counter()
    result = diagnose(faulty.connect(), faulty.default_cluster_id() or "")
    elapsed = time.perf_counter() - started
    assert (codes(result), result.verdict) == (expected, verdict)
    assert 0.45 <= elapsed < 0.5 + 3.0


def test_random_faults_with_latency_give_the_same_findings(backend: BackendMaker) -> None:
    expected, verdict = _baseline(backend, "multi-fault")
    faulty = backend("multi-fault", retry_total=6, timeout=1.0, latency_ms=100)
    faulty.emulator.set_faults(fault_rate=0.3, fault_kinds=["429", "503", "timeout"], fault_limit=3)
    result = diagnose(faulty.connect(), faulty.default_cluster_id() or "")
    assert (codes(result), result.verdict) == (expected, verdict)


def _diagnose_json(
    conn: str, *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    code = main(["diagnose", "--emulator", conn, "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_permanent_throttling_is_incomplete_within_the_budget(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fault rate 1.0: exit 3 after exactly retry_total retries, in about retry_total Retry-Afters.

    Before the fix azure-core's retry_status=3 silently capped --retry-total at 3."""
    emulator = running_emulator("key-expired")
    emulator.set_faults(fault_rate=1.0, fault_kinds=["503"])
    started = time.perf_counter()
    code, report, err = _diagnose_json(
        connection_path(tmp_path, "key-expired"), "--retry-total", "4", capsys=capsys
    )
    elapsed = time.perf_counter() - started
    assert code == 3
    assert report["verdict"] == "incomplete"
    assert report["findings"] == []
    load = next(c for c in report["checks"] if c["id"] == "cluster.load")
    assert load["status"] == "unknown"
    assert "503" in load["detail"]
    assert len(emulator.requests()) == 5  # one try + 4 retries
    assert 4 * RETRY_AFTER_S * 0.95 <= elapsed < 4 * RETRY_AFTER_S + 6.0
    assert err == ""


def test_retry_total_zero_gives_up_at_once(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = running_emulator("healthy")
    emulator.set_faults(fault_rate=1.0, fault_kinds=["429"])
    code, report, _ = _diagnose_json(
        connection_path(tmp_path, "healthy"), "--retry-total", "0", capsys=capsys
    )
    assert code == 3
    assert report["verdict"] == "incomplete"
    assert len(emulator.requests()) == 1  # no retry, so no Retry-After wait either


def test_retry_total_from_the_environment(
    running_emulator: EmulatorMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = running_emulator("healthy")
    emulator.set_faults(fault_rate=1.0, fault_kinds=["429"])
    monkeypatch.setenv("CMK_WIZARD_RETRY_TOTAL", "1")
    code, _, _ = _diagnose_json(connection_path(tmp_path, "healthy"), capsys=capsys)
    assert code == 3
    assert len(emulator.requests()) == 2
    # the flag wins over the environment
    code, _, _ = _diagnose_json(connection_path(tmp_path, "healthy"), "--retry-total", "0", capsys=capsys)
    assert len(emulator.requests()) == 3


def test_bad_retry_total_in_the_environment_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMK_WIZARD_RETRY_TOTAL", "lots")
    assert main(["diagnose", "--scenario", "healthy"]) == 2
    err = capsys.readouterr().err
    assert_one_line(err)
    assert "CMK_WIZARD_RETRY_TOTAL" in err


def test_a_retry_after_beyond_the_budget_ends_the_retries(backend: BackendMaker) -> None:
    """Azure may ask for minutes; above max_retry_after we stop and say incomplete, not hang."""
    faulty = backend("healthy", retry_total=4, max_retry_after=0.5)
    faulty.emulator.set_faults(fault_rate=1.0, fault_kinds=["429"])
    result = diagnose(faulty.connect(), faulty.default_cluster_id() or "")
    assert result.verdict == "incomplete"
    assert len(faulty.emulator.requests()) == 1  # no retry, so no Retry-After wait either
    assert "429" in checks(result)["cluster.load"].detail


def test_the_retry_budget_is_explicit() -> None:
    settings = RetrySettings(
        total=3, backoff_max=8.0, connect_timeout=10.0, read_timeout=30.0, max_retry_after=60.0
    )
    policy = settings.policy()
    assert (policy.total_retries, policy.status_retries, policy.connect_retries, policy.read_retries) == (
        3,
        3,
        3,
        3,
    )
    assert settings.worst_case_seconds() == 4 * 40.0 + 3 * 60.0
    assert RetrySettings().worst_case_seconds() == 5 * 40.0 + 4 * 60.0
