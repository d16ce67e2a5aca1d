"""The whole fix loop (the CLI's `fix`): plan afresh, take the next step, until none is left, one
fails, one is declined, or the run loses sight of a critical check.

The TUI drives a FixSession step by step instead; both end the same way (a fresh diagnosis)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from wizard.domain.actions import RemoveOperatorIp
from wizard.domain.results import ConfirmKind, StepKind
from wizard.engine.steps import Step
from wizard.run.confirmation import Answer, not_done
from wizard.run.firewall import removal_step
from wizard.run.outcomes import RECOVERY_UNPROVEN, FixResult, StepOutcome, TimelineEvent
from wizard.run.wait import WaitProgress

if TYPE_CHECKING:
    from wizard.run.fix import FixSession

NOT_CONFIRMED = "not confirmed, stopped before it; nothing was sent"


def _event(session: FixSession, kind: str, text: str) -> None:
    session.timeline.append(TimelineEvent(datetime.now(UTC), kind, text))


def run_session(
    session: FixSession,
    confirm: Callable[[Step], Answer],
    *,
    on_step: Callable[[Step], None] | None = None,
    on_outcome: Callable[[StepOutcome], None] | None = None,
    on_progress: Callable[[WaitProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> FixResult:
    """Apply the next step of a fresh plan until none is left, one fails, or one is declined.

    `confirm(step)` answering None means nobody could confirm it (a typed confirmation under
    --yes): the run stops BEFORE that step, records nothing for it, and `unconfirmed` names it.
    A firewall 403 that names the operator's address goes on to the fresh plan (which can now
    open a temporary rule); whenever the run stops with such a rule open, it removes the rule
    first (asked like any write), and only then ends."""
    if session.current is None:
        session.diagnose()
    assert session.initial is not None
    session.cancel = cancel or session.cancel
    escalations: dict[str, Step] = {}
    stopped = ""
    unconfirmed: Step | None = None
    closing = False
    for _ in range(session.settings.max_steps):
        if cancel is not None and cancel.is_set():
            stopped = "cancelled"
            break
        plan = session.plan()
        for s in plan.escalations:
            escalations.setdefault(s.finding, s)
        # stopping: only the removal of a rule still open, then the end
        step = removal_step(plan, session.carry) if closing else plan.next_step
        if step is None:
            stopped = stopped or session.lost_sight
            break
        if step.kind == StepKind.WRITE and session.settled_first():
            continue  # settling changed which earlier rules are open: plan again before asking
        if session.applied_before(step):
            stopped = (
                f"{step.remediation} was applied but the plan asks for it again: "
                "the change did not fix the finding; escalate"
            )
            break
        if on_step is not None:
            on_step(step)
        if step.kind == StepKind.WAIT:
            outcome = session.wait(on_progress=on_progress, cancel=cancel)
        else:
            session.warm_up(step)  # aside, while it is confirmed
            answer = confirm(step)
            if answer is None and step.confirm != ConfirmKind.NONE:
                unconfirmed = unconfirmed or step
                _event(session, "step", f"{step.remediation} for {step.finding}: {NOT_CONFIRMED}")
                stopped = stopped or f"not done: {not_done(step)}"
                if closing or not session.carry.open_rules:
                    break
                closing = True
                continue
            outcome = session.apply(step, confirmation=answer)
        if on_outcome is not None:
            on_outcome(outcome)
        if session.deleted_cluster:
            break
        if not outcome.succeeded:
            if session.refused_by_firewall:  # the address is known now: the fresh plan goes on
                session.refused_by_firewall = False
                continue
            if outcome.status not in RECOVERY_UNPROVEN:  # a wait without proof ends the run quietly
                stopped = stopped or f"{step.remediation}: {outcome.status}"
            if closing or not session.carry.open_rules or isinstance(step.action, RemoveOperatorIp):
                break
            closing = True
    else:
        stopped = f"stopped after {session.settings.max_steps} steps"
    assert session.current is not None
    final = session.current
    if not session.deleted_cluster and session.outcomes and not session.full_after_writes:
        final = session.diagnose()  # one full diagnosis at the end (none if the wait's was one)
    _event(
        session,
        "final",
        f"final verdict {final.verdict}" + (" (failed cluster deleted)" if session.deleted_cluster else ""),
    )
    return FixResult(
        session.initial,
        final,
        list(session.outcomes),
        tuple(escalations.values()),
        session.deleted_cluster,
        stopped,
        unconfirmed,
    )
