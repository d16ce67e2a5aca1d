"""A fleet report as a table for people, JSON for pipelines (`cmk-wizard/fleet-scan/v1`) or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from wizard.domain.fleet import BlastGroup, ClusterState, ClusterVerdict, FleetReport, GroupKind
from wizard.domain.times import iso

SCHEMA = "cmk-wizard/fleet-scan/v1"
STATE_WORDS = {
    ClusterState.CRITICAL: "critical",
    ClusterState.UNSETTLED: "diagnose",
    ClusterState.INCOMPLETE: "unknown",
    ClusterState.WARNING: "warning",
    ClusterState.PENDING: "pending",
    ClusterState.HEALTHY: "healthy",
    ClusterState.NOT_CMK: "no CMK",
}
"""How the table names each state (`diagnose`: only a full diagnosis can settle it)."""
CSV_COLUMNS = (
    "id",
    "name",
    "subscription",
    "resourceGroup",
    "clusterStatus",
    "state",
    "key",
    "keyExpires",
    "causes",
    "openQuestions",
)


def days_until(moment: datetime | None, now: datetime) -> int | None:
    """Whole days from now until `moment` (negative once past)."""
    return None if moment is None else (moment - now).days


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def group_line(group: BlastGroup, now: datetime) -> str:
    """`vault kv-prod-eu: 37 clusters, 4 subscriptions; critical 12 (KEY_EXPIRED)`."""
    reach = f"{_count(group.size, 'cluster')}, {_count(group.subscriptions, 'subscription')}"
    line = f"{group.kind.value} {group.name}: {reach}"
    if group.critical:
        line += f"; critical {group.critical}"
        if group.causes:
            line += f" ({', '.join(group.causes[:3])})"
    days = days_until(group.expires, now) if group.kind == GroupKind.KEY else None
    if days is not None and days >= 0 and "KEY_EXPIRING_SOON" in group.warning_causes:
        line += f"; expires in {days} days: {_count(group.warnings, 'cluster')}"
    elif group.warnings:
        line += f"; warnings {group.warnings} ({', '.join(group.warning_causes[:3])})"
    return line


def at_risk(groups: Iterable[BlastGroup]) -> list[BlastGroup]:
    """The groups with something wrong, most at stake first; a group of the very clusters of a
    broader one already listed (the only key of a vault) is left out."""
    shown: list[BlastGroup] = []
    seen: set[frozenset[str]] = set()
    for group in groups:
        members = frozenset(group.cluster_ids)
        if (group.critical or group.warnings) and members not in seen:
            seen.add(members)
            shown.append(group)
    return shown


def _open(verdict: ClusterVerdict) -> list[str]:
    """The open questions in words, each said once (several checks often rest on one refused read)."""
    said = [
        ("diagnose: " if q.diagnose_settles else "unknown: ")
        + q.detail
        + (f" (needs {q.needs})" if q.needs else "")
        for q in verdict.open_questions
    ]
    return list(dict.fromkeys(said))


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def table(report: FleetReport, now: datetime, *, show_all: bool = False, top_groups: int = 10) -> str:
    """The people's view: the summary, the blast radius, every cluster that is not healthy."""
    lines = [
        f"cmk-wizard scan: {report.scope.describe()}; {_count(len(report.subscriptions), 'subscription')}, "
        f"{_count(len(report.verdicts), 'cluster')} ({sum(1 for v in report.verdicts if v.cluster.is_cmk)} "
        "with CMK), "
        f"{report.duration_ms / 1000:.1f} s",
        "  " + " · ".join(f"{STATE_WORDS[s]} {report.count(s)}" for s in ClusterState if report.count(s)),
    ]
    risky = at_risk(report.groups)
    groups = [g for g in risky if g.critical][:top_groups] + [g for g in risky if not g.critical][
        : top_groups // 2
    ]
    if groups:
        lines += ["", "Blast radius"] + [f"  {group_line(g, now)}" for g in groups]
    shown = [
        v for v in report.verdicts if show_all or v.state not in (ClusterState.HEALTHY, ClusterState.NOT_CMK)
    ]
    if shown:
        lines += ["", f"  {'STATE':<9} {'CLUSTER':<24} {'SUBSCRIPTION':<13} {'KEY':<28} CAUSES"]
        for v in shown:
            causes = ", ".join(v.causes) or "; ".join(_open(v)) or "-"
            key = _cell(v.key.label if v.key else v.vault_name, 28)
            lines.append(
                f"  {STATE_WORDS[v.state]:<9} {_cell(v.cluster.name, 24):<24} "
                f"{_cell(v.cluster.subscription_id, 13):<13} {key:<28} {causes}"
            )
            if v.causes and v.open_questions:
                lines += [f"  {'':<76} {q}" for q in _open(v)]
    if report.unreadable:
        lines += ["", "Could not read (the verdicts above do not cover it)"]
        lines += [
            f"  {u.what}: {u.reason}" + (f" (needs {u.needs})" if u.needs else "") for u in report.unreadable
        ]
    settles = report.count(ClusterState.UNSETTLED)
    if settles:
        lines += [
            "",
            f"{settles} clusters need `cmk-wizard diagnose --cluster ID` to settle what the scan cannot see.",
        ]
    return "\n".join(lines)


