"""Audit log (append-only JSONL, redaction), OSC 52, and the executor loop over a fake estate."""

from __future__ import annotations

import base64
import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.engine.fake_reader import CLUSTER_ID, NOW, EstateChanges, FakeEstate, FakeReader
from wizard.domain.actions import Action, ExtendKeyExpiry, GrantCryptoRole
from wizard.domain.errors import ReadOnlyViolation
from wizard.domain.models import ClusterFacts, LockReading, ResourceHealthFacts, RoleAssignmentFacts
from wizard.domain.results import Found, Resolution, WriteResult, WriteStatus
from wizard.run.audit import AuditLog, read_audit, redact
from wizard.run.confirmation import auto_confirm, confirmation_ok
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings
from wizard.run.incident import incident_markdown, osc52, save_report
from wizard.run.wait import wait_for_ready

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def test_audit_records_are_jsonl_and_carry_no_secret(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a" / "audit.jsonl", secrets=["s3cr3t-token"])
    intent = log.intent(
        operator={"account": "me"},
        remediation="enable-key",
        target="/x",
        request={
            "headers": {"Authorization": f"Bearer {JWT}"},
            "note": "s3cr3t-token",
            "body": f"token {JWT}",
        },
        before={"enabled": False},
    )
    log.result(
        intent, remediation="enable-key", target="/x", result="ok", message="applied", after={"enabled": True}
    )
    text = (tmp_path / "a" / "audit.jsonl").read_text()
    assert "s3cr3t-token" not in text
    assert JWT not in text
    assert "bearer" not in text.lower()
    records = read_audit(tmp_path / "a" / "audit.jsonl")
    assert [r["phase"] for r in records] == ["before", "after"]
    assert records[1]["intent"] == records[0]["id"] == intent
    assert records[0]["request"]["headers"]["Authorization"] == "<redacted>"
    assert log.written == [r["id"] for r in records]
    # Append-only: a second log on the same file keeps the first records.
    AuditLog(tmp_path / "a" / "audit.jsonl").note("start")
    assert len(read_audit(tmp_path / "a" / "audit.jsonl")) == 3


def test_redact_keeps_resource_paths() -> None:
    path = "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/x"
    assert redact(path) == path
    assert redact("Authorization: Basic abc") == "<redacted>"


def test_osc52_plain_and_tmux() -> None:
    plain = osc52("hello", env={})
    assert plain == "\x1b]52;c;" + base64.b64encode(b"hello").decode() + "\x07"
    wrapped = osc52("hello", env={"TMUX": "/tmp/tmux-1/default,1,0"})
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]52;c;")
    assert wrapped.endswith("\x07\x1b\\")
    assert osc52("x" * 200_000, env={}) == ""


class FakeWriter:
    """Applies remediations to a FakeEstate (the executor's loop logic, without the SDK)."""

    def __init__(self, gateway: FakeGateway, audit: AuditLog) -> None:
        self.gateway, self.audit = gateway, audit

    def watch(self, report: Callable[[str], None] | None) -> None:
        """Nothing runs long here."""

    def when_answered(self, start: Callable[[], None] | None) -> None:
        """The fake writes answer at once: the session reads after them."""

    def probe(self, action: Action) -> Resolution:
        return Resolution(Found.UNREADABLE, f"not re-read: {action.remediation}")

    def apply(self, action: Action) -> WriteResult:
        match action:
            case ExtendKeyExpiry():
                return self.extend_key_expiry(action)
            case GrantCryptoRole():
                return self.grant_crypto_role(action)
            case _:
                raise NotImplementedError(action.remediation)

    def _do(self, remediation: str, change: EstateChanges) -> WriteResult:
        if self.gateway.read_only:
            raise ReadOnlyViolation("read-only")
        intent = self.audit.intent(operator={}, remediation=remediation, target="t", request={}, before={})
        self.gateway.estate = self.gateway.estate.replace(**change)
        done = self.audit.result(
            intent, remediation=remediation, target="t", result="ok", message="applied", after={}
        )
        return WriteResult(remediation, "t", WriteStatus.OK, "applied", {}, {"done": True}, (intent, done))

    def extend_key_expiry(self, action: ExtendKeyExpiry) -> WriteResult:
        key = self.gateway.estate.key
        assert key is not None
        later = dataclasses.replace(key, expires=NOW + timedelta(days=365))
        return self._do("extend-key-expiry", {"key": later})

    def grant_crypto_role(self, action: GrantCryptoRole) -> WriteResult:
        role = "/providers/x/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
        ra = RoleAssignmentFacts("new", action.vault_id, role, action.principal_id or "", "ServicePrincipal")
        return self._do("grant-crypto-role", {"assignments": [ra]})


