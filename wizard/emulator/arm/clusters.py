"""mongoClusters: GET, list, PATCH (identities and CMK settings) and DELETE, both LROs."""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.cluster_update import plan_update
from wizard.emulator.arm.common import (
    check_resource_group,
    check_subscription,
    in_path_subscription,
    resource_not_found,
    start_operation,
    system_data,
)
from wizard.emulator.model import SECONDS_PER_DAY, Cluster
from wizard.emulator.wire import Context, Request, Response, iso


def cluster_json(cluster: Cluster) -> dict[str, Any]:
    """A mongoCluster as GET returns it (the 2026-06-01 shape, CMK fields included)."""
    props: dict[str, Any] = {
        "provisioningState": cluster.provisioning_state,
        "clusterStatus": cluster.status,
        "administrator": {"userName": "mongoAdmin"},
        "authConfig": {"allowedModes": ["NativeAuth"]},
        "serverVersion": "7.0",
        "storage": {"sizeGb": 128, "type": "PremiumSSD"},
        "compute": {"tier": "M30"},
        "sharding": {"shardCount": 1},
        "highAvailability": {"targetMode": "Disabled"},
        "backup": {"earliestRestoreTime": iso(cluster.created + SECONDS_PER_DAY)},
        "privateEndpointConnections": [],
        "previewFeatures": [],
        "infrastructureVersion": "2.0",
        "publicNetworkAccess": "Enabled",
        "connectionString": f"mongodb+srv://<user>:<password>@{cluster.name}.mongocluster.cosmos.azure.com",
        "replica": {"replicationState": "Active", "role": cluster.replica_role},
        "dataApi": {"mode": "Disabled"},
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
    body: dict[str, Any] = {
        "id": cluster.id,
        "name": cluster.name,
        "type": "Microsoft.DocumentDB/mongoClusters",
        "location": cluster.location,
        "tags": dict(cluster.tags),
        "systemData": system_data(cluster.created),
        "properties": props,
    }
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


def find_cluster(ctx: Context, p: dict[str, str]) -> Cluster:
    """The cluster the path names (404 for a missing subscription, group or cluster)."""
    check_resource_group(ctx, p["sub"], p["rg"])
    cluster = ctx.state.cluster(
        f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/"
        f"Microsoft.DocumentDB/mongoClusters/{p['name']}"
    )
    if cluster is None:
        raise resource_not_found("Microsoft.DocumentDB/mongoClusters", p["name"], p["rg"])
    return cluster


def get_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a mongoCluster."""
    return Response(200, cluster_json(find_cluster(ctx, p)))


def list_clusters(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List mongoClusters in the subscription or one resource group."""
    check_subscription(ctx, p["sub"])
    if p.get("rg"):
        check_resource_group(ctx, p["sub"], p["rg"])
    rg = (p.get("rg") or "").lower()
    return Response(
        200,
        {
            "value": [
                cluster_json(c)
                for c in ctx.state.clusters
                if in_path_subscription(c.subscription_id, p) and (not rg or c.resource_group.lower() == rg)
            ]
        },
    )


def _accepted(ctx: Context, kind: str, cluster: Cluster, error: dict[str, str] | None = None) -> Response:
    """202 with the operation's Location and Azure-AsyncOperation URLs, as the DocumentDB RP answers."""
    op_id = start_operation(ctx, kind, cluster.id, error)
    base = (
        f"{ctx.arm_endpoint}/subscriptions/{cluster.subscription_id}/providers/Microsoft.DocumentDB/"
        f"locations/{cluster.location}"
    )
    return Response(
        202,
        None,
        {
            "Location": f"{base}/mongoClusterOperationResults/{op_id}?api-version=2026-06-01",
            "Azure-AsyncOperation": f"{base}/mongoClusterAzureAsyncOperation/{op_id}?api-version=2026-06-01",
            "Retry-After": "1",
        },
    )


def patch_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH (LRO, 202): all of it applies, or the operation fails and none of it does.

    A change the service cannot carry out (an identity that does not exist, a key it cannot reach or
    use) is accepted and then fails asynchronously: the operation ends `Failed` with an error, the
    cluster's provisioningState becomes `Failed`, and the running cluster keeps its clusterStatus.
    The emulator settles the outcome at once; the operation reports InProgress once, then it.
    """
    cluster = find_cluster(ctx, p)
    body = req.json_object()
    planned = plan_update(ctx, cluster, body)
    if isinstance(planned, Cluster):
        cluster.identities, cluster.identity_type = planned.identities, planned.identity_type
        cluster.key_url, cluster.key_identity_id = planned.key_url, planned.key_identity_id
        cluster.tags = planned.tags
        if cluster.came_up:
            cluster.provisioning_state = "Succeeded"
        return _accepted(ctx, "update", cluster)
    cluster.provisioning_state = "Failed"
    return _accepted(ctx, "update", cluster, planned)


def delete_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE (LRO, 202): the cluster is gone at once; polls report InProgress once, then done."""
    cluster = find_cluster(ctx, p)
    ctx.state.clusters = [c for c in ctx.state.clusters if c is not cluster]
    return _accepted(ctx, "delete", cluster)
