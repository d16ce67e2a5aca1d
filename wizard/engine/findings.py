"""From a check's verdict to what the diagnosis shows: its result, and its findings from the catalogue."""

from __future__ import annotations

from typing import Any

from wizard.domain.catalog import load_catalog, render
from wizard.domain.models import CheckResult, Finding
from wizard.engine.checks import Verdict
from wizard.engine.reads import Known


def check_result(check_id: str, verdict: Verdict, known: Known) -> CheckResult:
    """The verdict as a result, timed by the slowest read it rests on."""
    durations = [known[r].duration_ms for r in verdict.reads if r in known]
    return CheckResult(
        id=check_id,
        status=verdict.status,
        detail=verdict.detail,
        evidence=verdict.evidence,
        duration_ms=max(durations) if durations else None,
        sources=tuple(str(r) for r in verdict.reads),
        needs=verdict.needs,
    )


def findings_of(check_id: str, verdict: Verdict, template_values: dict[str, Any]) -> list[Finding]:
    """The verdict's finding codes as catalogue findings, their summaries rendered."""
    catalog = load_catalog()
    findings = []
    for code, values in verdict.findings:
        entry = catalog.finding(code)
        findings.append(
            Finding(
                code=code,
                severity=entry.severity,
                summary=render(entry.summary, template_values | values),
                check_id=check_id,
                evidence=verdict.evidence,
                remediations=entry.remediations,
                rank=entry.rank,
            )
        )
    return findings
