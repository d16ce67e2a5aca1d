"""One incident: every diagnosis and every fix pass of one cluster, tied together by an incident id.

The wizard keeps one per cluster for as long as it runs (the checklist's diagnoses, then each
time `x` opens a fix); `fix` and `diagnose --report` make one per run. The report covers the whole
incident; every audit record a pass writes carries the incident's id and the pass number, and each
write's `before` record the diagnosis it was planned from (`planned_from`), so the log ties them too.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wizard.domain.times import iso
from wizard.engine.assess import critical_causes
from wizard.run.diagnose import Diagnosis
from wizard.run.outcomes import StepOutcome, TimelineEvent, exit_code_of, recovery_unconfirmed, run_verdict

if TYPE_CHECKING:
    from wizard.run.fix import FixSession


def planned_from(diagnosis: Diagnosis) -> dict[str, Any]:
    """A diagnosis in an audit record: when it started, its verdict and its findings."""
    return {
        "startedAt": iso(diagnosis.started_at, "milliseconds"),
        "verdict": diagnosis.verdict,
        "findings": [f.code for f in diagnosis.findings],
    }


def new_incident_id() -> str:
    """`inc-` and 12 hex digits: short enough to read out on a bridge call."""
    return f"inc-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Seen:
    """One diagnosis of the incident and where it ran (`checklist`, `diagnose`, `fix pass 2`)."""

    diagnosis: Diagnosis
    source: str


class Incident:
    """What happened to one cluster: the diagnoses in the order they finished, and the fix passes.

    Thread use: diagnoses arrive from the UI thread and from fix workers; a lock keeps the lists whole.
    """

    def __init__(self, cluster_id: str, *, incident_id: str | None = None) -> None:
        self.cluster_id = cluster_id
        self.id = incident_id or new_incident_id()
        self.seen: list[Seen] = []
        self.passes: list[FixSession] = []
        self.events: list[TimelineEvent] = []
        self._lock = threading.Lock()

    def saw(self, diagnosis: Diagnosis, source: str) -> None:
        """A diagnosis finished; the checklist's get a timeline line here (a pass has its own)."""
        with self._lock:
            if any(s.diagnosis is diagnosis for s in self.seen):
                return
            self.seen.append(Seen(diagnosis, source))
            if not source.startswith("fix pass"):
                findings = ", ".join(f.code for f in diagnosis.findings) or "none"
                self.events.append(
                    TimelineEvent(
                        datetime.now(UTC),
                        "diagnosis",
                        f"{source}: verdict {diagnosis.verdict}, findings {findings}",
                    )
                )

    def open_pass(self, session: FixSession) -> int:
        """A fix pass starts; its number (1 for the first)."""
        with self._lock:
            self.passes.append(session)
            number = len(self.passes)
            self.events.append(TimelineEvent(datetime.now(UTC), "fix", f"fix pass {number} opened"))
            return number

    @property
    def initial(self) -> Diagnosis | None:
        """The incident's first diagnosis: its starting point."""
        return self.seen[0].diagnosis if self.seen else None

    @property
    def current(self) -> Diagnosis | None:
        """The latest diagnosis, from wherever it ran."""
        return self.seen[-1].diagnosis if self.seen else None

    @property
    def deleted_cluster(self) -> bool:
        """A pass deleted the failed cluster: the documented end of a failed provisioning."""
        return any(p.deleted_cluster for p in self.passes)

    @property
    def verdict(self) -> str:
        """The latest verdict: `deleted` after the failed cluster was deleted, else the latest
        diagnosis' (`incomplete` when it says healthy but no wait could prove the recovery)."""
        if self.deleted_cluster:
            return "deleted"
        if self.current is None:
            return "incomplete"
        return run_verdict(self.current.verdict, [o for _, o in self.outcomes()])

    @property
    def recovery(self) -> StepOutcome | None:
        """The last wait of the incident, when it could not prove the recovery."""
        return recovery_unconfirmed([o for _, o in self.outcomes()])

    @property
    def exit_code(self) -> int:
        """0 healthy or the failed cluster deleted (the documented end), 1 critical, 3 undecided."""
        return 0 if self.deleted_cluster else exit_code_of(self.verdict)

    def causes(self) -> list[str]:
        """Every critical cause any diagnosis of the incident named, first seen first."""
        found: dict[str, None] = {}
        for s in list(self.seen):
            found.update(dict.fromkeys(critical_causes(s.diagnosis.findings)))
        return list(found)

    def outcomes(self) -> list[tuple[int, StepOutcome]]:
        """Every step of every pass, with its pass number, in order."""
        return [(n, o) for n, p in enumerate(list(self.passes), 1) for o in p.outcomes]

    def timeline(self) -> list[TimelineEvent]:
        """The checklist's diagnoses and every pass' events, in time order."""
        merged = [*self.events, *(e for p in list(self.passes) for e in p.timeline)]
        return sorted(merged, key=lambda e: e.at)

    def audit_ids(self) -> list[str]:
        """The audit records the incident's passes wrote."""
        return [rid for p in list(self.passes) for rid in p.audit.written]
