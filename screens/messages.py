"""Messages that thread workers post; handlers on screens and the app own every state change."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from wizard.diagnosis import Diagnosis
from wizard.domain.models import ClusterSummary
from wizard.engine.engine import Assessment
from wizard.ports import Operator


@dataclass
class OperatorKnown(Message):
    """The backend connected and said who we are signed in as."""

    operator: Operator


@dataclass
class ClustersLoaded(Message):
    """The CMK clusters the operator can see."""

    clusters: list[ClusterSummary]


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
    """The run could not even start (no sign-in, no network): the verdict is 'could not decide'."""

    headline: str
