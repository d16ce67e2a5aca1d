"""Pure helpers that turn domain values into short display text (no widgets, easy to test)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from textual.markup import escape

from wizard.domain.errors import BadInput
from wizard.domain.ids import parse_key_url
from wizard.domain.ports import Backend
from wizard.domain.status import CheckStatus, Severity
from wizard.engine.tree import CheckSpec

STATUS_MARKS: Mapping[CheckStatus, tuple[str, str]] = {
    CheckStatus.PENDING: ("·", "$text-muted"),
    CheckStatus.RUNNING: ("…", "$accent"),
    CheckStatus.PASS: ("✓", "$success"),
    CheckStatus.FAIL: ("✗", "$error"),
    CheckStatus.UNKNOWN: ("?", "$warning"),
    CheckStatus.SKIPPED: ("-", "$text-muted"),
}

STATUS_WORDS: Mapping[CheckStatus, str] = {
    CheckStatus.PENDING: "waiting for an earlier check",
    CheckStatus.RUNNING: "asking Azure…",
    CheckStatus.PASS: "pass",
    CheckStatus.FAIL: "fail",
    CheckStatus.UNKNOWN: "unknown: could not look",
    CheckStatus.SKIPPED: "skipped: does not apply",
}

SEVERITY_STYLES: Mapping[Severity, str] = {
    Severity.CRITICAL: "$error",
    Severity.WARNING: "$warning",
    Severity.INFO: "$text-muted",
}

VERDICT_WORDS: Mapping[str, tuple[str, str]] = {
    "healthy": ("Healthy", "$success"),
    "unhealthy": ("Unhealthy", "$error"),
    "incomplete": ("Incomplete: some checks could not run", "$warning"),
}

SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def status_mark(status: CheckStatus) -> str:
    """The one-cell symbol of a check's status, coloured by theme variable."""
    symbol, style = STATUS_MARKS[status]
    return f"[{style}]{symbol}[/]"


def check_depths(tree: Iterable[CheckSpec]) -> dict[str, int]:
    """How deep each check hangs under the root, from its `after` parents (tree order is topological)."""
    depths: dict[str, int] = {}
    for spec in tree:
        depths[spec.id] = 1 + max((depths.get(parent, 0) for parent in spec.after), default=-1)
    return depths


def vault_name_of(key_url: str | None) -> str:
    """The key vault's name from a cluster's key URL, or a dash when there is none or it is malformed."""
    if not key_url:
        return "-"
    try:
        return parse_key_url(key_url).vault_name
    except BadInput:
        return "?"


def show_value(value: Any) -> str:
    """One evidence value as plain text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return ", ".join(show_value(v) for v in items) or "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={show_value(v)}" for k, v in value.items()) or "none"
    return str(value)


def show_duration(duration_ms: int | None) -> str:
    """A read's duration, coarse below 10 ms so that local runs read the same every time."""
    if duration_ms is None:
        return "—"
    if duration_ms < 10:
        return "under 10 ms"
    if duration_ms < 10_000:
        return f"{duration_ms} ms"
    return f"{duration_ms / 1000:.1f} s"


def field(label: str, value: str) -> str:
    """A muted label before an escaped value, one block of the detail panes."""
    return f"[$text-muted]{escape(label)}[/]  {escape(value)}"


def evidence_blocks(pairs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Evidence as one indented block per key, values escaped."""
    if not pairs:
        return [("field", "[$text-muted](none)[/]")]
    return [("field", field(key, show_value(value))) for key, value in pairs.items()]


def scenario_line(backend: Backend) -> str:
    """`Scenario NAME: what it shows` on an emulator, else nothing."""
    playing = backend.current_scenario()
    if playing is None:
        return ""
    name, shows = playing
    return f"[b]Scenario {escape(name)}[/]" + (f": {escape(shows)}" if shows else "")


def path_lines(path: str, width: int) -> str:
    """A file path broken only after a `/`, each line at most `width` where the names allow: a
    terminal would otherwise split a name in the middle, and the operator copies it by hand."""
    width = max(width, 8)
    parts = [f"{part}/" for part in path.split("/")[:-1]] + [path.rsplit("/", 1)[-1]]
    lines: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + len(part) > width:
            lines.append(current)
            current = ""
        current += part
    return "\n".join([*lines, current]) if current else "\n".join(lines)


def _table_cells(line: str) -> list[str]:
    cells, current, escaped = [], "", False
    for char in line.strip().strip("|"):
        if char == "|" and not escaped:
            cells.append(current.strip())
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*cells, current.strip()]


def tables_as_lists(markdown: str) -> str:
    """Markdown tables as one bullet per row (`first cell`, then `header: value` pairs): in a
    terminal a table with a resource ID in a column squeezes every other column to `…`."""
    lines = markdown.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not (
            line.lstrip().startswith("|")
            and set(following.replace(" ", "")) <= set("|-:")
            and "-" in following
        ):
            out.append(line)
            index += 1
            continue
        headers = _table_cells(line)
        index += 2
        while index < len(lines) and lines[index].lstrip().startswith("|"):
            cells = _table_cells(lines[index])
            pairs = [f"{h}: {c}" for h, c in zip(headers[1:], cells[1:], strict=False) if c]
            out.append(f"- **{cells[0]}** · " + " · ".join(pairs) if pairs else f"- **{cells[0]}**")
            index += 1
    return "\n".join(out)
