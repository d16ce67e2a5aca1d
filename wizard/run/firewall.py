"""A fix session's bookkeeping of the operator's temporary IP rules (allow-operator-ip).

What a fresh diagnosis cannot tell: which rule in a vault's firewall this wizard added and must
take away again, and the operator's own address once a firewall 403 has named it. The rules an
earlier, interrupted run left open come from the audit log's undo records.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wizard.domain.actions import AllowOperatorIp, RemoveOperatorIp
from wizard.domain.errors import Forbidden, NotFound, ReadOnlyViolation, WizardError, WriteRefused
from wizard.domain.network import FORBIDDEN_BY_FIREWALL, usable_address
from wizard.domain.results import WriteResult, WriteStatus
from wizard.engine.steps import Carry, OpenRule, Plan, Step
from wizard.run.audit import pending_undos


def earlier_rules(audit_path: Path) -> tuple[OpenRule, ...]:
    """The temporary rules earlier runs added and never removed (the audit log's pending undos)."""
    rules = []
    for record in pending_undos(audit_path):
        undo = record["undo"]
        if undo.get("remediation") != RemoveOperatorIp.remediation:
            continue
        vault_id, address = str(undo.get("vaultId") or ""), str(undo.get("address") or "")
        if vault_id and address:
            rules.append(OpenRule(vault_id, address, str(record.get("intent") or ""), earlier=True))
    return tuple(rules)


def after_write(carry: Carry, step: Step, result: WriteResult) -> Carry:
    """An added rule is open (only when this write added it); a removed one is closed."""
    action = step.action
    if isinstance(action, AllowOperatorIp) and result.status == WriteStatus.OK:
        intent = result.audit_ids[0] if result.audit_ids else ""
        return carry.with_rule(OpenRule(action.vault_id, action.address, intent, step.finding))
    if isinstance(action, RemoveOperatorIp):
        return carry.without_rule(action.vault_id, action.address)
    return carry


def _may_have_landed(exc: WizardError) -> bool:
    """A write Azure refused outright changed nothing; a timeout or lost answer may have changed it."""
    return not isinstance(exc, Forbidden | NotFound | ReadOnlyViolation | WriteRefused)


def after_error(carry: Carry, step: Step, exc: WizardError, intent: str) -> tuple[Carry, bool]:
    """What a failed write teaches: the operator's address from a firewall 403 (True: a fresh plan
    may now get past the firewall, so go on), a rule that may be open, and whether open rules must
    be closed before anything else."""
    action = step.action
    if isinstance(action, AllowOperatorIp) and _may_have_landed(exc):
        carry = carry.with_rule(OpenRule(action.vault_id, action.address, intent, step.finding))
    address = exc.client_address if isinstance(exc, Forbidden) else None
    if (
        isinstance(exc, Forbidden)
        and exc.inner_code == FORBIDDEN_BY_FIREWALL
        and usable_address(address)
        and address != carry.operator_ip
        and action is not None
        and action.data_plane
    ):
        return replace(carry, operator_ip=address), True
    if carry.open_rules and not isinstance(action, RemoveOperatorIp):
        carry = replace(carry, close_rules_first=True)
    return carry, False


def left_open_text(carry: Carry, audit_path: Path) -> str:
    """What stays open when a run ends before removing its rules, and how it will be removed."""
    rules = ", ".join(
        f"{r.address}/32 on vault {r.vault_id.rstrip('/').rsplit('/', 1)[-1]}" for r in carry.open_rules
    )
    return (
        f"temporary IP rule still open: {rules}. The audit log ({audit_path}) holds its undo: the "
        "next `cmk-wizard fix` with this audit log removes it first"
    )


def removal_step(plan: Plan, carry: Carry) -> Step | None:
    """The first removal of a rule still open that the plan holds (what a stopping run still does)."""
    if not carry.open_rules:
        return None
    return next(
        (s for s in plan.steps if isinstance(s.action, RemoveOperatorIp) and s.writes and not s.provisional),
        None,
    )


def earlier_rule_events(carry: Carry) -> list[str]:
    """What the timeline says at the start about rules an earlier run left open."""
    return [
        f"an earlier run added the IP rule {r.address}/32 to vault {r.vault_id} and did not remove it "
        f"(audit record {r.audit_id}): removing it comes first"
        for r in carry.open_rules
        if r.earlier
    ]
