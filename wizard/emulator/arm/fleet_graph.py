"""Resource Graph for the fleet scan: its queries, paged by `$skipToken`, and the quota on every query.

Every Resource Graph POST comes here first: the quota window is charged (a spent window, or the
throttling fault, is a 429 with the quota headers and no Retry-After), then the fleet queries are
answered here and any other query by `graph.graph_query`, with the quota headers added.

The query texts are the scan's own, DUPLICATED ON PURPOSE (the emulator imports nothing of the
wizard's): `wizard/azure/fleet_queries.py` holds the originals, and a test sends those through the
real SDK, so a change on one side that the other lacks fails there.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from wizard.emulator.arm.clusters import cluster_json
from wizard.emulator.arm.graph import graph_query
from wizard.emulator.arm.identities import identity_json
from wizard.emulator.arm.rbac import role_json
from wizard.emulator.arm.vaults import vault_json
from wizard.emulator.model import Cluster, Identity, RoleAssignment, RoleDefinition, State, Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, iso

MAX_PAGE = 1000
"""Resource Graph returns at most 1,000 rows a page (`$top` up to 1,000). UNVERIFIED: the page size
when `$top` is absent (the emulator uses the maximum; the scan always sends `$top`)."""

# Duplicated from wizard/azure/fleet_queries.py (see the module docstring).
CLUSTERS_QUERY = (
    "resources"
    " | where type =~ 'microsoft.documentdb/mongoclusters'"
    " | project id, name, type, location, resourceGroup, subscriptionId, tenantId, identity, properties"
    " | order by id asc"
)
DEPENDENCIES_QUERY = (
    "resources"
    " | where type in~ ('microsoft.keyvault/vaults', 'microsoft.managedidentity/userassignedidentities')"
    " | project id, name, type, location, resourceGroup, subscriptionId, tenantId, properties"
    " | order by id asc"
)
ROLE_ASSIGNMENTS_QUERY = (
    "authorizationresources"
    " | where type =~ 'microsoft.authorization/roleassignments'"
    " | extend principalType = tostring(properties.principalType)"
    " | where principalType in~ ('ServicePrincipal', 'Group')"
    " | project id, subscriptionId, scope = tostring(properties.scope),"
    " roleDefinitionId = tostring(properties.roleDefinitionId),"
    " principalId = tostring(properties.principalId), principalType"
    " | order by id asc"
)
ROLE_DEFINITIONS_QUERY = (
    "authorizationresources"
    " | where type =~ 'microsoft.authorization/roledefinitions'"
    " | where tostring(properties.type) =~ 'CustomRole'"
    " | project id, name, subscriptionId, properties"
    " | order by id asc"
)
SUBSCRIPTIONS_QUERY = (
    "resourcecontainers"
    " | where type =~ 'microsoft.resources/subscriptions'"
    " | project subscriptionId, name"
    " | order by subscriptionId asc"
)


def _resource_row(body: dict[str, Any], state: State, sub: str, rg: str) -> dict[str, Any]:
    """A resource's GET body as the projected `resources` row."""
    return {
        "id": body["id"],
        "name": body["name"],
        "type": str(body["type"]).lower(),
        "location": body.get("location", ""),
        "resourceGroup": rg.lower(),
        "subscriptionId": sub,
        "tenantId": state.tenant_id,
        "identity": body.get("identity"),
        "properties": body.get("properties", {}),
    }


Row = tuple[str, str, Callable[[], dict[str, Any]]]
"""(the id it is ordered by, its subscription, how to render it): only a page's rows are rendered."""


def _cluster_row(state: State, c: Cluster) -> dict[str, Any]:
    return _resource_row(cluster_json(c), state, c.subscription_id, c.resource_group)


def _vault_row(state: State, v: Vault) -> dict[str, Any]:
    return _resource_row(vault_json(v), state, v.subscription_id, v.resource_group)


def _identity_row(state: State, i: Identity) -> dict[str, Any]:
    return {**_resource_row(identity_json(i), state, i.subscription_id, i.resource_group), "identity": None}


def _subscription_of(scope: str) -> str:
    parts = scope.split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def _assignment_row(a: RoleAssignment) -> dict[str, Any]:
    return {
        "id": a.id,
        "subscriptionId": _subscription_of(a.scope),
        "scope": a.scope,
        "roleDefinitionId": a.role_definition_id,
        "principalId": a.principal_id,
        "principalType": a.principal_type,
    }


def _role_row(state: State, r: RoleDefinition) -> dict[str, Any]:
    scope = f"/subscriptions/{state.subscription_id}"
    return {
        **role_json(r, scope),
        "type": "microsoft.authorization/roledefinitions",
        "subscriptionId": state.subscription_id,
    }


def _subscription_row(s: str) -> dict[str, Any]:
    return {"subscriptionId": s, "name": s}


def _clusters(state: State) -> list[Row]:
    return [(c.id, c.subscription_id, partial(_cluster_row, state, c)) for c in state.clusters]


def _dependencies(state: State) -> list[Row]:
    vaults = [] if "stale-resource-graph" in state.restrictions else [v for v in state.vaults if v.live]
    rows: list[Row] = [(v.id, v.subscription_id, partial(_vault_row, state, v)) for v in vaults]
    rows += [(i.id, i.subscription_id, partial(_identity_row, state, i)) for i in state.identities]
    return rows