class FakeGateway(FakeReader):
    mode = "emulator"

    def __init__(self, estate: FakeEstate, read_only: bool = False) -> None:
        super().__init__(estate)
        self.read_only = read_only

    def writer(self, audit: AuditLog) -> FakeWriter:
        return FakeWriter(self, audit)

    def prepare(self, action: Action) -> None:
        """Nothing to authenticate to ahead of a fake write."""

    def locks_at(self, resource_id: str) -> LockReading:
        return LockReading(())

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        cluster = super().get_cluster(cluster_id)
        return dataclasses.replace(cluster, cluster_status="Inaccessible" if self.broken else "Ready")

    @property
    def broken(self) -> bool:
        expired = self.estate.key and self.estate.key.expires and self.estate.key.expires < NOW
        return self.estate.assignments == [] or bool(expired)

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """Unavailable while broken; once fixed, Available since this moment (the service's new view)."""
        if self.broken:
            return ResourceHealthFacts("Unavailable", occurred_time=NOW - timedelta(hours=1))
        return ResourceHealthFacts("Available", occurred_time=datetime.now(UTC))


def broken_estate() -> FakeEstate:
    estate = FakeEstate()
    assert estate.key is not None
    expired = dataclasses.replace(estate.key, expires=NOW - timedelta(days=1))
    return estate.replace(assignments=[], key=expired)


def test_session_applies_verifies_and_replans_until_healthy(tmp_path: Path) -> None:
    gateway = FakeGateway(broken_estate())
    audit = AuditLog(tmp_path / "audit.jsonl")
    session = FixSession(gateway, CLUSTER_ID, audit=audit, settings=FixSettings.for_mode("emulator"))
    result = session.run(auto_confirm)
    remediations = [o.step.remediation for o in result.outcomes]
    assert remediations == ["extend-key-expiry", "grant-crypto-role", "wait-for-ready"]
    writes = result.outcomes[:2]
    assert all(o.verification and o.verification.status == "verified" for o in writes)
    assert result.outcomes[2].status == "ready"
    assert result.final.verdict == "healthy"
    assert result.exit_code == 0
    report = incident_markdown(session)
    for heading in (
        "## Summary",
        "## Timeline",
        "## Findings at the start",
        "## Checks at the start",
        "## Steps taken",
        "## Final state",
        "## Audit",
    ):
        assert heading in report
    assert "KEY_EXPIRED" in report
    assert all(rid in report for rid in audit.written)
    assert save_report(report, tmp_path / "r" / "incident.md").read_text() == report


def test_declined_step_changes_nothing(tmp_path: Path) -> None:
    gateway = FakeGateway(broken_estate())
    session = FixSession(gateway, CLUSTER_ID, audit=AuditLog(tmp_path / "audit.jsonl"))
    result = session.run(lambda step: "n")
    assert [o.status for o in result.outcomes] == ["declined"]
    assert not (tmp_path / "audit.jsonl").exists()
    assert result.exit_code == 1


def test_read_only_session_is_refused_before_writing(tmp_path: Path) -> None:
    gateway = FakeGateway(broken_estate(), read_only=True)
    session = FixSession(gateway, CLUSTER_ID, audit=AuditLog(tmp_path / "audit.jsonl"))
    outcome = session.apply(session.plan().steps[0], confirmation=True)
    assert outcome.status == "refused"
    assert "--read-only" in outcome.advice
    assert not (tmp_path / "audit.jsonl").exists()


def test_confirmations() -> None:
    from wizard.domain.results import ConfirmKind, StepKind
    from wizard.engine.steps import Step

    typed = Step(
        "delete-failed-cluster",
        "X",
        StepKind.WRITE,
        "",
        "",
        "",
        {},
        {},
        None,
        "t",
        confirm=ConfirmKind.TYPED,
        confirm_text="c1",
    )
    assert not confirmation_ok(typed, True)
    assert not confirmation_ok(typed, "C1")
    assert confirmation_ok(typed, "c1")
    assert auto_confirm(typed) is None  # --yes alone types nothing
    assert auto_confirm(typed, {"c2"}) is None
    assert auto_confirm(typed, {"c2", "c1"}) == "c1"
    yes = dataclasses.replace(typed, confirm=ConfirmKind.YES, confirm_text="")
    assert confirmation_ok(yes, "y")
    assert not confirmation_ok(yes, "")
    assert not confirmation_ok(yes, None)
    assert auto_confirm(yes) is True


def test_wait_for_ready_times_out_and_cancels_with_backoff() -> None:
    gateway = FakeGateway(broken_estate())
    ticks = iter(range(1000))
    seen: list[float] = []
    result = wait_for_ready(
        gateway,
        CLUSTER_ID,
        timeout=10,
        poll=1,
        max_poll=4,
        backoff=2,
        on_progress=lambda p: seen.append(p.next_poll_in),
        clock=lambda: float(next(ticks)),
        cancel=_NeverWaits(),
    )
    assert not result.ready
    assert result.status == "timeout"
    assert seen[:4] == [1, 2, 4, 4]
    cancel = threading.Event()
    cancel.set()
    result = wait_for_ready(gateway, CLUSTER_ID, timeout=10, poll=1, cancel=cancel)
    assert result.status == "cancelled"
    assert "documented bound 60 min" in result.describe()


class _NeverWaits(threading.Event):
    def wait(self, timeout: float | None = None) -> bool:
        return False
