"""An action as plain data in its audit record, and back: so a later run can read the target of a
write whose outcome was never recorded, and say what it finds."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from wizard.domain.actions import ACTION_TYPES, Action, _plain
from wizard.domain.times import parse_iso


def action_record(action: Action) -> dict[str, Any]:
    """Every field of the action (also those plans do not show), with its remediation id."""
    return {"remediation": action.remediation} | {
        f.name: _plain(getattr(action, f.name)) for f in fields(action)
    }


def action_from_record(record: dict[str, Any]) -> Action:
    """The action an audit record describes; ValueError when it names no action or lacks a field."""
    kind = next((t for t in ACTION_TYPES if t.remediation == record.get("remediation")), None)
    if kind is None:
        raise ValueError(f"no write is called {record.get('remediation')!r}")
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name not in record:
            continue
        value = record[f.name]
        kind_text = str(f.type)
        if "datetime" in kind_text and isinstance(value, str):
            value = parse_iso(value)
        elif "tuple" in kind_text and isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    try:
        return kind(**values)
    except TypeError as exc:
        raise ValueError(f"{kind.remediation}: {exc}") from None
