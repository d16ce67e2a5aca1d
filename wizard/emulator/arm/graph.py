"""Azure Resource Graph: the queries cmk-wizard sends and `project <columns>`, answered from live state.

Paging as recorded (resourcegraph/resources_query_skiptoken_top_skip.json): `options.$top` rows a
page, `$skip` or a `$skipToken` (base64 JSON with RowsToSkip) where to start, and `$skipToken` in the
BODY (not a nextLink) while rows remain; `resultTruncated` is the string "false". UNVERIFIED: the
page size without `$top` (the emulator: 1000, the documented maximum; a query over more rows than
that without `$top` would settle it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from wizard.emulator.arm.clusters import cluster_json
from wizard.emulator.arm.identities import identity_json
from wizard.emulator.arm.vaults import vault_json
from wizard.emulator.model import State
from wizard.emulator.wire import Context, HttpError, Request, Response, iso

MAX_ROWS = 1000

_VAULT_QUERY = re.compile(
    r"^\s*resources\s*\|\s*where\s+type\s*=~\s*'microsoft\.keyvault/vaults'\s*"
    r"\|\s*where\s+name\s*=~\s*'([^']*)'\s*$",
    re.I,
)
_CMK_QUERY = re.compile(
    r"^\s*resources\s*\|\s*where\s+type\s*=~\s*'microsoft\.documentdb/mongoclusters'\s*"
    r"\|\s*where\s+isnotempty\(\s*properties\.encryption\.customerManagedKeyEncryption\s*\)\s*$",
    re.I,
)
_PROJECT_QUERY = re.compile(r"^\s*(?:resources\s*\|\s*)?project\s+(\w+(?:\s*,\s*\w+)*)\s*$", re.I)
_SUBSCRIPTIONS_QUERY = re.compile(
    r"^\s*resourcecontainers\s*\|\s*where\s+type\s*=~\s*'microsoft\.resources/subscriptions'\s*"
    r"\|\s*project\s+subscriptionId\s*$",
    re.I,
)


def _graph_row(body: dict[str, Any], tenant: str, sub: str, rg: str) -> dict[str, Any]:
    """A resource's GET body as a Resource Graph `resources` row."""
    return {
        "id": body["id"],
        "name": body["name"],
        "type": str(body["type"]).lower(),
        "tenantId": tenant,
        "kind": "",
        "location": body.get("location", ""),
        "resourceGroup": rg.lower(),
        "subscriptionId": sub,
        "managedBy": "",
        "sku": body.get("properties", {}).get("sku") or None,
        "plan": None,
        "properties": body.get("properties", {}),
        "tags": body.get("tags") or {},
        "identity": body.get("identity"),
        "zones": None,
        "extendedLocation": None,
    }


def _all_rows(state: State) -> list[dict[str, Any]]:
    """Every live cluster, identity and vault as a `resources` row, ordered by id."""
    rows = [
        *(
            _graph_row(cluster_json(c), state.tenant_id, c.subscription_id, c.resource_group)
            for c in state.clusters
        ),
        *(
            _graph_row(identity_json(i), state.tenant_id, i.subscription_id, i.resource_group)
            for i in state.identities
        ),
        *(
            _graph_row(vault_json(v), state.tenant_id, v.subscription_id, v.resource_group)
            for v in state.vaults
            if v.live
        ),
    ]
    return sorted(rows, key=lambda r: str(r["id"]).lower())


Row = tuple[str, str, Callable[[], dict[str, Any]]]
"""(the id it is ordered by, its subscription, how to render it): only a page's rows are rendered."""


def bad_request(ctx: Context, code: str, message: str) -> HttpError:
    """A Resource Graph 400: BadRequest with one detail."""
    return HttpError(
        Response(
            400,
            {
                "error": {
                    "code": "BadRequest",
                    "message": "Please provide below info when asking for support: "
                    f"timestamp = {iso(ctx.now)}, correlationId = {ctx.new_guid()}.",
                    "details": [{"code": code, "message": message}],
                }
            },
        )
    )


def _query_hash(query: str) -> str:
    return hashlib.sha256(" ".join(query.split()).encode()).hexdigest()[:16]


