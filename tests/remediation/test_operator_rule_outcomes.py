"""The operator's temporary IP rule through the audited-write record: its `undo` survives every
result whose change may be in Azure (ok, unknown, interrupted in flight, a lost result settled by the
next run), `undoes` rides on the removal, and the next fix settles first, then removes what is open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory
from tests.remediation.test_operator_network import (
    OPERATOR_IP,
    ORIGINAL_RULES,
    RULE,
    SCENARIO,
    session,
    vault_rules,
    writes,
    yes_and_vault,
)
from wizard.azure import network_writes
from wizard.cli.wiring import EmulatorBackend
from wizard.domain.action_records import action_record
from wizard.domain.actions import AllowOperatorIp, RemoveOperatorIp
from wizard.domain.errors import AuditWriteFailed
from wizard.domain.results import OutcomeStatus
from wizard.run.audit import AuditLog, pending_undos, read_audit

UNDO_KEYS = {"remediation", "vaultId", "address"}


def _vault_id(backend: EmulatorBackend) -> str:
    sub = backend.emulator.connection["subscriptionId"]
    return f"/subscriptions/{sub}/resourceGroups/rg-cmk-demo/providers/Microsoft.KeyVault/vaults/kv-cmk-demo"


def _after(audit: Path, remediation: str) -> list[dict[str, Any]]:
    return [r for r in read_audit(audit) if r["phase"] == "after" and r["remediation"] == remediation]


def test_a_lost_answer_to_the_rule_keeps_its_undo_and_the_run_removes_it(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"
    backend.emulator.set_faults(fault_rate=1.0, fault_kinds=["lost-write"], fault_limit=1)
    result = session(backend, audit, OPERATOR_IP).run(yes_and_vault)
    [added] = _after(audit, "allow-operator-ip")
    assert added["result"] == "unknown"
    assert set(added["undo"]) == UNDO_KEYS
    assert added["undo"]["address"] == OPERATOR_IP
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("allow-operator-ip", OutcomeStatus.UNKNOWN),
        ("remove-operator-ip", OutcomeStatus.OK),
    ]
    [removed] = _after(audit, "remove-operator-ip")
    assert removed["undoes"] == added["intent"]
    assert "undo" not in removed
    assert vault_rules(backend) == ORIGINAL_RULES
    assert pending_undos(audit) == []


def test_ctrl_c_while_the_rule_is_in_flight_keeps_its_undo_for_the_next_run(
    emulator_backend: BackendFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"

    def interrupted(*_: object) -> str:
        raise KeyboardInterrupt  # the PATCH is sent, its probe of the data plane not done

    monkeypatch.setattr(network_writes, "probe_data_plane", interrupted)
    first = session(backend, audit, OPERATOR_IP)
    with pytest.raises(KeyboardInterrupt):
        first.run(yes_and_vault)
    first.close()
    monkeypatch.undo()
    [added] = _after(audit, "allow-operator-ip")
    assert added["result"] == "unknown"
    assert "in flight" in added["message"]
    assert added["undo"]["address"] == OPERATOR_IP
    assert vault_rules(backend) == [*ORIGINAL_RULES, RULE]

    second = session(backend, audit)
    result = second.run(yes_and_vault)
    resolved = [r for r in read_audit(audit) if r["phase"] == "resolved"]
    assert [(r["intent"], r["found"]) for r in resolved] == [(added["intent"], "applied")]
    assert resolved[0]["undo"] == added["undo"]
    assert result.outcomes[0].step.remediation == "remove-operator-ip"
    assert result.outcomes[0].status == OutcomeStatus.OK
    assert _after(audit, "remove-operator-ip")[0]["undoes"] == added["intent"]
    assert vault_rules(backend) == ORIGINAL_RULES
    assert pending_undos(audit) == []
    second.close()


def _rule_added_without_its_result(backend: EmulatorBackend, audit: Path, monkeypatch: Any) -> str:
    """A run adds the rule, then the log cannot take the result: an intent with no after record."""
    log = AuditLog(audit, secrets=[backend.token()])
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    log.cluster = cluster_id
    writer = backend.connect().writer(log)

    def full(*_: object, **__: object) -> str:
        raise AuditWriteFailed("audit log: disk full")

    monkeypatch.setattr(log, "result", full)
    with pytest.raises(AuditWriteFailed) as failed:
        writer.apply(AllowOperatorIp(_vault_id(backend), OPERATOR_IP))
    monkeypatch.undo()
    assert failed.value.sent
    [intent] = [r for r in read_audit(audit) if r["phase"] == "before"]
    assert [r["phase"] for r in read_audit(audit)] == ["before"]
    return str(intent["id"])


def test_a_rule_whose_result_was_lost_is_settled_first_then_removed(
    emulator_backend: BackendFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's order: lock, settle (resolved, with the undo), then the pending undo comes first."""
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"
    intent = _rule_added_without_its_result(backend, audit, monkeypatch)
    assert pending_undos(audit) == [], "no result record: nothing says the rule is open yet"

    fix = session(backend, audit)
    assert not fix.carry.open_rules
    notices = fix.begin()
    assert fix.lock.held
    [resolved] = [r for r in read_audit(audit) if r["phase"] == "resolved"]
    assert (resolved["intent"], resolved["was"], resolved["found"]) == (intent, "no result", "applied")
    assert resolved["undo"]["address"] == OPERATOR_IP
    assert any(f"record {intent}) was no result; read again: applied" in n for n in notices)
    assert any("removing it comes first" in n for n in notices)
    assert notices.index(next(n for n in notices if "read again" in n)) < notices.index(
        next(n for n in notices if "removing it comes first" in n)
    ), "settled first, then the undo"
    plan = fix.plan()
    assert [s.remediation for s in plan.steps] == ["remove-operator-ip"]
    result = fix.run(yes_and_vault)
    assert result.outcomes[0].step.remediation == "remove-operator-ip"
    assert result.outcomes[0].status == OutcomeStatus.OK
    assert _after(audit, "remove-operator-ip")[0]["undoes"] == intent
    assert vault_rules(backend) == ORIGINAL_RULES
    assert pending_undos(audit) == []
    fix.close()


