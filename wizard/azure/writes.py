"""The gateway's writes: one typed action at a time, through the real SDK.

Every write, in this order:
1. `gateway.guard_write(...)`: in read-only mode it raises before any request is made;
2. reads the before-state and answers "already-done" when the effect is already there;
3. writes an audit record of intent (who, when, what, the request, the before-state);
4. makes the one SDK write call;
5. reads the after-state and writes an audit record of the result (ok, already-done, error; or
   unknown: the write failed but the after-state shows the change, or could not be read).
Both records are flushed and fsync'd before the write returns or raises.

Never purges, never uses access-policy `replace`; the only delete is of a Failed cluster. The
writes themselves live by resource: key_writes, vault_writes, access_writes, cluster_writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, assert_never

from wizard.azure import access_writes, cluster_writes, key_writes, network_writes, vault_writes
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
    RemoveOperatorIp,
)
from wizard.domain.errors import Conflict, GatewayError
from wizard.domain.ports import AuditTrail
from wizard.domain.results import WriteResult, WriteStatus

if TYPE_CHECKING:
    from wizard.azure.gateway import AzureGateway

State = dict[str, Any]


class GatewayWriter:
    """The write half of the gateway, bound to an audit trail (the AzureWriter port)."""

    def __init__(self, gateway: AzureGateway, audit: AuditTrail) -> None:
        self.gateway = gateway
        self.factory = gateway.factory
        self.audit = audit

    def apply(self, action: Action) -> WriteResult:
        """Make the write the action describes, guarded and audited."""
        match action:
            case ExtendKeyExpiry():
                return key_writes.extend_key_expiry(self, action)
            case EnableKey():
                return key_writes.enable_key(self, action)
            case ClearKeyNotBefore():
                return key_writes.clear_key_not_before(self, action)
            case RecoverKey():
                return key_writes.recover_key(self, action)
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
        undo: State | None = None,
        undoes: str | None = None,
    ) -> WriteResult:
        """Guard, read the before-state, audit the intent, write once, read back, audit the result.

        `undo` (a temporary change) goes into the result record whenever the change may be there
        (ok or unknown), so an interrupted run leaves the way back in the audit log; `undoes`
        names the intent a removal takes back, on every result."""
        self.gateway.guard_write(f"{remediation} on {target}")
        before_state = before()
        operator = self._operator()
        reason = done(before_state)
        summary = request(before_state) if callable(request) else request
        intent = self.audit.intent(
            operator=operator,
            remediation=remediation,
            target=target,
            request=summary if reason is None else {"sent": False, **summary},
            before=before_state,
        )
        if reason is not None:
            rid = self.audit.result(
                intent,
                remediation=remediation,
                target=target,
                result=WriteStatus.ALREADY_DONE,
                message=reason,
                after=before_state,
                undoes=undoes,
            )
            return WriteResult(
                remediation,
                target,
                WriteStatus.ALREADY_DONE,
                reason,
                before_state,
                before_state,
                (intent, rid),
            )
        try:
            act(before_state)
        except Conflict as exc:
            if not set(str(exc.code or "").split("/")) & set(conflict_done_codes):
                self._fail(intent, remediation, target, exc, after, done, undo, undoes)
                raise
            message = f"already there ({exc.code or 'Conflict'})"
            after_state = self._after(after)
            rid = self.audit.result(
                intent,
                remediation=remediation,
                target=target,
                result=WriteStatus.ALREADY_DONE,
                message=message,
                after=after_state,
                undoes=undoes,
            )
            return WriteResult(
                remediation,
                target,
                WriteStatus.ALREADY_DONE,
                message,
                before_state,
                after_state,
                (intent, rid),
            )
        except BaseException as exc:
            self._fail(intent, remediation, target, exc, after, done, undo, undoes)
            raise
        after_state = self._after(after)
        rid = self.audit.result(
            intent,
            remediation=remediation,
            target=target,
            result=WriteStatus.OK,
            message="applied",
            after=after_state,
            undo=undo,
            undoes=undoes,
        )
        return WriteResult(
            remediation, target, WriteStatus.OK, "applied", before_state, after_state, (intent, rid)
        )

    def _after(self, after: Callable[[], State]) -> State:
        try:
            return after()
        except GatewayError as exc:
            return {"unreadable": " ".join(str(exc).split())}

    def _fail(
        self,
        intent: str,
        remediation: str,
        target: str,
        exc: BaseException,
        after: Callable[[], State],
        done: Callable[[State], str | None],
        undo: State | None = None,
        undoes: str | None = None,
    ) -> None:
        """The result of a write that raised. A timeout or throttle may come after Azure took the
        write: read the after-state (best effort); `unknown` when it shows the change or cannot be
        read (an interrupted write, e.g. Ctrl-C, is not read back: `unknown`, its undo kept)."""
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, Exception):
            after_state = self._after(after)
            try:
                landed = "unreadable" in after_state or done(after_state) is not None
            except Exception:
                landed = True
        else:
            after_state, landed = {"unreadable": f"interrupted ({type(exc).__name__})"}, True
        self.audit.result(
            intent,
            remediation=remediation,
            target=target,
            result=WriteStatus.UNKNOWN if landed else WriteStatus.ERROR,
            message=message,
            after=after_state,
            undo=undo if landed else None,
            undoes=undoes,
        )
