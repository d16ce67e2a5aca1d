"""The gateway's writes: one typed action at a time, through the real SDK.

Every write, in this order:
1. `gateway.guard_write(...)`: in read-only mode it raises before any request is made;
2. reads the before-state and answers "already-done" when the effect is already there;
3. writes an audit record of intent (who, when, what, the request, the before-state, the action);
   if the log cannot take it, nothing is sent;
4. makes the one SDK write call;
5. reads the after-state and writes an audit record of the result: ok, already-done, error,
   unknown (sent, the answer lost, the read-back cannot tell) or not-sent (interrupted first).
   A temporary change's result carries its `undo` whenever the change may be there (ok, unknown);
   a removal's carries `undoes`, the intent it takes back.
Both records are flushed and fsync'd before the write returns or raises. `probe` runs a write's
reads alone, so a later run can settle a write whose outcome was unknown.

Never purges, never uses access-policy `replace`; the only delete is of a Failed cluster. The
writes themselves live by resource: key_writes, vault_writes, access_writes, cluster_writes,
network_writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, assert_never

from wizard.azure import access_writes, cluster_writes, group_writes, key_writes, network_writes, vault_writes
from wizard.domain.action_records import action_record
from wizard.domain.actions import (
    Action,
    AddAccessPolicy,
    AllowOperatorIp,
    AllowTrustedServices,
    AttachIdentityAndKey,
    ClearKeyNotBefore,
    CreateIdentity,
    DeleteFailedCluster,
    EnableKey,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    GrantCryptoRole,
    RecoverKey,
    RecoverVault,
    RecreateResourceGroup,
    RemoveOperatorIp,
)
from wizard.domain.errors import (
    AuditWriteFailed,
    Conflict,
    GatewayError,
    WizardError,
    WriteRefused,
    WriteUnknown,
)
from wizard.domain.ports import AuditTrail
from wizard.domain.results import Found, Resolution, WriteResult, WriteStatus

if TYPE_CHECKING:
    from wizard.azure.gateway import AzureGateway

State = dict[str, Any]


class GatewayWriter:
    """The write half of the gateway, bound to an audit trail (the AzureWriter port)."""

    def __init__(self, gateway: AzureGateway, audit: AuditTrail) -> None:
        self.gateway = gateway
        self.factory = gateway.factory
        self.audit = audit
        self._action: State | None = None
        self.report: Callable[[str], None] | None = None
        self._answered: Callable[[], None] | None = None

    def watch(self, report: Callable[[str], None] | None) -> None:
        """Where long-running operations report their status while the write waits on them."""
        self.report = report

    def when_answered(self, start: Callable[[], None] | None) -> None:
        """Called once, when Azure accepts the next write, before its read-back."""
        self._answered = start

    def _tell_answered(self) -> None:
        """The verification may start reading now; a failure to start it leaves the write's own
        record untouched (the session then reads after the write returns)."""
        start, self._answered = self._answered, None
        if start is not None:
            with contextlib.suppress(Exception):
                start()

    def waited(self, poller: Any, what: str) -> Any:
        """A long-running operation's poller once it is done, polled at the factory's interval with
        its progress reported (take its result as usual)."""
        from wizard.azure.lro import wait_reporting

        return wait_reporting(poller, what, self.factory.polling_interval, self.report)

    def apply(self, action: Action) -> WriteResult:
        """Make the write the action describes, guarded and audited."""
        self._action = action_record(action)
        match action:
            case ExtendKeyExpiry():
                return key_writes.extend_key_expiry(self, action)
            case EnableKey():
                return key_writes.enable_key(self, action)
            case ClearKeyNotBefore():
                return key_writes.clear_key_not_before(self, action)
            case RecoverKey():
                return key_writes.recover_key(self, action)
            case RecreateResourceGroup():
                return group_writes.recreate_resource_group(self, action)
            case RecoverVault():
                return vault_writes.recover_vault(self, action)
            case AllowTrustedServices():
                return vault_writes.allow_trusted_services(self, action)
            case AllowOperatorIp():
                return network_writes.allow_operator_ip(self, action)
            case RemoveOperatorIp():
                return network_writes.remove_operator_ip(self, action)
            case EnablePurgeProtection():
                return vault_writes.enable_purge_protection(self, action)
            case AddAccessPolicy():
                return access_writes.add_access_policy(self, action)
            case GrantCryptoRole():
                return access_writes.grant_crypto_role(self, action)
            case CreateIdentity():
                return cluster_writes.create_identity(self, action)
            case AttachIdentityAndKey():
                return cluster_writes.attach_identity_and_key(self, action)
            case DeleteFailedCluster():
                return cluster_writes.delete_failed_cluster(self, action)
            case _:
                assert_never(action)

    # -- the one pattern every write follows -------------------------------------------------

    def _operator(self) -> State:
        try:
            op = self.gateway.operator()
        except GatewayError:
            return {"mode": self.gateway.mode, "account": "", "tenant": ""}
        return {"mode": op.mode, "account": op.account, "tenant": op.tenant_id}

    def probe(self, action: Action) -> Resolution:
        """Read the action's target and say whether its effect is there: no guard, no audit, no write."""
        prober = _Prober(self.gateway, self.audit)
        try:
            prober.apply(action)
        except WriteRefused as exc:
            prober.found = Resolution(Found.NOT_APPLIED, " ".join(str(exc).split()))
        except WizardError as exc:
            prober.found = Resolution(Found.UNREADABLE, " ".join(str(exc).split()))
        assert prober.found is not None
        return replace(prober.found, undo=prober.undo, undoes=prober.undoes)

    def audited(
        self,
        remediation: str,
        target: str,
        request: State | Callable[[State], State],
        *,
        before: Callable[[], State],
        done: Callable[[State], str | None],
        act: Callable[[State], object],
        after: Callable[[], State],
        conflict_done_codes: tuple[str, ...] = (),
        ours: Callable[[State], bool] | None = None,  # the after-state holds what THIS request made
        undo: State | None = None,
        undoes: str | None = None,
    ) -> WriteResult:
        """Guard, read the before-state, audit the intent, write once, read back, audit the result.

        `undo` (a temporary change: the write that takes it back) goes into the result record
        whenever the change may be there (ok or unknown, also when interrupted), so the next run
        finds the way back in the audit log; `undoes` (the intent a removal takes back) goes into
        every result. Both ride on the one `_Record`, whatever path the write takes."""
        self.gateway.guard_write(f"{remediation} on {target}")
        before_state = before()
        operator = self._operator()
        reason = done(before_state)
        summary = request(before_state) if callable(request) else request
        try:
            intent = self.audit.intent(
                operator=operator,
                remediation=remediation,
                target=target,
                request=summary if reason is None else {"sent": False, **summary},
                before=before_state,
                action=self._action,
            )
        except AuditWriteFailed as exc:
            raise AuditWriteFailed(f"{exc}: nothing was sent to Azure") from None
        record = _Record(self.audit, intent, remediation, target, before_state, undo=undo, undoes=undoes)
        if reason is not None:
            return record.close(WriteStatus.ALREADY_DONE, reason, before_state, sent=False)
        progress = ["not-sent"]
        try:
            return self._send(record, progress, act, after, done, ours, conflict_done_codes)
        except BaseException as exc:
            if not isinstance(exc, Exception) and not record.closed:  # Ctrl-C: say how far it got
                record.interrupted(progress[0])
            raise

    def _send(
        self,
        record: _Record,
        progress: list[str],
        act: Callable[[State], object],
        after: Callable[[], State],
        done: Callable[[State], str | None],
        ours: Callable[[State], bool] | None,
        conflict_done_codes: tuple[str, ...],
    ) -> WriteResult:
        """The one SDK call and what it came to, recorded; raises as the call did (or WriteUnknown)."""
        try:
            progress[0] = "sent"
            act(record.before)
            progress[0] = "answered"
        except Conflict as exc:
            if not set(str(exc.code or "").split("/")) & set(conflict_done_codes):
                return self._fail(record, exc, after, done, ours)
            after_state = self._after(after)
            if ours is not None and ours(after_state):
                message = (
                    f"applied: Azure answered {exc.code} to a retry of the request, and reading it "
                    "back shows the one this run created"
                )
                return record.close(WriteStatus.OK, message, after_state)
            return record.close(
                WriteStatus.ALREADY_DONE, f"already there ({exc.code or 'Conflict'})", after_state
            )
        except Exception as exc:
            return self._fail(record, exc, after, done, ours)
        self._tell_answered()
        return record.close(WriteStatus.OK, "applied", self._after(after))

    def _after(self, after: Callable[[], State]) -> State:
        try:
            return after()
        except GatewayError as exc:
            return {"unreadable": " ".join(str(exc).split())}

    def _fail(
        self,
        record: _Record,
        exc: Exception,
        after: Callable[[], State],
        done: Callable[[State], str | None],
        ours: Callable[[State], bool] | None,
    ) -> WriteResult:
        """A raised write may still have landed: read back; ok if ours, error if unchanged, else unknown."""
        message = " ".join(str(exc).split()) or type(exc).__name__
        after_state = self._after(after)
        try:
            unreadable = "unreadable" in after_state
            landed = unreadable or done(after_state) is not None
            mine = not unreadable and ours is not None and ours(after_state)
        except Exception:
            landed, mine = True, False
        if mine:
            text = f"applied: the answer was lost ({message}); reading back shows the one this run created"
            return record.close(WriteStatus.OK, text, after_state)
        if not landed:
            record.close(WriteStatus.ERROR, message, after_state)
            raise exc
        seen = (
            "the target could not be read back"
            if "unreadable" in after_state
            else "reading it back shows the change, but not whether this request made it"
        )
        text = f"sent, outcome unknown: {message}; {seen}"
        record.close(WriteStatus.UNKNOWN, text, after_state)
        raise WriteUnknown(text) from exc


