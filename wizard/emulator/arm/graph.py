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
import json
import re
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


def _start(options: dict[str, Any]) -> int:
    """Where the page starts: the $skipToken's RowsToSkip, else $skip (400 for a token we cannot read)."""
    token = options.get("$skipToken")
    if not token:
        return int(options.get("$skip") or 0)
    try:
        return int(json.loads(base64.b64decode(str(token) + "=" * (-len(str(token)) % 4)))["RowsToSkip"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise HttpError(
            Response(400, {"error": {"code": "BadRequest", "message": "Invalid $skipToken."}})
        ) from None


def _page(rows: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    """One page of rows, with `$skipToken` in the body while rows remain."""
    top = min(MAX_ROWS, int(options.get("$top") or MAX_ROWS))
    start = _start(options)
    data = rows[start : start + top]
    body: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(data),
        "data": data,
        "facets": [],
        "resultTruncated": "false",
    }
    if start + len(data) < len(rows):
        token = {
            "$id": "1",
            "MaxRows": top,
            "RowsToSkip": start + len(data),
            "KustoClusterUrl": "https://emulator",
        }
        body["$skipToken"] = base64.b64encode(json.dumps(token).encode()).decode()
    return body


def graph_query(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The gateway's queries from live state, hidden subscriptions left out as ARG does; others are a 400."""
    body = req.json_object()
    query = str(body.get("query") or "")
    subs = {str(s).lower() for s in body.get("subscriptions") or []}
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    state = ctx.state
    rows: list[dict[str, Any]] = []
    vault_match, cmk_match = _VAULT_QUERY.match(query), _CMK_QUERY.match(query)
    project = _PROJECT_QUERY.match(query)
    if project:
        columns = [c.strip() for c in project.group(1).split(",")]
        rows = [
            {c: r[c] for c in columns if c in r} | {"subscriptionId": r["subscriptionId"]}
            for r in _all_rows(state)
        ]
    elif _SUBSCRIPTIONS_QUERY.match(query):
        rows = [{"subscriptionId": sub} for sub in state.known_subscriptions()]
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
    hidden = state.hidden_subscriptions()
    rows = [
        r
        for r in rows
        if r["subscriptionId"].lower() not in hidden and (not subs or r["subscriptionId"].lower() in subs)
    ]
    if project:
        wanted = {c.strip() for c in project.group(1).split(",")}
        rows = [{k: v for k, v in r.items() if k in wanted} for r in rows]
    return Response(200, _page(rows, options or {}))
