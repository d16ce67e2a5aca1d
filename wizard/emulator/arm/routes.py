"""The ARM route table: every method and path the emulator serves, the kind it is logged as, its handler."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.emulator.arm import (
    access_policies,
    activity,
    clusters,
    deleted_vaults,
    fleet_graph,
    groups,
    identities,
    keys,
    locks,
    operations,
    rbac,
    resource_health,
    subscriptions,
    vault_put,
    vaults,
)
from wizard.emulator.wire import Handler


@dataclass(frozen=True)
class Route:
    """One ARM route: a method on a path pattern, the kind it is logged and restricted as, its handler."""

    method: str
    path: str
    kind: str
    handler: Handler


_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourceGroups/(?P<rg>[^/]+)"
_AUTHORIZATION = r"(?P<scope>.*?)/providers/Microsoft\.Authorization"

ROLE_ASSIGNMENTS = _AUTHORIZATION + r"/roleAssignments"
ROLE_ASSIGNMENT = ROLE_ASSIGNMENTS + r"/(?P<name>[^/]+)"
LOCKS = _AUTHORIZATION + r"/locks"
LOCK = LOCKS + r"/(?P<name>[^/]+)"
ROLE_DEFINITIONS = _AUTHORIZATION + r"/roleDefinitions"
ROLE_DEFINITION = ROLE_DEFINITIONS + r"/(?P<guid>[^/]+)"
RESOURCE_GRAPH = r"/providers/Microsoft\.ResourceGraph/resources"
SUBSCRIPTION_CLUSTERS = _SUB + r"/providers/Microsoft\.DocumentDB/mongoClusters"
GROUP_CLUSTERS = _RG + r"/providers/Microsoft\.DocumentDB/mongoClusters"
CLUSTER = GROUP_CLUSTERS + r"/(?P<name>[^/]+)"
CLUSTER_HEALTH = CLUSTER + r"/providers/Microsoft\.ResourceHealth/availabilityStatuses/current"
OPERATION = (
    _SUB + r"/providers/Microsoft\.(?:DocumentDB|KeyVault)/locations/(?P<loc>[^/]+)/"
    r"(?P<what>mongoClusterOperationResults|mongoClusterAzureAsyncOperation|operationResults)/(?P<op>[^/]+)"
)
IDENTITY = _RG + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)"
SUBSCRIPTION_VAULTS = _SUB + r"/providers/Microsoft\.KeyVault/vaults"
GROUP_VAULTS = _RG + r"/providers/Microsoft\.KeyVault/vaults"
SUBSCRIPTION_RESOURCES = _SUB + r"/resources"
VAULT = GROUP_VAULTS + r"/(?P<name>[^/]+)"
ACCESS_POLICY_UPDATE = VAULT + r"/accessPolicies/(?P<kind>add|remove|replace)"
DELETED_VAULTS = _SUB + r"/providers/Microsoft\.KeyVault/deletedVaults"
DELETED_VAULT = (
    _SUB + r"/providers/Microsoft\.KeyVault/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)"
)
DELETED_VAULT_PURGE = DELETED_VAULT + r"/purge"
MGMT_KEYS = GROUP_VAULTS + r"/(?P<vault>[^/]+)/keys"
MGMT_KEY = MGMT_KEYS + r"/(?P<key>[^/]+)"
MGMT_KEY_VERSIONS = MGMT_KEY + r"/versions"
MGMT_KEY_VERSION = MGMT_KEY_VERSIONS + r"/(?P<ver>[^/]+)"
RESOURCE_GROUP = _RG
SUBSCRIPTIONS = r"/subscriptions"
ACTIVITY_LOG = _SUB + r"/providers/Microsoft\.Insights/eventtypes/management/values"

# The first path pattern (in this order) that matches a path answers it; a method it lacks is a 405.
ROUTES: tuple[Route, ...] = (
    Route("GET", ROLE_ASSIGNMENTS, "role-assignments", rbac.list_assignments),
    Route("GET", ROLE_ASSIGNMENT, "role-assignments", rbac.get_assignment),
    Route("PUT", ROLE_ASSIGNMENT, "role-assignments", rbac.put_assignment),
    Route("DELETE", ROLE_ASSIGNMENT, "role-assignments", rbac.delete_assignment),
    Route("GET", LOCKS, "locks", locks.list_locks),
    Route("GET", LOCK, "locks", locks.get_lock),
    Route("GET", ROLE_DEFINITIONS, "role-definitions", rbac.list_roles),
    Route("GET", ROLE_DEFINITION, "role-definitions", rbac.get_role),
    Route("POST", RESOURCE_GRAPH, "resource-graph", fleet_graph.fleet_query),
    Route("GET", SUBSCRIPTION_CLUSTERS, "clusters", clusters.list_clusters),
    Route("GET", GROUP_CLUSTERS, "clusters", clusters.list_clusters),
    Route("GET", CLUSTER, "clusters", clusters.get_cluster),
    Route("PUT", CLUSTER, "clusters", clusters.create_cluster),
    Route("PATCH", CLUSTER, "clusters", clusters.patch_cluster),
    Route("DELETE", CLUSTER, "clusters", clusters.delete_cluster),
    Route("GET", CLUSTER_HEALTH, "resource-health", resource_health.get_availability),
    Route("GET", OPERATION, "operations", operations.poll_operation),
    Route("GET", IDENTITY, "identities", identities.get_identity),
    Route("PUT", IDENTITY, "identities", identities.put_identity),
    Route("PATCH", IDENTITY, "identities", identities.patch_identity),
    Route("DELETE", IDENTITY, "identities", identities.delete_identity),
    Route("GET", SUBSCRIPTION_VAULTS, "vaults", vaults.list_vaults),
    Route("GET", GROUP_VAULTS, "vaults", vaults.list_vaults),
    Route("GET", SUBSCRIPTION_RESOURCES, "vaults", vaults.list_vault_resources),
    Route("GET", VAULT, "vaults", vaults.get_vault),
    Route("PATCH", VAULT, "vaults", vaults.patch_vault),
    Route("PUT", VAULT, "vaults", vault_put.put_vault),
    Route("DELETE", VAULT, "vaults", vaults.delete_vault),
    Route("PUT", ACCESS_POLICY_UPDATE, "vaults", access_policies.update_access_policy),
    Route("GET", DELETED_VAULTS, "deleted-vaults", deleted_vaults.list_deleted_vaults),
    Route("GET", DELETED_VAULT, "deleted-vaults", deleted_vaults.get_deleted_vault),
    Route("POST", DELETED_VAULT_PURGE, "deleted-vaults", deleted_vaults.purge_deleted_vault),
    Route("GET", MGMT_KEYS, "mgmt-keys", keys.list_mgmt_keys),
    Route("GET", MGMT_KEY, "mgmt-keys", keys.get_mgmt_key),
    Route("PUT", MGMT_KEY, "mgmt-keys", keys.put_mgmt_key),
    Route("GET", MGMT_KEY_VERSIONS, "mgmt-keys", keys.list_mgmt_key_versions),
    Route("GET", MGMT_KEY_VERSION, "mgmt-keys", keys.get_mgmt_key_version),
    Route("GET", ACTIVITY_LOG, "activity-log", activity.list_activity),
    Route("GET", RESOURCE_GROUP, "resource-groups", groups.get_group),
    Route("GET", SUBSCRIPTIONS, "subscriptions", subscriptions.list_subscriptions),
    Route("PUT", RESOURCE_GROUP, "resource-groups", groups.put_group),
)


def _by_path(routes: tuple[Route, ...]) -> list[tuple[re.Pattern[str], str, dict[str, Handler]]]:
    """The table grouped by path pattern, in first-seen order, each pattern anchored (trailing / optional)."""
    grouped: dict[str, tuple[str, dict[str, Handler]]] = {}
    for route in routes:
        grouped.setdefault(route.path, (route.kind, {}))[1][route.method] = route.handler
    return [
        (re.compile("^" + path + "/?$", re.I), kind, handlers) for path, (kind, handlers) in grouped.items()
    ]


_PATHS = _by_path(ROUTES)

ACTIONS = {
    "clusters": "Microsoft.DocumentDB/mongoClusters",
    "operations": "Microsoft.DocumentDB/locations/operationResults",
    "identities": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "vaults": "Microsoft.KeyVault/vaults",
    "deleted-vaults": "Microsoft.KeyVault/locations/deletedVaults",
    "mgmt-keys": "Microsoft.KeyVault/vaults/keys",
    "role-assignments": "Microsoft.Authorization/roleAssignments",
    "role-definitions": "Microsoft.Authorization/roleDefinitions",
    "locks": "Microsoft.Authorization/locks",
    "resource-groups": "Microsoft.Resources/subscriptions/resourceGroups",
    "subscriptions": "Microsoft.Resources/subscriptions",
    "resource-graph": "Microsoft.ResourceGraph/resources",
    "resource-health": "Microsoft.ResourceHealth/availabilityStatuses",
    "activity-log": "Microsoft.Insights/eventtypes/values",
}


def action_for(kind: str, method: str, path: str) -> str:
    """The ARM action a request needs, for AuthorizationFailed messages."""
    verb = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(method, "action")
    if path.lower().endswith("/purge"):
        verb = "purge/action"
    if "/accesspolicies/" in path.lower():
        return "Microsoft.KeyVault/vaults/accessPolicies/write"
    if kind == "resource-graph":
        return "Microsoft.ResourceGraph/resources/read"
    return f"{ACTIONS.get(kind, kind)}/{verb}"


def match(path: str) -> tuple[str, dict[str, Handler], dict[str, str]] | None:
    """The route kind, handlers by method, and path parameters for an ARM path."""
    for regex, kind, handlers in _PATHS:
        found = regex.match(path)
        if found:
            return kind, handlers, {k: v for k, v in found.groupdict().items() if v is not None}
    return None
