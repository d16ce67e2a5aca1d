"""When a step counts as confirmed: nothing for reads, a yes for writes, the name for irreversible ones."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from wizard.domain.results import ConfirmKind, OutcomeStatus, StepKind
from wizard.engine.steps import Step
from wizard.run.outcomes import StepOutcome

Answer = bool | str | None
"""What the executor takes as confirmation: True for yes, the typed name, or None (not confirmed)."""


def confirmation_ok(step: Step, answer: Answer) -> bool:
    """none: always; yes: True or y/yes; typed: exactly the resource's name."""
    if step.confirm == ConfirmKind.NONE:
        return True
    if step.confirm == ConfirmKind.TYPED:
        return isinstance(answer, str) and answer.strip() == step.confirm_text and bool(step.confirm_text)
    if isinstance(answer, str):
        return answer.strip().lower() in ("y", "yes")
    return answer is True


def auto_confirm(step: Step, names: Collection[str] = ()) -> Answer:
    """`--yes`: confirm y/N steps. A typed step (irreversible or destructive) only when its resource
    name is among `names` (`--confirm-name`); otherwise None: nobody typed it, the run stops there."""
    if step.confirm != ConfirmKind.TYPED:
        return True
    return step.confirm_text if step.confirm_text and step.confirm_text in names else None


def how_to_confirm(step: Step) -> str:
    """What the operator must do to confirm the step: `type 'name'` or `answer yes`."""
    return f"type {step.confirm_text!r}" if step.confirm == ConfirmKind.TYPED else "answer yes"


def what_confirms(step: Step) -> str:
    """What confirms the step: `the name 'name' typed` or `a yes`."""
    return f"the name {step.confirm_text!r} typed" if step.confirm == ConfirmKind.TYPED else "a yes"


def not_done(step: Step) -> str:
    """A step nobody confirmed, said as the run's stop reason: what, where, and what it needs."""
    return (
        f"{step.remediation} on {step.target.rsplit('/', 1)[-1]} and any step after it; "
        f"it needs {what_confirms(step)}"
    )


def held_back(step: Step, answer: Answer, started: datetime) -> StepOutcome | None:
    """The outcome of a step that is not sent: it only explains, depends on an earlier one, or is
    not confirmed; None for a write that may go ahead."""
    if step.kind != StepKind.WRITE:
        return StepOutcome(
            step,
            OutcomeStatus.ESCALATE if step.kind == StepKind.ESCALATE else OutcomeStatus.DECLINED,
            "nothing to apply: " + (step.explanation or step.summary),
            advice=step.explanation,
            started_at=started,
        )
    if step.provisional:
        return StepOutcome(
            step,
            OutcomeStatus.REFUSED,
            "this step depends on an earlier one",
            advice="apply the earlier steps, then take the fresh plan",
            started_at=started,
        )
    if not confirmation_ok(step, answer):
        return StepOutcome(
            step,
            OutcomeStatus.DECLINED,
            "not confirmed: nothing was changed",
            advice=f"to apply it, {how_to_confirm(step)}",
            started_at=started,
        )
    return None
