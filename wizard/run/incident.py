"""The Markdown incident report, and OSC 52 clipboard support (tmux-aware) for the UI."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from wizard.domain.catalog import load_catalog
from wizard.domain.forensics import WhatChanged
from wizard.domain.results import OutcomeStatus, StepKind
from wizard.engine.assess import critical_causes
from wizard.run.audit import redact
from wizard.run.diagnose import Diagnosis, check_titles
from wizard.run.fix import FixSession
from wizard.run.forensics import timeline_markdown
from wizard.run.outcomes import StepOutcome, changed_fields
from wizard.run.outputs import write_whole

OSC52_LIMIT = 100_000


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(value: Any) -> str:
    text = " ".join(str(value if value is not None else "-").split())
    return text.replace("|", "\\|")


def _state(values: Mapping[str, Any]) -> str:
    if not values:
        return "-"
    return ", ".join(f"{k}={_cell(v)}" for k, v in values.items())


def _findings(lines: list[str], diagnosis: Diagnosis) -> None:
    catalog = load_catalog()
    if not diagnosis.findings:
        lines.append("No findings.")
        return
    for f in diagnosis.findings:
        entry = catalog.finding(f.code)
        lines.append(f"### {f.code} ({f.severity.value}): {entry.title}")
        lines.append("")
        lines.append(f.summary)
        lines.append("")
        lines.append("Remediations that apply here: " + (", ".join(f.remediations) or "none"))
        lines.append("")
        if f.evidence:
            lines.append("Evidence:")
            lines.append("")
            for key, value in f.evidence.items():
                lines.append(f"- `{key}`: {_cell(value)}")
            lines.append("")
        passage = catalog.passage_for(f.code)
        if passage:
            lines.append(f"> {passage}")
            lines.append("")


def _checks(lines: list[str], diagnosis: Diagnosis) -> None:
    titles = check_titles()
    lines += ["| check | question | status | detail |", "|---|---|---|---|"]
    for c in diagnosis.assessment.checks:
        lines.append(f"| `{c.id}` | {_cell(titles.get(c.id, ''))} | {c.status.value} | {_cell(c.detail)} |")


def _health(diagnosis: Diagnosis) -> str:
    """Resource Health's answer in one phrase: its state and since when, or why it is missing."""
    health = diagnosis.facts.resource_health
    if health is None:
        return "could not be read"
    since = f" since {_t(health.occurred_time)}" if health.occurred_time else ""
    return f"{health.availability_state}{since}"


