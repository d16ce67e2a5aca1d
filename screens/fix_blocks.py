"""The Fix screen's detail blocks: a planned step's preview and an applied step's outcome.

Pure rendering (no Textual widgets): the words come from the plan and the session's outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.markup import escape

from screens.confirm import state_changes
from screens.presentation import field, show_value
from screens.widgets.detail_pane import Block
from wizard.domain.results import ConfirmKind, OutcomeStatus, StepKind, VerificationStatus
from wizard.engine.steps import Step
from wizard.run.outcomes import StepOutcome, changed_fields
from wizard.run.wait import polls_text

OUTCOME_WORDS: dict[str, tuple[str, str, str]] = {
    OutcomeStatus.OK: ("Done", "$success", "✓"),
    OutcomeStatus.ALREADY_DONE: ("Already done", "$success", "="),
    OutcomeStatus.UNKNOWN: ("Outcome unknown", "$warning", "?"),
    OutcomeStatus.READY: ("Ready", "$success", "✓"),
    OutcomeStatus.UNCONFIRMED: ("Not confirmed", "$warning", "?"),
    OutcomeStatus.CLUSTER_STOPPED: ("Cluster is Stopped", "$warning", "!"),
    OutcomeStatus.DECLINED: ("Not applied", "$warning", "-"),
    OutcomeStatus.SKIPPED: ("Skipped", "$warning", "-"),
    OutcomeStatus.BLOCKED: ("Not waited: a cause is still there", "$warning", "!"),
    OutcomeStatus.REFUSED: ("Refused", "$error", "✗"),
    OutcomeStatus.ERROR: ("Failed", "$error", "✗"),
    OutcomeStatus.TIMEOUT: ("Not Ready yet", "$warning", "…"),
    OutcomeStatus.CANCELLED: ("Stopped waiting", "$warning", "-"),
    OutcomeStatus.ESCALATE: ("Escalate", "$warning", "!"),
}
VERIFY_WORDS: dict[str, tuple[str, str]] = {
    VerificationStatus.VERIFIED: ("verified", "$success"),
    VerificationStatus.DEFERRED: ("cannot confirm yet", "$warning"),
    VerificationStatus.FAILED: ("not fixed", "$error"),
}
CONFIRM_WORDS: dict[str, str] = {
    ConfirmKind.YES: "yes or no",
    ConfirmKind.NONE: "none: it only reads",
}


def elapsed_text(seconds: float) -> str:
    """m:ss (h:mm:ss past an hour)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def permission_line(step: Step) -> str:
    """Whether the operator seems to hold the permission, judged by their own reads."""
    if step.permission_doubt:
        return (
            f"[$warning]you may lack it:[/] reading here needed {escape(step.permission_doubt)}, "
            "which you did not have"
        )
    return "[$text-muted]no sign you lack it (your reads here were allowed); Azure decides on apply[/]"


def step_preview(
    step: Step, *, number: int, next_key: str | None, read_only: bool, notes: Sequence[str] = ()
) -> list[Block]:
    """One planned step: what changes (before → after), the REST call, az, permission, reversibility."""
    blocks: list[Block] = [("title", f"{number}. {escape(step.title)}"), ("line", escape(step.summary))]
    also = f" (also fixes {', '.join(step.also_fixes)})" if step.also_fixes else ""
    blocks.append(("field", field("Finding", step.finding + also)))
    if step.kind == StepKind.ESCALATE or step.kind not in (StepKind.WRITE, StepKind.WAIT):
        blocks += [("heading-warning", "Nothing to apply here"), ("field", escape(step.explanation))]
        return blocks
    if step.explanation:
        blocks += [("heading", "Why this step"), ("line", escape(step.explanation))]
    if step.provisional:
        blocks.append(
            (
                "heading-warning",
                "Depends on an earlier step: its details are filled in once that step is done",
            )
        )
    if step.network:
        blocks += [
            ("heading-warning", "Your network: the vault may refuse this"),
            ("field", escape(step.network)),
        ]
    if step.lock:
        blocks += [
            ("heading-warning", "A management lock will refuse this"),
            ("field", escape(step.lock)),
        ]
    blocks += [
        ("heading", "What changes"),
        ("field", field("Change", step.change)),
        ("field", field("Target", step.target)),
    ]
    blocks += [("field", row) for row in state_changes(step)]
    blocks += [
        ("heading", "How"),
        ("field", field("REST", step.rest)),
        ("field", field("az", step.az)),
        ("heading", "Who may"),
        ("field", field("Permission", step.permission or "reads only")),
        ("field", f"[$text-muted]You[/]  {permission_line(step)}"),
    ]
    reversible = "[$success]yes[/]" if step.reversible else "[b $error]NO: this cannot be undone[/]"
    confirm = (
        f"type the name [b]{escape(step.confirm_text)}[/]"
        if step.confirm == ConfirmKind.TYPED
        else CONFIRM_WORDS.get(step.confirm, escape(step.confirm))
    )
    blocks += [
        ("heading", "Safety"),
        ("field", f"[$text-muted]Reversible[/]  {reversible}"),
        ("field", f"[$text-muted]Confirmation[/]  {confirm}"),
        ("field", field("Verify by re-running", ", ".join(step.verifies) or "the cluster status")),
    ]
    if step.key == next_key:
        if read_only and step.kind == StepKind.WRITE:
            blocks.append(
                (
                    "note-warning",
                    "Read-only: writes are disabled, so this step cannot be "
                    "applied. Start the wizard without --read-only to fix.",
                )
            )
        else:
            verb = "start waiting" if step.kind == StepKind.WAIT else "confirm and apply it"
            blocks.append(("note", f"Next step: press a to {verb}."))
    else:
        blocks.append(("note", "Applied in order: the step marked → comes first."))
    if notes:
        blocks += [("heading-warning", "Plan notes"), *(("field", escape(n)) for n in notes)]
    return blocks


