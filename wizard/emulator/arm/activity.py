"""The Activity Log (Microsoft.Insights/eventtypes/management/values): the estate's history and
every write the emulator answered, filtered as the documented `$filter` patterns say."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from wizard.emulator.arm.common import check_subscription
from wizard.emulator.model import ActivityRecord
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error, iso

_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ge|le)\s+'([^']*)'\s*$", re.I)
_FIELDS = {
    "eventtimestamp",
    "eventchannels",
    "resourcegroupname",
    "resourceuri",
    "correlationid",
    "resourceprovider",
}


def _localizable(value: str) -> dict[str, str]:
    return {"value": value, "localizedValue": value}


def event_json(record: ActivityRecord, sub: str, tenant: str) -> dict[str, Any]:
    """An EventData as the Activity Log returns it (api-version 2015-04-01)."""
    parts = record.resource_id.split("/")
    group = parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""
    provider = next((p for p in parts if p.lower().startswith("microsoft.")), "")
    return {
        "authorization": {"action": record.operation, "scope": record.resource_id},
        "caller": record.caller,
        "channels": "Operation",
        "claims": {},
        "correlationId": record.correlation_id,
        "description": "",
        "eventDataId": f"{record.correlation_id}-{record.status.lower()}",
        "eventName": _localizable("EndRequest" if record.status != "Started" else "BeginRequest"),
        "category": _localizable("Administrative"),
        "id": f"{record.resource_id}/events/{record.correlation_id}/ticks/{int(record.time * 1e7)}",
        "level": "Error" if record.status == "Failed" else "Informational",
        "resourceGroupName": group,
        "resourceProviderName": _localizable(provider),
        "resourceId": record.resource_id,
        "operationId": record.correlation_id,
        "operationName": _localizable(record.operation),
        "properties": {},
        "status": _localizable(record.status),
        "subStatus": _localizable(""),
        "eventTimestamp": iso(record.time),
        "submissionTimestamp": iso(record.time + 5),
        "subscriptionId": sub,
        "tenantId": tenant,
    }


def _moment(ctx: Context, text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _bad(ctx, f"'{text}' is not a timestamp.") from None


def _bad(ctx: Context, message: str) -> HttpError:
    return HttpError(arm_error(400, "BadRequest", f"The $filter is not valid: {message}"))


def list_activity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Events of the path's subscription; `$filter` clauses joined by `and` (timestamps required)."""
    sub = check_subscription(ctx, p["sub"])
    raw = req.query.get("$filter", "")
    clauses = [c for c in re.split(r"\s+and\s+", raw, flags=re.I) if c.strip()]
    since = until = None
    wanted: dict[str, str] = {}
    for clause in clauses:
        match = _CLAUSE.match(clause)
        if match is None or match.group(1).lower() not in _FIELDS:
            raise _bad(ctx, f"unsupported clause '{clause.strip()}'.")
        name, op, value = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if name == "eventtimestamp":
            since, until = (_moment(ctx, value), until) if op == "ge" else (since, _moment(ctx, value))
        else:
            wanted[name] = value.lower()
    if since is None or until is None:
        raise _bad(ctx, "eventTimestamp ge and le are required.")

    def chosen(record: ActivityRecord) -> bool:
        resource = record.resource_id.lower()
        parts = resource.split("/")
        group = parts[4] if len(parts) > 4 and parts[3] == "resourcegroups" else ""
        return (
            since <= record.time <= until
            and resource.startswith(f"/subscriptions/{sub.lower()}/")
            and wanted.get("resourcegroupname", group) == group
            and wanted.get("resourceuri", resource) == resource
            and wanted.get("correlationid", record.correlation_id.lower()) == record.correlation_id.lower()
        )

    events = [event_json(r, sub, ctx.state.tenant_id) for r in reversed(ctx.state.activity) if chosen(r)]
    return Response(200, {"value": events})