def _rank(code: str) -> int:
    return load_catalog().finding(code).rank


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Only what a step changed, as `name: before -> after` (the caller shows the whole state when
    nothing differs)."""
    return [
        f"`{k}`: {_cell('-' if old is None else old)} -> {_cell('-' if new is None else new)}"
        for k, old, new in changed_fields(before, after)
    ]


def _step_rows(lines: list[str], outcomes: list[StepOutcome]) -> None:
    """One short block per step, narrow enough to read in an 80-column terminal."""
    if not outcomes:
        lines.append("No step was applied.")
        return
    for n, o in enumerate(outcomes, 1):
        verified = f"{o.verification.status}: {o.verification.detail}" if o.verification else "-"
        lines += [f"{n}. **{o.step.remediation}** for {o.step.finding}: {o.status}, {_cell(o.message)}"]
        changes = _changes(o.before, o.after) or [f"state: {_state(o.before)}"]
        lines += [f"   - {change}" for change in changes]
        lines += [
            f"   - verification: {_cell(verified)}",
            f"   - audit records: {', '.join(o.audit_ids) or '-'}",
        ]


def incident_markdown(
    session: FixSession, *, title: str | None = None, what_changed: WhatChanged | None = None
) -> str:
    """The incident report of a fix session: summary, what changed before it (the Activity Log,
    when read), timeline, findings, checks, steps, verdict."""
    initial, final = session.initial, session.current
    if initial is None or final is None:
        raise ValueError("the session has not diagnosed anything yet")
    cluster = initial.cluster
    name = cluster.name if cluster else session.cluster_id.rsplit("/", 1)[-1]
    try:
        operator = session.gateway.operator()
        who = f"{operator.account or '-'} (tenant {operator.tenant_id or '-'}, {operator.mode})"
    except Exception:
        who = "-"
    changed = [o for o in session.outcomes if o.step.kind == StepKind.WRITE and o.status == OutcomeStatus.OK]
    verdict = session.verdict + (" (the failed cluster was deleted)" if session.deleted_cluster else "")
    lines = [
        f"# {title or f'CMK incident: cluster {name}'}",
        "",
        "## Summary",
        "",
        f"- Cluster: `{session.cluster_id}`",
        f"- Operator: {who}",
        f"- Started: {_t(initial.started_at)}",
        f"- Status at start: {cluster.cluster_status if cluster else 'unknown'}; verdict {initial.verdict}",
        f"- Resource Health at start: {_health(initial)}",
        f"- Causes found: {', '.join(sorted(critical_causes(initial.findings), key=_rank)) or 'none'}",
        f"- Changes made: {len(changed)} ({', '.join(o.step.remediation for o in changed) or 'none'})",
        f"- Final verdict: **{verdict}**",
        "",
    ]
    if what_changed is not None:
        lines += timeline_markdown(what_changed)
    lines += ["## Timeline", ""]
    for event in session.timeline:
        lines.append(f"- {_t(event.at)} [{event.kind}] {event.text}")
    lines += ["", "## Findings at the start", ""]
    _findings(lines, initial)
    lines += ["## Checks at the start", ""]
    _checks(lines, initial)
    lines += ["", "## Steps taken", ""]
    _step_rows(lines, session.outcomes)
    escalations = [o for o in session.outcomes if o.status == OutcomeStatus.ESCALATE]
    plan_escalations = session.plan().escalations if final.cluster or not session.deleted_cluster else ()
    if escalations or plan_escalations:
        lines += ["", "## Escalations", ""]
        for step in [o.step for o in escalations] + list(plan_escalations):
            lines.append(f"- **{step.finding}**: {step.explanation}")
    lines += ["", "## Final state", ""]
    if session.deleted_cluster:
        lines.append(
            "The failed cluster entity was deleted. Provision the cluster again with the "
            "checked identity, vault and key."
        )
    else:
        fc = final.cluster
        lines.append(
            f"Cluster status {fc.cluster_status if fc else 'unknown'}, verdict **{session.verdict}**."
        )
        lines.append("")
        if session.recovery is not None:
            lines += [
                f"Recovery not confirmed: {session.recovery.message}.",
                f"What to do: {session.recovery.advice}.",
            ]
            lines.append("")
        if final.findings:
            lines.append(
                "Remaining findings: " + ", ".join(f"{f.code} ({f.severity.value})" for f in final.findings)
            )
            lines.append("")
        _checks(lines, final)
    lines += [
        "",
        "## Audit",
        "",
        f"- Audit log: `{session.audit.path}`",
        f"- Records written by this session: {', '.join(session.audit.written) or 'none'}",
        "",
    ]
    text = "\n".join(lines)
    return str(redact(text, session.audit.secrets))


def save_report(markdown: str, path: str | Path) -> Path:
    """Write the report whole or not at all, owner-only (0600, like the audit log), never over a
    symlink, FIFO or device; return where it went."""
    return write_whole(markdown, path)


def osc52(text: str, *, env: Mapping[str, str] | None = None) -> str:
    """The OSC 52 'set clipboard' sequence for `text`, wrapped for tmux passthrough in tmux.

    Terminals cap the payload; above OSC52_LIMIT bytes return "" and use the saved file instead.
    """
    env = os.environ if env is None else env
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    if len(payload) > OSC52_LIMIT:
        return ""
    sequence = f"\x1b]52;c;{payload}\x07"
    if env.get("TMUX"):
        return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence
