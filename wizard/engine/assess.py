"""What the answers so far mean: every check's state, the findings, and the verdict they add up to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from wizard.domain.catalog import load_catalog
from wizard.domain.models import CheckResult, CheckStatus, Finding, Severity
from wizard.engine.checks import CHECKS, CheckContext
from wizard.engine.facts import Facts
from wizard.engine.findings import check_result, findings_of
from wizard.engine.reads import Known
from wizard.engine.remedies import refine
from wizard.engine.tree import Read, load_tree


@dataclass(frozen=True)
class Assessment:
    """Every check's state and every finding, for one moment of a diagnosis."""

    checks: tuple[CheckResult, ...]
    findings: tuple[Finding, ...]

    @property
    def complete(self) -> bool:
        """No check is still waiting for Azure."""
        return all(c.status.done for c in self.checks)


RESOURCE_HEALTH_CHECK = "cluster.health"
"""The check that reads Azure Resource Health: down there, with no cause found, is undecided."""


def assess(
    cluster_id: str, known: Known, in_flight: set[Read] | None = None, now: datetime | None = None
) -> Assessment:
    """Every check's state and the findings, most fundamental first."""
    facts = Facts.from_known(cluster_id, known)
    ctx = CheckContext(facts, in_flight or set(), now or datetime.now(UTC))
    template_values = facts.template_values()
    tree = load_tree()
    verdicts = {spec.id: CHECKS[spec.id](ctx) for spec in tree if not CHECKS[spec.id].after_causes}
    found = {spec_id: findings_of(spec_id, v, template_values) for spec_id, v in verdicts.items()}
    causes = critical_causes(tuple(f for fs in found.values() for f in fs))
    with_causes = replace(ctx, causes=frozenset(causes))
    for spec in tree:
        if CHECKS[spec.id].after_causes:
            verdicts[spec.id] = CHECKS[spec.id](with_causes)
            found[spec.id] = findings_of(spec.id, verdicts[spec.id], template_values)
    checks = [check_result(spec.id, verdicts[spec.id], known) for spec in tree]
    findings = refine([f for spec in tree for f in found[spec.id]], facts, {c.id: c for c in checks})
    findings.sort(key=lambda f: (f.rank, f.code))
    return Assessment(tuple(checks), tuple(findings))


def critical_causes(findings: tuple[Finding, ...]) -> set[str]:
    """The critical findings that are causes, not the Inaccessible symptom."""
    catalog = load_catalog()
    return {
        f.code for f in findings if f.severity == Severity.CRITICAL and not catalog.finding(f.code).symptom
    }


def critical_checks() -> frozenset[str]:
    """The checks a healthy verdict needs answered."""
    return frozenset(spec.id for spec in load_tree() if spec.critical)


def unseen_critical(assessment: Assessment) -> tuple[CheckResult, ...]:
    """The critical checks the operator could not look at (unknown): a cause there stays hidden."""
    critical = critical_checks()
    return tuple(c for c in assessment.checks if c.id in critical and c.status == CheckStatus.UNKNOWN)


def verdict_of(assessment: Assessment) -> str:
    """healthy, unhealthy (a critical finding) or incomplete (a question left open, or Resource Health
    reporting the cluster down while no cause was found)."""
    if any(f.severity == Severity.CRITICAL for f in assessment.findings):
        return "unhealthy"
    critical = critical_checks()
    if any(
        c.status in (CheckStatus.UNKNOWN, CheckStatus.PENDING, CheckStatus.RUNNING)
        for c in assessment.checks
        if c.id in critical
    ):
        return "incomplete"
    health = next((c for c in assessment.checks if c.id == RESOURCE_HEALTH_CHECK), None)
    if health is not None and health.status == CheckStatus.FAIL:
        # Resource Health reports the cluster down and no cause was found: not healthy, not decided.
        return "incomplete"
    return "healthy"