def _skip_token(offset: int, top: int, query: str) -> str:
    """A `$skipToken` shaped like the recorded one (base64 JSON), naming its query by a hash."""
    payload = {
        "$id": "1",
        "MaxRows": top,
        "RowsToSkip": offset,
        "KustoClusterUrl": "https://emulator",
        "QueryHash": _query_hash(query),
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _start(ctx: Context, options: dict[str, Any], query: str) -> int:
    """Where the page starts: the $skipToken's RowsToSkip, else $skip (400 InvalidSkipToken for a
    token that cannot be read or that belongs to another query)."""
    token = options.get("$skipToken")
    if not token:
        skip = options.get("$skip") or 0
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise bad_request(ctx, "InvalidSkip", "$skip must be a whole number from 0.")
        return skip
    try:
        text = str(token)
        payload = json.loads(base64.b64decode(text + "=" * (-len(text) % 4)))
        offset = int(payload["RowsToSkip"])
        digest = payload.get("QueryHash")
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise bad_request(ctx, "InvalidSkipToken", "The skip token is not valid.") from None
    if offset < 0 or (digest is not None and digest != _query_hash(query)):
        raise bad_request(ctx, "InvalidSkipToken", "The skip token belongs to another query.")
    return offset


def _scope(ctx: Context, body: dict[str, Any]) -> set[str] | None:
    """The lower-cased subscriptions the request limits itself to (None: every one in sight).

    UNVERIFIED: what the service answers for a management group it does not know (the emulator
    says 400 BadRequest, InvalidManagementGroup)."""
    subs = {str(s).lower() for s in body.get("subscriptions") or []}
    groups = [str(g).lower() for g in body.get("managementGroups") or []]
    for group in groups:
        if group not in ctx.state.management_groups:
            raise bad_request(ctx, "InvalidManagementGroup", f"Management group '{group}' was not found.")
        subs |= {s.lower() for s in ctx.state.management_groups[group]}
    return subs if subs or groups else None


def page(ctx: Context, body: dict[str, Any], rows: list[Row], query: str) -> Response:
    """One page of rows in scope (hidden subscriptions left out), ordered by id, with `$skipToken`
    in the body while rows remain: the one paging of every Resource Graph query."""
    raw = body.get("options")
    options: dict[str, Any] = raw if isinstance(raw, dict) else {}
    top = options.get("$top")
    top = MAX_ROWS if top is None else top
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_ROWS:
        raise bad_request(ctx, "InvalidTop", f"$top must be between 1 and {MAX_ROWS}.")
    scope = _scope(ctx, body)
    hidden = ctx.state.hidden_subscriptions()
    rows = [
        r for r in rows if r[1].lower() not in hidden and (scope is None or not r[1] or r[1].lower() in scope)
    ]
    rows.sort(key=lambda r: r[0].lower())
    start = _start(ctx, options, query)
    data = [render() for _, _, render in rows[start : start + top]]
    answer: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(data),
        "data": data,
        "facets": [],
        "resultTruncated": "false",
    }
    if start + len(data) < len(rows):
        answer["$skipToken"] = _skip_token(start + len(data), top, query)
    return Response(200, answer)


def graph_query(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The gateway's queries from live state, hidden subscriptions left out as ARG does; others are a 400."""
    body = req.json_object()
    query = str(body.get("query") or "")
    state = ctx.state
    rows: list[dict[str, Any]] = []
    vault_match, cmk_match = _VAULT_QUERY.match(query), _CMK_QUERY.match(query)
    project = _PROJECT_QUERY.match(query)
    if project:
        rows = _all_rows(state)
    elif _SUBSCRIPTIONS_QUERY.match(query):
        # UNVERIFIED: that resourcecontainers leaves out a subscription where the operator holds
        # resource-group roles only (the issue this models; a live query under such roles settles it)
        only_groups = state.group_roles_only()
        rows = [{"subscriptionId": s} for s in state.known_subscriptions() if s.lower() not in only_groups]
    elif vault_match:
        rows = [
            _graph_row(vault_json(v), state.tenant_id, v.subscription_id, v.resource_group)
            for v in state.vaults
            if v.live
            and v.name.lower() == vault_match.group(1).lower()
            and "stale-resource-graph" not in state.restrictions
        ]
    elif cmk_match:
        rows = [
            _graph_row(cluster_json(c), state.tenant_id, c.subscription_id, c.resource_group)
            for c in state.clusters
            if c.key_url
        ]
    else:
        raise HttpError(
            Response(
                400,
                {
                    "error": {
                        "code": "BadRequest",
                        "message": "Please provide below info when asking for support: "
                        f"timestamp = {iso(ctx.now)}, correlationId = {ctx.new_guid()}.",
                        "details": [
                            {
                                "code": "InvalidQuery",
                                "message": "Query is invalid. Please refer to the documentation "
                                "for the Azure Resource Graph service and fix the query before retrying.",
                            },
                            {
                                "code": "UnsupportedByEmulator",
                                "message": "The emulator answers only `project <columns>` and the "
                                "vault-by-name, CMK-cluster and subscriptions queries cmk-wizard sends.",
                            },
                        ],
                    }
                },
            )
        )
    columns = [c.strip() for c in project.group(1).split(",")] if project else None
    lazy: list[Row] = [
        (str(r.get("id") or r["subscriptionId"]), str(r["subscriptionId"]), _render(r, columns)) for r in rows
    ]
    return page(ctx, body, lazy, query)


def _render(row: dict[str, Any], columns: list[str] | None) -> Callable[[], dict[str, Any]]:
    """A row as sent: just the projected columns, if the query projects."""
    if columns is None:
        return lambda: row
    return lambda: {c: row[c] for c in columns if c in row}