def _role_assignments(state: State) -> list[Row]:
    return [
        (a.id, _subscription_of(a.scope), partial(_assignment_row, a))
        for a in state.role_assignments
        if a.principal_type in ("ServicePrincipal", "Group")
    ]


def _role_definitions(state: State) -> list[Row]:
    scope = f"/subscriptions/{state.subscription_id}/providers/Microsoft.Authorization/roleDefinitions"
    return [
        (f"{scope}/{r.guid}", state.subscription_id, partial(_role_row, state, r)) for r in state.custom_roles
    ]


def _subscriptions(state: State) -> list[Row]:
    return [(s, s, partial(_subscription_row, s)) for s in state.known_subscriptions()]


TABLES: dict[str, Callable[[State], list[Row]]] = {
    " ".join(CLUSTERS_QUERY.split()): _clusters,
    " ".join(DEPENDENCIES_QUERY.split()): _dependencies,
    " ".join(ROLE_ASSIGNMENTS_QUERY.split()): _role_assignments,
    " ".join(ROLE_DEFINITIONS_QUERY.split()): _role_definitions,
    " ".join(SUBSCRIPTIONS_QUERY.split()): _subscriptions,
}
"""The fleet queries by their text with whitespace collapsed, to what answers each."""


def _bad_request(ctx: Context, code: str, message: str) -> HttpError:
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


def _scope(ctx: Context, body: dict[str, Any]) -> set[str] | None:
    """The lower-cased subscriptions the request limits itself to (None: every one in sight).

    UNVERIFIED: what the service answers for a management group it does not know (the emulator
    says 400 BadRequest, InvalidManagementGroup)."""
    subs = {str(s).lower() for s in body.get("subscriptions") or []}
    groups = [str(g).lower() for g in body.get("managementGroups") or []]
    for group in groups:
        if group not in ctx.state.management_groups:
            raise _bad_request(ctx, "InvalidManagementGroup", f"Management group '{group}' was not found.")
        subs |= {s.lower() for s in ctx.state.management_groups[group]}
    return subs if subs or groups else None


def _skip_token(offset: int, top: int, query: str) -> str:
    """A `$skipToken` shaped like the service's (base64 of a small JSON object)."""
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    payload = {"$id": "1", "MaxRows": top, "RowsToSkip": offset, "QueryHash": digest}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _offset(ctx: Context, token: Any, query: str) -> int:
    if not token:
        return 0
    try:
        payload = json.loads(base64.b64decode(str(token)))
        offset = int(payload["RowsToSkip"])
        same = payload["QueryHash"] == hashlib.sha256(query.encode()).hexdigest()[:16]
    except (ValueError, KeyError, TypeError):
        raise _bad_request(ctx, "InvalidSkipToken", "The skip token is not valid.") from None
    if not same or offset < 0:
        raise _bad_request(ctx, "InvalidSkipToken", "The skip token belongs to another query.")
    return offset


def _page(ctx: Context, body: dict[str, Any], rows: list[Row], query: str) -> Response:
    options = body.get("options") or {}
    top = options.get("$top")
    top = MAX_PAGE if top is None else top
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_PAGE:
        raise _bad_request(ctx, "InvalidTop", f"$top must be between 1 and {MAX_PAGE}.")
    skip = options.get("$skip") or 0
    scope = _scope(ctx, body)
    hidden = ctx.state.hidden_subscriptions()
    rows = [
        r for r in rows if r[1].lower() not in hidden and (scope is None or not r[1] or r[1].lower() in scope)
    ]
    rows.sort(key=lambda r: r[0].lower())
    offset = int(skip) + _offset(ctx, options.get("$skipToken"), query)
    page = [render() for _, _, render in rows[offset : offset + top]]
    answer: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(page),
        "data": page,
        "facets": [],
        "resultTruncated": "false",
    }
    if offset + top < len(rows):
        answer["$skipToken"] = _skip_token(offset + top, top, query)
    return Response(200, answer)


def fleet_query(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Charge the quota, then answer: the fleet queries here, the gateway's in `graph.graph_query`."""
    allowed, headers = ctx.state.graph_quota.charge()
    if not allowed:
        return Response(
            429,
            {
                "error": {
                    "code": "RateLimiting",
                    "message": "Please provide below info when asking for support: "
                    f"timestamp = {iso(ctx.now)}, correlationId = {ctx.new_guid()}.",
                    "details": [
                        {
                            "code": "RateLimiting",
                            "message": "Client application has been throttled and should not attempt "
                            "to repeat the request until an amount of time has elapsed. Please see "
                            "https://aka.ms/resourcegraph-throttling for help.",
                        }
                    ],
                }
            },
            headers,
        )
    body = req.json_object()
    query = " ".join(str(body.get("query") or "").split())
    table = TABLES.get(query)
    try:
        response = graph_query(ctx, req, p) if table is None else _page(ctx, body, table(ctx.state), query)
    except HttpError as exc:
        response = exc.response
    response.headers.update(headers)
    return response