def verdict_json(v: ClusterVerdict) -> dict[str, Any]:
    """One cluster in the JSON report."""
    c = v.cluster
    return {
        "id": c.id,
        "name": c.name,
        "subscriptionId": c.subscription_id,
        "resourceGroup": c.resource_group,
        "location": c.location,
        "status": c.cluster_status,
        "provisioningState": c.provisioning_state,
        "keyUrl": c.key_url,
        "identityId": c.key_identity_id,
        "state": v.state.value,
        "key": v.key.label if v.key else None,
        "vault": v.vault_name or None,
        "keyExpires": iso(v.key_expires, "auto") if v.key_expires else None,
        "findings": [
            {
                "code": f.code,
                "severity": f.severity.value,
                "summary": f.summary,
                "remediations": list(f.remediations),
            }
            for f in v.findings
        ],
        "openQuestions": [
            {
                "check": q.check_id,
                "detail": q.detail,
                "needs": q.needs or None,
                "diagnoseSettles": q.diagnose_settles,
            }
            for q in v.open_questions
        ],
    }


def to_json(report: FleetReport, now: datetime) -> dict[str, Any]:
    """The documented `cmk-wizard/fleet-scan/v1` object."""
    return {
        "schema": SCHEMA,
        "scope": report.scope.describe(),
        "subscriptions": list(report.subscriptions),
        "expiringWithinDays": report.expiring_within_days,
        "complete": report.complete,
        "summary": {s.value: report.count(s) for s in ClusterState},
        "clusters": [verdict_json(v) for v in report.verdicts],
        "blastRadius": [
            {
                "kind": g.kind.value,
                "name": g.name,
                "clusters": g.size,
                "subscriptions": g.subscriptions,
                "critical": g.critical,
                "warnings": g.warnings,
                "causes": list(g.causes),
                "warningCauses": list(g.warning_causes),
                "expires": iso(g.expires, "auto") if g.expires else None,
                "line": group_line(g, now),
            }
            for g in report.groups
        ],
        "unreadable": [
            {"what": u.what, "reason": u.reason, "needs": u.needs or None} for u in report.unreadable
        ],
        "exitCode": report.exit_code,
        "durationMs": report.duration_ms,
    }


def to_csv(report: FleetReport) -> str:
    """One row per cluster, causes and open questions joined by `; `."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in report.verdicts:
        c = v.cluster
        writer.writerow(
            (
                c.id,
                c.name,
                c.subscription_id,
                c.resource_group,
                c.cluster_status,
                v.state.value,
                v.key.label if v.key else "",
                iso(v.key_expires, "auto") if v.key_expires else "",
                "; ".join(v.causes),
                "; ".join(_open(v)),
            )
        )
    return out.getvalue()
