"""The attach after a grant, while the grant propagates: the emulator fails the cluster PATCH with
the key-access message until `grantPropagationSeconds` pass; the fix retries with backoff within its
stated bound, says why, and audits every attempt. Real SDK against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BackendFactory
from tests.estates import scenario_with
from wizard.domain.errors import GatewayError
from wizard.domain.results import WriteResult
from wizard.run.audit import AuditLog, read_audit
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings
from wizard.run.propagation import GrantRetry, write_while_grant_propagates


def _slow_grants(tmp_path: Path, seconds: float) -> str:
    return scenario_with(tmp_path, "identity-deleted", timing={"grantPropagationSeconds": seconds})


def test_the_attach_is_retried_until_the_new_grant_is_honoured(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(_slow_grants(tmp_path, 0.5))
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    told: list[str] = []
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    session.on_notice = told.append
    result = session.run(auto_confirm)
    assert not result.stopped, result.stopped
    attach = next(o for o in result.outcomes if o.step.remediation == "attach-identity-and-key")
    assert attach.status == "ok"
    told = [t for t in told if "may still be propagating" in t]  # the operation's own progress aside
    assert told, "the operator is told why the attach is tried again"
    assert "may still be propagating" in told[0]
    assert "attempt 1 of" in told[0]
    records = read_audit(tmp_path / "audit.jsonl")
    attempts = [r for r in records if r["remediation"] == "attach-identity-and-key" and r["phase"] == "after"]
    assert [r["result"] for r in attempts][-1] == "ok"
    assert {r["result"] for r in attempts[:-1]} == {"error"}
    assert len(attempts) == len(told) + 1
    patches = [r for r in backend.emulator.requests() if r["method"] == "PATCH"]
    assert len(patches) == len(attempts)
    assert result.final.verdict == "healthy"


def test_past_the_bound_the_last_refusal_is_the_outcome(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(_slow_grants(tmp_path, 3600))
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    settings = FixSettings.for_mode(
        "emulator", grant_retry=GrantRetry(bound_seconds=0.3, first_delay=0.1, max_delay=0.1)
    )
    session = FixSession(
        backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"), settings=settings
    )
    result = session.run(auto_confirm)
    attach = next(o for o in result.outcomes if o.step.remediation == "attach-identity-and-key")
    assert attach.status == "error"
    assert "KeyEncryptionKeyAccessFailed" in attach.message
    patches = [r for r in backend.emulator.requests() if r["method"] == "PATCH"]
    assert len(patches) == 4  # the first try and one after each of the three 0.1 s waits
    assert result.stopped


def test_the_backoff_doubles_within_the_bound() -> None:
    assert GrantRetry().delays() == [15.0, 30.0, 60.0, 120.0, 120.0, 120.0, 120.0]
    assert sum(GrantRetry().delays()) <= 600


def test_an_error_other_than_key_access_is_not_retried() -> None:
    calls: list[int] = []

    def write() -> WriteResult:
        calls.append(1)
        raise GatewayError("update cluster c: 400 BadRequest nope", code="BadRequest")

    with pytest.raises(GatewayError):
        write_while_grant_propagates(write, GrantRetry(first_delay=0.01), tell=lambda _: None)
    assert calls == [1]
