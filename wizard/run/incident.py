"""The Markdown incident report, and OSC 52 clipboard support (tmux-aware) for the UI."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from wizard.domain.actions import DeleteFailedCluster
from wizard.domain.catalog import load_catalog, render
from wizard.domain.forensics import WhatChanged
from wizard.domain.ports import AzureReader
from wizard.domain.results import OutcomeStatus, StepKind
from wizard.engine.fix_plan import plan_fixes
from wizard.run.audit import redact
from wizard.run.diagnose import Diagnosis, check_titles
from wizard.run.fix import FixSession
from wizard.run.forensics import timeline_markdown
from wizard.run.incidents import Incident
from wizard.run.outcomes import StepOutcome, changed_fields
from wizard.run.outputs import write_whole

OSC52_LIMIT = 100_000


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def plain(value: Any) -> str:
    """A value as a person reads it: lists joined, mappings as `name: value`, nothing as `-`;
    never a Python repr (`['203.0.113.0/24']`)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        if not value:
            return "none"
        return "; ".join(f"{k}: {plain(v)}" if v not in (None, "", {}) else str(k) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return ", ".join(items) if items else "none"
    return str(value)


def _cell(value: Any) -> str:
    text = " ".join(plain(value).split())
    return text.replace("|", "\\|")


def _state(values: Mapping[str, Any]) -> str:
    if not values:
        return "-"
    return ", ".join(f"{k}={_cell(v)}" for k, v in values.items())


def _findings(lines: list[str], diagnosis: Diagnosis) -> None:
    catalog = load_catalog()
    if not diagnosis.findings:
        lines.append("No findings.")
        lines.append("")
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


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _name(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def old_identity_line(outcome: StepOutcome) -> str:
    """After the cluster moved to another key identity: what became of the old one's reference on
    the cluster, as read back (still attached, or gone); "" for any other step."""
    old, new = outcome.before.get("keyIdentity"), outcome.after.get("keyIdentity")
    if not old or not new or str(old).lower() == str(new).lower():
        return ""
    attached = outcome.after.get("identities")
    if not isinstance(attached, Mapping):
        return f"the old identity {_name(str(old))} is no longer the cluster's key identity"
    still = any(str(k).lower() == str(old).lower() for k in attached)
    if still:
        return (
            f"the old identity {_name(str(old))} is no longer the key identity but is still attached "
            "to the cluster (identity.userAssignedIdentities), as Azure keeps it; detach it once "
            "nothing else on the cluster uses it"
        )
    return f"the old identity {_name(str(old))} is no longer attached to the cluster"


def _step_rows(lines: list[str], outcomes: list[StepOutcome], start: int = 1) -> None:
    """One short block per step, narrow enough to read in an 80-column terminal."""
    for n, o in enumerate(outcomes, start):
        verified = f"{o.verification.status}: {o.verification.detail}" if o.verification else "-"
        lines += [f"{n}. **{o.step.remediation}** for {o.step.finding}: {o.status}, {_cell(o.message)}"]
        changes = _changes(o.before, o.after) or [f"state: {_state(o.before)}"]
        lines += [f"   - {change}" for change in changes]
        identity = old_identity_line(o)
        if identity:
            lines.append(f"   - old identity: {identity}")
        lines += [
            f"   - verification: {_cell(verified)}",
            f"   - audit records: {', '.join(o.audit_ids) or '-'}",
        ]


def _operator(reader: AzureReader | None) -> str:
    if reader is None:
        return "-"
    try:
        operator = reader.operator()
    except Exception:
        return "-"
    return f"{operator.account or '-'} (tenant {operator.tenant_id or '-'}, {operator.mode})"


def after_deletion(incident: Incident) -> tuple[str, str]:
    """The next step once the failed cluster is deleted, and its `az` command (from the catalogue),
    filled in with the identity, vault and key the incident checked."""
    spec = load_catalog().remediations[DeleteFailedCluster.remediation]
    first = next((s.diagnosis.cluster for s in incident.seen if s.diagnosis.cluster), None)
    identity = first.key_identity_id if first else None
    values = {
        "cluster_id": incident.cluster_id,
        "cluster_name": _name(incident.cluster_id),
        "location": first.location if first else None,
        "identity_id": identity,
        "identity_name": _name(identity) if identity else None,
        "key_url": first.key_url if first else None,
    }
    return render(spec.afterwards, values), render(spec.afterwards_az, values)


def _diagnoses(lines: list[str], incident: Incident) -> None:
    lines += ["## Diagnoses", "", "| started | where | verdict | findings |", "|---|---|---|---|"]
    for seen in list(incident.seen):
        d = seen.diagnosis
        found = ", ".join(f.code for f in d.findings) or "none"
        lines.append(f"| {_t(d.started_at)} | {seen.source} | {d.verdict} | {found} |")
    lines.append("")


def _steps(lines: list[str], incident: Incident) -> None:
    lines += ["## Steps taken", ""]
    passes = list(incident.passes)
    if not passes:
        lines += ["No fix was attempted: this report is the diagnosis, to hand over.", ""]
        current = incident.current
        plan = plan_fixes(current) if current is not None else None
        if plan is not None and plan.steps:
            lines += ["## What would fix it", ""]
            lines.append("The steps `fix --all` (or x in the wizard) would take, in order:")
            lines.append("")
            for n, step in enumerate(plan.steps, 1):
                lines.append(f"{n}. **{step.remediation}** for {step.finding}: {step.title}")
                if step.kind in (StepKind.WRITE, StepKind.WAIT):
                    lines += [
                        f"   - change: {_cell(step.change)}",
                        f"   - REST: `{step.rest}`",
                        f"   - az: `{step.az}`",
                        f"   - permission: {_cell(step.permission or 'reads only')}",
                    ]
                else:
                    lines.append(f"   - {_cell(step.explanation or step.summary)}")
            lines.append("")
        return
    number = 1
    for n, session in enumerate(passes, 1):
        outcomes = list(session.outcomes)
        lines += [f"### Pass {n} (incident {incident.id})", ""]
        if not outcomes:
            lines += ["No step was applied.", ""]
            continue
        _step_rows(lines, outcomes, number)
        number += len(outcomes)
        lines.append("")


def incident_markdown(
    source: Incident | FixSession,
    *,
    title: str | None = None,
    what_changed: WhatChanged | None = None,
    reader: AzureReader | None = None,
) -> str:
    """The report of a whole incident (every diagnosis, every pass' steps, the final verdict), or of
    the incident a fix session belongs to; `reader` tells who asked when no pass did."""
    incident = source if isinstance(source, Incident) else source.incident
    initial, final = incident.initial, incident.current
    if initial is None or final is None:
        raise ValueError("the incident has no diagnosis yet")
    passes = list(incident.passes)
    cluster = initial.cluster
    name = cluster.name if cluster else _name(incident.cluster_id)
    who = _operator(passes[-1].gateway if passes else reader)
    outcomes = [o for _, o in incident.outcomes()]
    changed = [o for o in outcomes if o.step.kind == StepKind.WRITE and o.status == OutcomeStatus.OK]
    deleted = incident.deleted_cluster
    verdict = "done: the failed cluster was deleted (exit 0)" if deleted else incident.verdict
    causes = sorted(incident.causes(), key=_rank)
    seen_count = _count(len(incident.seen), "diagnosis", "diagnoses")
    pass_count = _count(len(passes), "fix pass", "fix passes")
    lines = [
        f"# {title or f'CMK incident: cluster {name}'}",
        "",
        "## Summary",
        "",
        f"- Cluster: `{incident.cluster_id}`",
        f"- Incident: `{incident.id}` ({seen_count}, {pass_count})",
        f"- Operator: {who}",
        f"- Started: {_t(initial.started_at)}",
        f"- Status at start: {cluster.cluster_status if cluster else 'unknown'}; verdict {initial.verdict}",
        f"- Resource Health at start: {_health(initial)}",
        f"- Causes found: {', '.join(causes) or 'none'}",
        f"- Changes made: {len(changed)} ({', '.join(o.step.remediation for o in changed) or 'none'})",
        f"- Final verdict: **{verdict}**",
        "",
    ]
    if what_changed is not None:
        lines += timeline_markdown(what_changed)
    lines += ["## Timeline", ""]
    for event in incident.timeline():
        lines.append(f"- {_t(event.at)} [{event.kind}] {event.text}")
    lines.append("")
    _diagnoses(lines, incident)
    lines += ["## Findings at the start", ""]
    _findings(lines, initial)
    lines += ["## Checks at the start", ""]
    _checks(lines, initial)
    lines.append("")
    _steps(lines, incident)
    escalations = [o.step for o in outcomes if o.status == OutcomeStatus.ESCALATE]
    plan_escalations = plan_fixes(final).escalations if final.cluster and not deleted else ()
    shown = list({s.finding: s for s in [*plan_escalations, *escalations]}.values())
    if shown:
        lines += ["## Escalations", ""]
        for step in shown:
            lines.append(f"- **{step.finding}**: {step.explanation}")
        lines.append("")
    lines += ["## Final state", ""]
    if deleted:
        text, az = after_deletion(incident)
        lines += [text, "", "Next step:", "", "```sh", az, "```"]
    else:
        fc = final.cluster
        lines.append(
            f"Cluster status {fc.cluster_status if fc else 'unknown'}, verdict **{incident.verdict}**."
        )
        lines.append("")
        recovery = incident.recovery
        if recovery is not None:
            lines += [
                f"Recovery not confirmed: {recovery.message}.",
                f"What to do: {recovery.advice}.",
            ]
            lines.append("")
        if final.findings:
            lines.append(
                "Remaining findings: " + ", ".join(f"{f.code} ({f.severity.value})" for f in final.findings)
            )
            lines.append("")
        _checks(lines, final)
    audits = {str(p.audit.path) for p in passes}
    records = incident.audit_ids()
    lines += [
        "",
        "## Audit",
        "",
        f"- Audit log: {', '.join(f'`{a}`' for a in sorted(audits)) or 'none (no fix pass)'}",
        f"- Incident id in its records: `{incident.id}`",
        f"- Records written by this incident: {', '.join(records) or 'none'}",
        "",
    ]
    text = "\n".join(lines)
    secrets = [secret for p in passes for secret in p.audit.secrets]
    return str(redact(text, secrets))


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
