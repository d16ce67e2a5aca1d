"""The fleet scan's Resource Graph queries: one per table, each paged, projected to what the scan reads.

The emulator answers these texts (it keeps a deliberate copy, since it imports nothing of ours:
`wizard/emulator/arm/fleet_graph.py`); change both together. Every query is ordered by a unique
column, as Resource Graph needs for stable `$skipToken` paging.
"""

from __future__ import annotations

CLUSTERS = (
    "resources"
    " | where type =~ 'microsoft.documentdb/mongoclusters'"
    " | project id, name, type, location, resourceGroup, subscriptionId, tenantId, identity, properties"
    " | order by id asc"
)
"""Every DocumentDB cluster, CMK or not: the whole properties bag (status, encryption, replica)."""

DEPENDENCIES = (
    "resources"
    " | where type in~ ('microsoft.keyvault/vaults', 'microsoft.managedidentity/userassignedidentities')"
    " | project id, name, type, location, resourceGroup, subscriptionId, tenantId, properties"
    " | order by id asc"
)
"""Vaults (network rules, access policies, protection) and identities (principal ids) in one query."""

ROLE_ASSIGNMENTS = (
    "authorizationresources"
    " | where type =~ 'microsoft.authorization/roleassignments'"
    " | extend principalType = tostring(properties.principalType)"
    " | where principalType in~ ('ServicePrincipal', 'Group')"
    " | project id, subscriptionId, scope = tostring(properties.scope),"
    " roleDefinitionId = tostring(properties.roleDefinitionId),"
    " principalId = tostring(properties.principalId), principalType"
    " | order by id asc"
)
"""Assignments a managed identity can hold (directly, or through a group)."""

ROLE_DEFINITIONS = (
    "authorizationresources"
    " | where type =~ 'microsoft.authorization/roledefinitions'"
    " | where tostring(properties.type) =~ 'CustomRole'"
    " | project id, name, subscriptionId, properties"
    " | order by id asc"
)
"""Custom roles, whose data actions say whether they cover wrap and unwrap."""

SUBSCRIPTIONS = (
    "resourcecontainers"
    " | where type =~ 'microsoft.resources/subscriptions'"
    " | project subscriptionId, name"
    " | order by subscriptionId asc"
)
"""Every subscription in sight: what `--subscription` is checked against, and where deleted vaults
are looked for."""

PAGE_ROWS = 1000
"""Resource Graph's largest page."""