def outcome_detail(
    outcome: StepOutcome, next_step: Step | None, *, afterwards: tuple[str, str] | None = None
) -> list[Block]:
    """What applying a step came to, how it was verified, and what comes next (`afterwards`: the
    fix is done and this is the operator's next step, with its az command)."""
    words, style, _ = OUTCOME_WORDS.get(outcome.status, (outcome.status, "$warning", "?"))
    title = "title-error" if style == "$error" else "title"
    recorded = f" [$text-muted](audit: {escape(outcome.status)})[/]" if outcome.audit_ids else ""
    blocks: list[Block] = [
        (title, f"{escape(outcome.step.title)}: [{style}]{escape(words)}[/]{recorded}"),
        ("line", escape(outcome.message)),
    ]
    if outcome.advice:
        blocks += [("heading-warning", "What to do"), ("field", escape(outcome.advice))]
    if outcome.before or outcome.after:
        blocks.append(("heading", "What changed (read back from Azure)"))
        changes = changed_fields(outcome.before, outcome.after)
        blocks += [
            (
                "field",
                f"[$text-muted]{escape(name)}[/]  {escape(show_value(old))} [b]→[/] "
                f"{escape(show_value(new))}",
            )
            for name, old, new in changes
        ]
        if not changes:
            blocks.append(("field", "[$text-muted]nothing: it was already so[/]"))
    if outcome.verification is not None:
        verdict, v_style = VERIFY_WORDS.get(
            outcome.verification.status, (outcome.verification.status, "$warning")
        )
        blocks += [
            ("heading", "Verified by diagnosing again"),
            ("field", f"[{v_style}]{escape(verdict)}[/]: {escape(outcome.verification.detail)}"),
        ]
        blocks += [
            ("field", field(check, f"{status} {detail}".strip()))
            for check, status, detail in outcome.verification.checks
        ]
    if outcome.wait is not None:
        w = outcome.wait
        blocks += [
            ("heading", "Waited"),
            (
                "field",
                field(
                    "Elapsed",
                    f"{elapsed_text(w.elapsed)} ({polls_text(w.polls)}; "
                    f"documented bound about {w.bound / 60:.0f} min)",
                ),
            ),
            ("field", field("Cluster", w.cluster_status)),
            ("field", field("Resource Health", w.availability or "could not be read")),
        ]
        if w.proof:
            blocks.append(("field", field("Proof", w.proof)))
    if outcome.audit_ids:
        blocks.append(("field", field("Audit records", ", ".join(outcome.audit_ids))))
    blocks.append(("heading", "Next"))
    if afterwards is not None:
        text, az = afterwards
        blocks += [("field", escape(text)), ("field", field("az", az)), ("note", "p opens the report.")]
    elif outcome.wait is not None and outcome.wait.status in (
        OutcomeStatus.UNCONFIRMED,
        OutcomeStatus.CLUSTER_STOPPED,
    ):
        blocks.append(
            ("field", "The fix's verdict is incomplete until this is confirmed: p opens the report.")
        )
    elif outcome.wait is not None and outcome.wait.ready and next_step is None:
        blocks.append(("field", "The cluster is Ready: p opens the incident report."))
    elif next_step is None:
        blocks.append(("field", "Nothing left to apply: w waits for Ready, p opens the report."))
    elif next_step.kind == StepKind.WAIT:
        blocks.append(("field", f"{escape(next_step.title)}: press a (or w) to start; p for the report."))
    else:
        blocks.append(("field", f"{escape(next_step.title)}: ↓ previews it, a applies it."))
    return blocks
