"""What a fix session records: each step's outcome, the incident timeline, the end result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wizard.domain.errors import AuditWriteFailed, ClusterBusy, WizardError, WriteRefused, WriteUnknown
from wizard.domain.results import OutcomeStatus, VerificationStatus
from wizard.engine.steps import Step
from wizard.run.diagnose import Diagnosis
from wizard.run.verify import Verification
from wizard.run.wait import WaitResult


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Only what changed, as (name, before, after), in the order the states name them; a name
    missing on one side is None there."""
    names = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return [(k, before.get(k), after.get(k)) for k in names]


@dataclass(frozen=True)
class StepOutcome:
    """What applying (or declining, or waiting for) one step came to, and what to do next."""

    step: Step
    status: OutcomeStatus
    message: str
    advice: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    audit_ids: tuple[str, ...] = ()
    verification: Verification | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    wait: WaitResult | None = None

    @property
    def succeeded(self) -> bool:
        """The step's effect is there (applied or already there) and nothing contradicts it."""
        if self.status == OutcomeStatus.READY:
            return True
        return self.status in (OutcomeStatus.OK, OutcomeStatus.ALREADY_DONE) and (
            self.verification is None or self.verification.status != VerificationStatus.FAILED
        )


def failed_status(exc: WizardError) -> OutcomeStatus:
    """A raised write's word: refused when nothing was sent, unknown when sent unrecorded, else error."""
    if isinstance(exc, WriteRefused | ClusterBusy) or (isinstance(exc, AuditWriteFailed) and not exc.sent):
        return OutcomeStatus.REFUSED
    if isinstance(exc, WriteUnknown | AuditWriteFailed):
        return OutcomeStatus.UNKNOWN
    return OutcomeStatus.ERROR


SKIP_MESSAGE = "skipped: left out of this fix; nothing was sent"


def exit_code_of(verdict: str) -> int:
    """The process exit code of a verdict: 0 healthy, 1 unhealthy, 3 anything undecided."""
    return {"healthy": 0, "unhealthy": 1}.get(verdict, 3)


RECOVERY_UNPROVEN = (OutcomeStatus.UNCONFIRMED, OutcomeStatus.CLUSTER_STOPPED)
"""How a wait ends when nothing proves the key was revalidated: the run's verdict cannot be healthy."""


def recovery_unconfirmed(outcomes: Iterable[StepOutcome]) -> StepOutcome | None:
    """The last wait, when it ended without proof of recovery (and no later wait proved it)."""
    waits = [o for o in outcomes if o.wait is not None]
    last = waits[-1] if waits else None
    return last if last is not None and last.status in RECOVERY_UNPROVEN else None


def run_verdict(diagnosed: str, outcomes: Iterable[StepOutcome]) -> str:
    """The diagnosis' verdict, `incomplete` when it says healthy but no wait could prove the recovery."""
    return "incomplete" if diagnosed == "healthy" and recovery_unconfirmed(outcomes) else diagnosed


@dataclass(frozen=True)
class TimelineEvent:
    """One line of the incident timeline."""

    at: datetime
    kind: str
    text: str


@dataclass
class FixResult:
    """The end of `FixSession.run`: outcomes, the final diagnosis and the exit code."""

    initial: Diagnosis
    final: Diagnosis
    outcomes: list[StepOutcome]
    escalations: tuple[Step, ...]
    deleted_cluster: bool
    stopped: str = ""
    unconfirmed: Step | None = None

    @property
    def recovery(self) -> StepOutcome | None:
        """The wait that could not prove the recovery (unconfirmed, or the cluster is Stopped)."""
        return recovery_unconfirmed(self.outcomes)

    @property
    def verdict(self) -> str:
        """The final diagnosis' verdict, `incomplete` when it says healthy on ARM's word alone."""
        return run_verdict(self.final.verdict, self.outcomes)

    @property
    def exit_code(self) -> int:
        """As `diagnose`: 0 healthy, 1 critical findings, 3 incomplete (also: the recovery could not
        be confirmed, or the cluster is Stopped); a deleted failed cluster is 0."""
        if self.deleted_cluster:
            return 0
        return exit_code_of(self.verdict)
