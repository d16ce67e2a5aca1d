"""What a fix session records: each step's outcome, the incident timeline, the end result."""

from __future__ import annotations

from collections.abc import Mapping
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
    def exit_code(self) -> int:
        """As `diagnose`: 0 healthy, 1 critical findings, 3 incomplete; a deleted failed cluster is 0."""
        if self.deleted_cluster:
            return 0
        return exit_code_of(self.final.verdict)
