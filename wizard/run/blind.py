"""A fix that loses sight: a critical check answered earlier in the session and unknown now.

The planner cannot plan for a cause it cannot see (a missing role once role assignments are
unreadable), and a re-plan without that cause looks fixed when it is not. So a re-plan that has
lost sight of a check stops, says which and what it needs, and takes only the removal of a
temporary IP rule still open (the one write a stop always makes)."""

from __future__ import annotations

from dataclasses import replace

from wizard.domain.actions import RemoveOperatorIp
from wizard.domain.models import CheckStatus
from wizard.domain.results import StepKind
from wizard.engine.assess import Assessment, critical_checks, unseen_critical
from wizard.engine.fix_plan import what_is_unseen
from wizard.engine.steps import Plan

ANSWERED = (CheckStatus.PASS, CheckStatus.FAIL)


def answered(assessment: Assessment) -> set[str]:
    """The critical checks this diagnosis could answer (pass or fail)."""
    critical = critical_checks()
    return {c.id for c in assessment.checks if c.id in critical and c.status in ANSWERED}


def lost_sight(assessment: Assessment, seen: set[str]) -> str:
    """Why the fix stops: the critical checks in `seen` (answered earlier) unknown now; "" if none."""
    lost = [c for c in unseen_critical(assessment) if c.id in seen]
    if not lost:
        return ""
    named = "; ".join(f"{c.id} ({'needs ' + c.needs if c.needs else c.detail})" for c in lost)
    return (
        f"cannot see {what_is_unseen(lost[0])} any more: {named} answered earlier in this fix and "
        "is unknown now, so what it would show does not count as fixed and nothing more is "
        "applied; once it can be read again, run fix again"
    )


def stopped_plan(plan: Plan, why: str) -> Plan:
    """The plan with nothing left to do but a temporary rule's removal, and why, in its notes."""
    kept = tuple(
        s
        for s in plan.steps
        if s.kind not in (StepKind.WRITE, StepKind.WAIT) or isinstance(s.action, RemoveOperatorIp)
    )
    return replace(plan, steps=kept, notes=(*plan.notes, f"stopped: {why}"))
