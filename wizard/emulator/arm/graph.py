"""Azure Resource Graph: the three queries cmk-wizard sends, answered from live state."""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.arm.clusters import cluster_json
from wizard.emulator.arm.vaults import vault_json
from wizard.emulator.wire import Context, HttpError, Request, Response, iso

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


def graph_query(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The gateway's queries from live state, hidden subscriptions left out as ARG does; others are a 400."""
    body = req.json_object()
    query = str(body.get("query") or "")
    subs = {str(s).lower() for s in body.get("subscriptions") or []}
    state = ctx.state
    rows: list[dict[str, Any]] = []
    vault_match, cmk_match = _VAULT_QUERY.match(query), _CMK_QUERY.match(query)
    if _SUBSCRIPTIONS_QUERY.match(query):
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
                                "message": "The emulator answers only the vault-by-name, "
                                "CMK-cluster and subscriptions queries cmk-wizard sends.",
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
    return Response(
        200,
        {
            "totalRecords": len(rows),
            "count": len(rows),
            "resultTruncated": "false",
            "facets": [],
            "data": rows,
        },
    )
