"""What changed before a diagnosis: one Activity Log read per resource group its findings point at,
concurrently; the timeline as text and Markdown."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from wizard.domain.errors import GatewayError
from wizard.domain.forensics import ActivityEvent, ActivityReader, WhatChanged
from wizard.domain.history import DEFAULT_DAYS, MAX_DAYS
from wizard.engine.forensics import lookups, timeline
from wizard.run.diagnose import Diagnosis


def what_changed(
    reader: ActivityReader, diagnosis: Diagnosis, *, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> WhatChanged:
    """The Activity Log's events behind the diagnosis's findings, `days` back (at most 90)."""
    until = now or datetime.now(UTC)
    since = until - timedelta(days=max(1, min(days, MAX_DAYS)))
    wanted = lookups(diagnosis.findings, diagnosis.facts)
    groups = sorted({(w.subscription_id.lower(), w.resource_group.lower()) for w in wanted})

    def read(group: tuple[str, str]) -> list[ActivityEvent] | GatewayError:
        try:
            return reader.list_activity(group[0], group[1], since, until)
        except GatewayError as exc:
            return exc

    with ThreadPoolExecutor(max(1, min(8, len(groups))), thread_name_prefix="activity") as pool:
        answers = dict(zip(groups, pool.map(read, groups), strict=True))
    return timeline(wanted, answers, diagnosis.findings, since, until)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def timeline_lines(changed: WhatChanged) -> list[str]:
    """The timeline for a terminal: one line per change, then what could not be read or shown."""
    lines = [f"what changed (Activity Log, {_when(changed.since)} to {_when(changed.until)})"]
    if not changed.changes:
        lines.append("  no matching operation in the window")
    for c in changed.changes:
        e = c.event
        lines.append(
            f"  {_when(e.time)}  {e.operation} {e.status} by {e.caller or '?'} "
            f"on {e.resource_id} (correlation {e.correlation_id or '-'}; {c.finding})"
        )
    lines += [
        f"  unknown for {u.finding}: {u.reason}" + (f" (needs {u.needs})" if u.needs else "")
        for u in changed.unanswered
    ]
    lines += [f"  not in the Activity Log: {note}" for note in changed.not_shown]
    return lines


def timeline_markdown(changed: WhatChanged) -> list[str]:
    """The incident report's "What changed" section."""
    lines = [
        "## What changed (Activity Log)",
        "",
        f"Searched {_when(changed.since)} to {_when(changed.until)}.",
        "",
    ]
    if changed.changes:
        lines += [
            "| time | operation | status | caller | resource | correlation id | finding |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in changed.changes:
            e = c.event
            lines.append(
                f"| {_when(e.time)} | `{e.operation}` | {e.status} | {e.caller or '-'} | `{e.resource_id}` "
                f"| `{e.correlation_id or '-'}` | {c.finding} |"
            )
    else:
        lines.append("No operation in the window matches the findings.")
    for u in changed.unanswered:
        lines.append(
            f"- Could not read the log for {u.finding}: {u.reason}"
            + (f" (needs {u.needs})" if u.needs else "")
        )
    for note in changed.not_shown:
        lines.append(f"- Not in the Activity Log: {note}")
    return [*lines, ""]
