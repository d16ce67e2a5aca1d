"""A mongoCluster's JSON in the shape of the api-version asked for, and in its current state."""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import system_data
from wizard.emulator.model import SECONDS_PER_DAY, Cluster
from wizard.emulator.wire import iso

FIRST_CURRENT_API = "2024-07-01"
"""The first api-version with the current shape (administrator, compute, storage, sharding, ...).
2024-03-01-preview is recorded in the older shape (administratorLogin, nodeGroupSpecs) and
2026-02-01-preview in the current one; UNVERIFIED which version between them switched (a GET with
2024-06-01-preview would settle it): the emulator takes the GA version 2024-07-01."""


def _states(cluster: Cluster) -> tuple[str, str]:
    """(provisioningState, clusterStatus): an operation's while it runs, else the cluster's own."""
    return cluster.transition or (cluster.provisioning_state, cluster.status)


def _legacy_properties(cluster: Cluster) -> dict[str, Any]:
    """The properties of api-versions before 2024-07-01 (recorded with 2024-03-01-preview)."""
    provisioning, status = _states(cluster)
    return {
        "provisioningState": provisioning,
        "clusterStatus": status,
        "administratorLogin": "mongoAdmin",
        "serverVersion": "7.0",
        "nodeGroupSpecs": [
            {"name": "", "kind": "Shard", "sku": "M30", "diskSizeGB": 128, "enableHa": False, "nodeCount": 1}
        ],
        "connectionString": f"mongodb+srv://<user>:<password>@{cluster.name}.mongocluster.cosmos.azure.com",
        "privateEndpointConnections": [],
        "publicNetworkAccess": "Enabled",
    }


def _properties(cluster: Cluster) -> dict[str, Any]:
    """The current properties (recorded with 2026-02-01-preview; no previewFeatures key), CMK included."""
    provisioning, status = _states(cluster)
    props: dict[str, Any] = {
        "provisioningState": provisioning,
        "clusterStatus": status,
        "administrator": {"userName": "mongoAdmin"},
        "serverVersion": "7.0",
        "compute": {"tier": "M30"},
        "storage": {"sizeGb": 128, "type": "PremiumSSD"},
        "sharding": {"shardCount": 1},
        "highAvailability": {"targetMode": "Disabled"},
        "connectionString": f"mongodb+srv://<user>:<password>@{cluster.name}.mongocluster.cosmos.azure.com",
        "backup": {"earliestRestoreTime": iso(cluster.created + SECONDS_PER_DAY)},
        "privateEndpointConnections": [],
        "publicNetworkAccess": "Enabled",
        "replica": {"role": cluster.replica_role, "replicationState": "Active"},
        "infrastructureVersion": "2.0",
        "dataApi": {"mode": "Disabled"},
        "authConfig": {"allowedModes": ["NativeAuth"]},
        "createMode": "Default",
    }
    if cluster.key_url:
        props["encryption"] = {
            "customerManagedKeyEncryption": {
                "keyEncryptionKeyIdentity": {
                    "identityType": "UserAssignedIdentity",
                    "userAssignedIdentityResourceId": cluster.key_identity_id,
                },
                "keyEncryptionKeyUrl": cluster.key_url,
            }
        }
    return props


def cluster_json(cluster: Cluster, api_version: str | None = None) -> dict[str, Any]:
    """A mongoCluster as GET returns it for that api-version (the current shape when none is given)."""
    legacy = bool(api_version) and str(api_version) < FIRST_CURRENT_API
    body: dict[str, Any] = {
        "id": cluster.id,
        "name": cluster.name,
        "type": "Microsoft.DocumentDB/mongoClusters",
        "location": cluster.location,
        "tags": dict(cluster.tags),
        "systemData": system_data(cluster.created),
        "properties": _legacy_properties(cluster) if legacy else _properties(cluster),
    }
    if legacy:
        return body
    if cluster.identities:
        body["identity"] = {
            "type": cluster.identity_type,
            "userAssignedIdentities": {
                a.identity_id: {"principalId": a.principal_id, "clientId": a.client_id}
                for a in cluster.identities
            },
        }
    else:
        body["identity"] = {"type": "None"}
    return body