def test_a_step_planned_before_settling_found_a_rule_open_is_not_sent(
    emulator_backend: BackendFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Fix screen's order: its plan comes before the lock; the first write settles, and a
    step that plan held is refused (nothing sent) when a rule turned out open; the fresh plan
    removes it first."""
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"
    _rule_added_without_its_result(backend, audit, monkeypatch)
    sent = len(writes(backend))
    fix = session(backend, audit)
    stale = fix.plan().next_step
    assert stale is not None
    assert stale.remediation == "extend-key-expiry"
    outcome = fix.apply(stale, confirmation="y")
    assert outcome.status == OutcomeStatus.REFUSED
    assert "not sent" in outcome.message
    assert len(writes(backend)) == sent
    assert [s.remediation for s in fix.plan().steps] == ["remove-operator-ip"]
    fix.close()


def test_an_unknown_rule_settled_as_never_added_is_not_removed(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    vault_id = _vault_id(backend)
    action = AllowOperatorIp(vault_id, OPERATOR_IP)
    log = AuditLog(audit)
    log.cluster = cluster_id
    intent = log.intent(
        operator={},
        remediation=action.remediation,
        target=vault_id,
        request={},
        before={},
        action=action_record(action),
    )
    undo = {"remediation": RemoveOperatorIp.remediation, "vaultId": vault_id, "address": OPERATOR_IP}
    log.result(
        intent,
        remediation=action.remediation,
        target=vault_id,
        result="unknown",
        message="",
        after={},
        undo=undo,
    )
    fix = session(backend, audit)
    assert [r.audit_id for r in fix.carry.open_rules] == [intent], "read at start: may be open"
    notices = fix.begin()
    assert any("was never added" in n and "nothing to remove" in n for n in notices)
    assert not fix.carry.open_rules
    assert "remove-operator-ip" not in [s.remediation for s in fix.plan().steps]
    assert pending_undos(audit) == []
    fix.close()


def test_pending_undos_follow_resolved_records(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    undo = {"remediation": "remove-operator-ip", "vaultId": "v", "address": OPERATOR_IP}

    def allow(result: str | None) -> str:
        rid = log.intent(operator={}, remediation="allow-operator-ip", target="v", request={}, before={})
        if result is not None:
            log.result(
                rid,
                remediation="allow-operator-ip",
                target="v",
                result=result,
                message="",
                after={},
                undo=undo,
            )
        return rid

    def resolved(rid: str, found: str, **extra: Any) -> None:
        log.resolved(
            rid, remediation="r", target="v", was="unknown", found=found, message="", state={}, **extra
        )

    gone, lost, unread, removed = allow("unknown"), allow(None), allow(None), allow("ok")
    resolved(gone, "not-applied")
    resolved(lost, "applied", undo=undo)
    resolved(unread, "unreadable", undo=undo)
    removal = log.intent(operator={}, remediation="remove-operator-ip", target="v", request={}, before={})
    resolved(removal, "applied", undoes=removed)  # an unknown removal, found done
    assert [r["intent"] for r in pending_undos(path)] == [lost, unread]
