"""Resource Graph for the fleet scan: its queries, paged by `$skipToken`, and the quota on every query.

Every Resource Graph POST comes here first: the quota window is charged (a spent window, or the
throttling fault, is a 429 with the quota headers and no Retry-After), then the fleet queries are
answered here and any other query by `graph.graph_query`, with the quota headers added; both
are paged by `graph.page` (one paging for every query).

The query texts are the scan's own, DUPLICATED ON PURPOSE (the emulator imports nothing of the
wizard's): `wizard/azure/fleet_queries.py` holds the originals, and a test sends those through the
real SDK, so a change on one side that the other lacks fails there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from wizard.emulator.arm.clusters import cluster_json
from wizard.emulator.arm.graph import Row, graph_query, page
from wizard.emulator.arm.identities import identity_json
from wizard.emulator.arm.rbac import role_json
from wizard.emulator.arm.vaults import vault_json
from wizard.emulator.model import Cluster, Identity, RoleAssignment, RoleDefinition, State, Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, iso

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
        response = graph_query(ctx, req, p) if table is None else page(ctx, body, table(ctx.state), query)
    except HttpError as exc:
        response = exc.response
    response.headers.update(headers)
    return response
