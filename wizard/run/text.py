"""Plain-text and Markdown renderings of a diagnosis, for terminals, pipes and incident reports."""

from __future__ import annotations

from wizard.domain.catalog import load_catalog
from wizard.domain.models import CheckStatus
from wizard.run.diagnose import Diagnosis, check_titles

STATUS_MARK = {
    CheckStatus.PASS: "ok  ",
    CheckStatus.FAIL: "FAIL",
    CheckStatus.UNKNOWN: "??  ",
    CheckStatus.SKIPPED: "--  ",
    CheckStatus.PENDING: "..  ",
    CheckStatus.RUNNING: "..  ",
}


def diagnosis_text(result: Diagnosis, *, verdict: str | None = None) -> str:
    """A readable summary: verdict, findings most fundamental first, then every check. `verdict`
    overrides the diagnosis' own (a fix whose recovery nothing could confirm is incomplete)."""
    catalog = load_catalog()
    cluster = result.cluster
    name = cluster.name if cluster else result.cluster_id.rsplit("/", 1)[-1]
    state = f" ({cluster.cluster_status}, provisioning {cluster.provisioning_state})" if cluster else ""
    lines = [f"cluster  {name}{state}", f"verdict  {verdict or result.verdict}", ""]
    if result.findings:
        lines.append("findings, most fundamental first:")
        for finding in result.findings:
            entry = catalog.finding(finding.code)
            lines.append(f"  [{finding.severity.value}] {finding.code}: {entry.title}")
            lines.append(f"      {finding.summary}")
            if finding.remediations:
                lines.append(f"      fix: {' -> '.join(finding.remediations)}")
        lines.append("")
    else:
        lines += ["no findings", ""]
    titles = check_titles()
    lines.append("checks:")
    for check in result.assessment.checks:
        lines.append(f"  {STATUS_MARK[check.status]} {check.id:<19} {titles[check.id]}: {check.detail}")
        if check.needs:
            lines.append(f"       needs: {check.needs}")
    lines.append("")
    lines.append(
        f"{len(result.known)} reads in {result.duration_ms} ms (critical path {result.depth} round trips)"
    )
    return "\n".join(lines)