MAY_BE_THERE = frozenset({WriteStatus.OK, WriteStatus.UNKNOWN})  # results that keep a write's undo


class _Record:
    """The result half of one audited write: written once, whatever path the write took. It carries
    the write's `undo` into every result whose change may be there (ok, unknown) and `undoes` into all."""

    def __init__(
        self,
        audit: AuditTrail,
        intent: str,
        remediation: str,
        target: str,
        before: State,
        *,
        undo: State | None = None,
        undoes: str | None = None,
    ) -> None:
        self.audit, self.intent, self.remediation, self.target = audit, intent, remediation, target
        self.before = before
        self.undo, self.undoes = undo, undoes
        self.closed = False

    def close(self, status: WriteStatus, message: str, after: State, *, sent: bool = True) -> WriteResult:
        """Record the result; a log that cannot take it is AuditWriteFailed (`sent` as given)."""
        self.closed = True
        try:
            rid = self.audit.result(
                self.intent,
                remediation=self.remediation,
                target=self.target,
                result=status,
                message=message,
                after=after,
                undo=self.undo if status in MAY_BE_THERE else None,
                undoes=self.undoes,
            )
        except AuditWriteFailed as exc:
            if not sent:
                raise AuditWriteFailed(f"{exc}: nothing was sent to Azure") from None
            raise AuditWriteFailed(
                f"{self.remediation} was sent ({status}: {message}), but {exc}; the next fix reads "
                "the target and records what it finds",
                sent=True,
            ) from None
        return WriteResult(
            self.remediation, self.target, status, message, self.before, after, (self.intent, rid)
        )

    def interrupted(self, progress: str) -> None:
        """Interrupted (Ctrl-C) before, during or after the request: record which, best effort."""
        status, message = {
            "not-sent": (WriteStatus.NOT_SENT, "interrupted before the request was sent"),
            "sent": (
                WriteStatus.UNKNOWN,
                "interrupted while the request was in flight: Azure may have taken it",
            ),
            "answered": (WriteStatus.OK, "applied; interrupted before it was read back"),
        }[progress]
        with contextlib.suppress(Exception):
            self.close(status, message, {"unreadable": "interrupted before it was read back"}, sent=False)


class _Prober(GatewayWriter):
    """The writes' own reads, without the writes: `audited` reads the target and stops there."""

    found: Resolution | None = None
    undo: State | None = None
    undoes: str | None = None

    def audited(
        self,
        remediation: str,
        target: str,
        request: State | Callable[[State], State],
        *,
        before: Callable[[], State],
        done: Callable[[State], str | None],
        undo: State | None = None,
        undoes: str | None = None,
        **_: Any,
    ) -> WriteResult:
        """Read the before-state and judge it; nothing is guarded, audited or sent (the write's
        undo and undoes are kept, for the `resolved` record)."""
        self.undo, self.undoes = undo, undoes
        state = before()
        if "unreadable" in state:
            self.found = Resolution(Found.UNREADABLE, f"cannot read {target}: {state['unreadable']}", state)
        else:
            reason = done(state)
            self.found = (
                Resolution(Found.APPLIED, reason, state)
                if reason is not None
                else Resolution(Found.NOT_APPLIED, f"{remediation} is not in effect on {target}", state)
            )
        return WriteResult(remediation, target, WriteStatus.NOT_SENT, self.found.message, state, state)
