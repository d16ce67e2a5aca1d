"""The fleet view's rows: pure helpers from scan verdicts to table cells, order, filter and groups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from wizard.domain.fleet import BlastGroup, ClusterState, ClusterVerdict, FleetReport, GroupKind
from wizard.domain.models import Severity
from wizard.run.scan_output import STATE_WORDS, at_risk, group_line

if TYPE_CHECKING:  # the checks' code loads with the first diagnosis, not with the fleet view
    from wizard.run.diagnose import Diagnosis

GROUPINGS: tuple[GroupKind | None, ...] = (None, GroupKind.KEY, GroupKind.VAULT, GroupKind.IDENTITY)
"""What `g` cycles through: no groups, then clusters under their key, vault or identity."""
MAX_ROWS = 500
"""Rows the table holds at once: a fleet of thousands stays quick to draw; the filter narrows it."""
STATUS_SYMBOLS = {"ready": "✓", "inaccessible": "✗", "failed": "✗"}
STATE_VARIABLES = {
    ClusterState.CRITICAL: "error",
    ClusterState.UNSETTLED: "warning",
    ClusterState.INCOMPLETE: "warning",
    ClusterState.WARNING: "warning",
    ClusterState.PENDING: "text-muted",
    ClusterState.HEALTHY: "success",
    ClusterState.NOT_CMK: "text-muted",
}
"""The theme variable each state's word is drawn in (table cells are Rich text: the screen looks the
colours up in the theme, so the terminal palette applies there too)."""
Palette = Mapping[ClusterState, str]


def palette(variables: Mapping[str, str]) -> dict[ClusterState, str]:
    """Each state's style from the app's CSS variables (the current theme)."""
    return {state: variables.get(name, "") for state, name in STATE_VARIABLES.items()}


GROUP_ROW = "group:"
"""Row keys of group headings start with this; every other row key is a cluster id."""


def diagnosed(verdict: ClusterVerdict, diagnosis: Diagnosis) -> ClusterVerdict:
    """A scan row told by the cluster's own later diagnosis (ARM, read just now: fresher than
    Resource Graph, which can lag a fix by minutes)."""
    cluster = diagnosis.cluster or replace(verdict.cluster, cluster_status="Not found")
    warnings = any(f.severity == Severity.WARNING for f in diagnosis.findings)
    state = {
        "unhealthy": ClusterState.CRITICAL,
        "incomplete": ClusterState.INCOMPLETE,
    }.get(diagnosis.verdict, ClusterState.WARNING if warnings else ClusterState.HEALTHY)
    return replace(verdict, cluster=cluster, state=state, findings=diagnosis.findings, open_questions=())


def with_diagnoses(report: FleetReport, latest: Mapping[str, Diagnosis]) -> FleetReport:
    """The report with each cluster diagnosed since the scan shown as that diagnosis found it
    (`latest`: by lower-cased cluster id)."""
    if not latest:
        return report
    verdicts = tuple(
        diagnosed(v, latest[v.cluster.id.lower()]) if v.cluster.id.lower() in latest else v
        for v in report.verdicts
    )
    return replace(report, verdicts=verdicts)


def fleet_order(verdict: ClusterVerdict) -> tuple[bool, int, float, str]:
    """Not-Ready clusters first, then by what the scan found (critical, open, expiring soon, ...),
    the key that expires first before the others."""
    expires = verdict.key_expires.timestamp() if verdict.key_expires else float("inf")
    ready = verdict.cluster.cluster_status.lower() == "ready"
    return (ready, verdict.state.order, expires, verdict.cluster.name.lower())


def group_name(verdict: ClusterVerdict, kind: GroupKind) -> str:
    """The key, vault or identity a cluster belongs under ("" when it has none)."""
    if kind == GroupKind.KEY:
        return verdict.key.label if verdict.key else ""
    if kind == GroupKind.VAULT:
        return verdict.vault_name.lower()
    return verdict.identity_id.rsplit("/", 1)[-1] if verdict.identity_id else ""


def what_it_found(verdict: ClusterVerdict, now: datetime) -> str:
    """The scan column, short: the first cause, an expiry, what is left open, or the state."""
    if verdict.causes:
        first = [c for c in verdict.causes if c != "CLUSTER_INACCESSIBLE"] or list(verdict.causes)
        more = f" +{len(verdict.causes) - 1}" if len(verdict.causes) > 1 else ""
        if first[0] == "KEY_EXPIRING_SOON" and verdict.key_expires is not None:
            return f"key expires in {(verdict.key_expires - now).days} d{more}"
        return f"{first[0]}{more}"
    if verdict.state == ClusterState.UNSETTLED:
        return "? diagnose to settle"
    if verdict.state == ClusterState.INCOMPLETE:
        return "? could not read all"
    if verdict.state == ClusterState.PENDING:
        return "… reading key"
    return STATE_WORDS[verdict.state]


def cluster_cells(verdict: ClusterVerdict, now: datetime, colours: Palette, wide: bool) -> tuple[Text, ...]:
    """One cluster's cells, as plain Text so names are never read as markup; narrow screens leave
    out the resource group and show the key without its vault."""
    cluster = verdict.cluster
    symbol = STATUS_SYMBOLS.get(cluster.cluster_status.lower(), "·")
    short = verdict.key.key_name if verdict.key else ""
    key = (verdict.key.label if wide else short) if verdict.key else verdict.vault_name or "-"
    cells = [
        Text(f"{symbol} {cluster.cluster_status or '?'}"),
        Text(cluster.name),
        Text(cluster.resource_group),
        Text(key),
        Text(what_it_found(verdict, now), style=colours.get(verdict.state, "")),
    ]
    return tuple(cells if wide else cells[:2] + cells[3:])


def matches(verdict: ClusterVerdict, query: str) -> bool:
    """Every word of the filter appears in the cluster's name, group, status, region, subscription,
    key, vault, identity, state or causes."""
    cluster = verdict.cluster
    haystack = " ".join(
        (
            cluster.name,
            cluster.resource_group,
            cluster.cluster_status,
            cluster.location,
            cluster.subscription_id,
            verdict.key.label if verdict.key else "",
            verdict.vault_name,
            verdict.identity_id.rsplit("/", 1)[-1],
            verdict.state.value,
            STATE_WORDS[verdict.state],
            *verdict.causes,
            "expiring" if "KEY_EXPIRING_SOON" in verdict.causes else "",
        )
    ).lower()
    return all(word in haystack for word in query.lower().split())


def heading(
    kind: GroupKind, group: BlastGroup | None, name: str, members: int, colours: Palette, wide: bool
) -> tuple[Text, ...]:
    """A group's heading row, in the table's columns: what it is, how far it reaches, what is wrong."""
    if group is not None and group.critical:
        found = f"{group.critical} critical" + (f": {group.causes[0]}" if group.causes else "")
        state = ClusterState.CRITICAL
    elif group is not None and group.warnings:
        found = f"{group.warnings} warning" + (f": {group.warning_causes[0]}" if group.warning_causes else "")
        state = ClusterState.WARNING
    else:
        found, state = "", ClusterState.HEALTHY
    reach = f"{members} in {group.subscriptions} subs" if group else f"{members} clusters"
    cells = [
        Text(f"── {kind.value}", style="bold"),
        Text(name or "(none)", style="bold"),
        Text(""),
        Text(reach),
        Text(found, style=colours.get(state, "")),
    ]
    return tuple(cells if wide else cells[:2] + cells[3:])


def rows(
    report: FleetReport,
    query: str,
    grouping: GroupKind | None,
    now: datetime,
    colours: Palette,
    *,
    wide: bool = True,
) -> tuple[list[tuple[str, tuple[Text, ...]]], int]:
    """(row key, cells) in display order, at most MAX_ROWS, and how many clusters matched."""
    shown = sorted((v for v in report.verdicts if matches(v, query)), key=fleet_order)
    if grouping is None:
        table = [(v.cluster.id, cluster_cells(v, now, colours, wide)) for v in shown[:MAX_ROWS]]
        return list(table), len(shown)
    by_group: dict[str, list[ClusterVerdict]] = {}
    for v in shown:
        by_group.setdefault(group_name(v, grouping), []).append(v)
    known = {g.name: g for g in report.groups if g.kind == grouping}
    order = [g.name for g in report.groups if g.kind == grouping and g.name in by_group]
    order += [name for name in by_group if name not in known]
    out: list[tuple[str, tuple[Text, ...]]] = []
    for name in order:
        members = by_group[name]
        out.append(
            (f"{GROUP_ROW}{name}", heading(grouping, known.get(name), name, len(members), colours, wide))
        )
        out += [(v.cluster.id, cluster_cells(v, now, colours, wide)) for v in members]
        if len(out) >= MAX_ROWS:
            break
    return out[:MAX_ROWS], len(shown)


def summary(report: FleetReport | None, clusters_known: bool) -> str:
    """The line above the table: how many, in what state, and whether the scan is still reading."""
    if report is None or not clusters_known:
        return "Scanning the clusters you can see (Resource Graph)…"
    counts = " · ".join(f"{STATE_WORDS[s]} {report.count(s)}" for s in ClusterState if report.count(s))
    subs = len(report.subscriptions)
    head = f"{len(report.verdicts)} clusters in {subs} subscription{'s' if subs != 1 else ''}"
    pending = report.count(ClusterState.PENDING)
    tail = f" · reading keys ({pending} clusters waiting)…" if not report.complete and pending else ""
    return f"{head} · {counts}{tail}"


def radius(report: FleetReport | None, now: datetime, lines: int = 3) -> str:
    """The blast radius: the groups with most at stake, one line each."""
    if report is None:
        return ""
    return "\n".join(group_line(g, now) for g in at_risk(report.groups)[:lines])


def problems(report: FleetReport | None) -> Iterable[str]:
    """What the scan could not read, one line each, with the role that would let it."""
    for u in report.unreadable if report else ():
        yield f"{u.what}: {u.reason}" + (f" (needs {u.needs})" if u.needs else "")
