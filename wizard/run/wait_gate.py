"""The one rule every wait follows (the Fix screen, `fix` and `watch`): never wait for Ready while a
cause is still there.

The service revalidates a key it can use; while a critical cause is present (not fixed yet,
skipped, or its fix failed) or a critical question is unknown, polling for up to an hour learns
nothing. Before a wait and at each recheck during it, the latest diagnosis is asked; any blocker
names what to go back to, and the wait does not start (or stops).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from wizard.domain.catalog import load_catalog
from wizard.domain.models import CheckStatus, Severity
from wizard.domain.results import OutcomeStatus, StepKind
from wizard.engine.tree import load_tree
from wizard.run.diagnose import Diagnosis
from wizard.run.outcomes import StepOutcome

GO_BACK = "fix what it names first, then wait: the service revalidates only a key it can use"
"""The advice of a wait that did not start, or stopped, because a cause is there."""
FAILED = (OutcomeStatus.ERROR, OutcomeStatus.REFUSED, OutcomeStatus.UNKNOWN, OutcomeStatus.DECLINED)
"""A write that ended like this did not fix its cause (or may not have)."""


@dataclass(frozen=True)
class Blocker:
    """What stands between the cluster and Ready: a cause (`present`, `skipped`, `failed`) or a
    critical check no one could answer (`unknown`), and what to do about it."""

    name: str
    state: str
    todo: str

    def text(self) -> str:
        """`KEY_EXPIRED (skipped: u takes the skip back)`."""
        return f"{self.name} ({self.state}: {self.todo})"


def _steps_for(code: str, outcomes: Iterable[StepOutcome]) -> list[StepOutcome]:
    return [
        o for o in outcomes if o.step.kind == StepKind.WRITE and code in (o.step.finding, *o.step.also_fixes)
    ]


def blockers(
    diagnosis: Diagnosis | None, outcomes: Iterable[StepOutcome] = (), skipped: Collection[str] = ()
) -> tuple[Blocker, ...]:
    """Every reason not to wait now, most fundamental cause first; () when waiting can help."""
    if diagnosis is None:
        return (Blocker("the cluster", "unknown", "diagnose it first"),)
    catalog = load_catalog()
    done = list(outcomes)
    found: list[Blocker] = []
    for finding in diagnosis.findings:
        if finding.severity != Severity.CRITICAL or catalog.finding(finding.code).symptom:
            continue
        tried = _steps_for(finding.code, done)
        if any(o.step.key in skipped for o in tried if o.status == OutcomeStatus.SKIPPED):
            found.append(Blocker(finding.code, "skipped", "take the skip back and apply it"))
        elif tried and tried[-1].status in FAILED:
            found.append(Blocker(finding.code, "failed", f"its fix ended {tried[-1].status}: try it again"))
        elif not finding.remediations or finding.remediations == ("wait-for-ready",):
            found.append(Blocker(finding.code, "present", "no fix here: see its explanation"))
        else:
            found.append(Blocker(finding.code, "present", "apply its fix first"))
    critical = {spec.id for spec in load_tree() if spec.critical}
    for check in diagnosis.assessment.checks:
        if check.id in critical and check.status == CheckStatus.UNKNOWN:
            needs = f"needs {check.needs}" if check.needs else (check.detail or "no answer")
            found.append(Blocker(check.id, "unknown", needs))
    return tuple(found)


def blocked_text(found: Iterable[Blocker]) -> str:
    """The one line every front end shows instead of waiting."""
    return "no wait for Ready: the cluster cannot use its key while these are there: " + "; ".join(
        b.text() for b in found
    )
