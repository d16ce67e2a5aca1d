"""Messages that thread workers post; handlers on screens and the app own every state change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # field types only: the first frame needs no fleet, assessment or diagnosis code
    from wizard.domain.fleet import FleetReport
    from wizard.domain.ports import Operator
    from wizard.engine.assess import Assessment
    from wizard.engine.steps import Plan
    from wizard.run.diagnose import Diagnosis
    from wizard.run.fix import FixSession
    from wizard.run.outcomes import StepOutcome
    from wizard.run.wait import WaitProgress


@dataclass
class OperatorKnown(Message):
    """The backend connected and said who we are signed in as."""

    operator: Operator


@dataclass
class FleetUpdated(Message):
    """A newer picture of the fleet scan (clusters listed, tables read, keys read so far)."""

    report: FleetReport
    generation: int

    def can_replace(self, message: Message) -> bool:
        """Only the newest picture of one scan matters, so older queued ones are dropped."""
        return isinstance(message, FleetUpdated) and message.generation == self.generation


@dataclass
class DiagnosisProgress(Message):
    """A read started or finished: the checklist may change."""

    assessment: Assessment
    generation: int

    def can_replace(self, message: Message) -> bool:
        """Only the newest snapshot of one run matters, so older queued ones are dropped."""
        return isinstance(message, DiagnosisProgress) and message.generation == self.generation


@dataclass
class DiagnosisFinished(Message):
    """Every check has answered (or the run was cancelled)."""

    diagnosis: Diagnosis
    generation: int


@dataclass
class ScenarioSwitched(Message):
    """The embedded emulator now serves another scenario."""

    scenario: str
    default_cluster_id: str | None


@dataclass
class DiagnosisFailed(Message):
    """The run could not even start (no sign-in, no network: 'could not decide', exit 3; bad input,
    such as a pasted ID that is not one: exit 2)."""

    headline: str
    exit_code: int = 3


@dataclass
class VerdictChanged(Message):
    """A fix diagnosed the cluster again (or deleted it): quitting now exits with this code."""

    exit_code: int


@dataclass
class FixOpened(Message):
    """A fix session diagnosed the cluster again and planned: the first preview can show."""

    session: FixSession
    plan: Plan


@dataclass
class StepApplied(Message):
    """One step was applied (or declined, refused, failed), verified and the plan made afresh."""

    outcome: StepOutcome
    outcomes: tuple[StepOutcome, ...]
    plan: Plan


@dataclass
class WaitProgressed(Message):
    """One poll of wait-for-ready."""

    progress: WaitProgress

    def can_replace(self, message: Message) -> bool:
        """Only the latest poll matters."""
        return isinstance(message, WaitProgressed)


@dataclass
class WaitFinished(Message):
    """Waiting for Ready ended: Ready, timed out, cancelled or could not poll."""

    outcome: StepOutcome
    outcomes: tuple[StepOutcome, ...]
    plan: Plan


@dataclass
class ReportReady(Message):
    """The incident report was written (path None when saving failed, with the reason)."""

    markdown: str
    path: Path | None
    save_error: str = ""
    open_here: bool = False
    """The app opens it (no fix screen is there to)."""
