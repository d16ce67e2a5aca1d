"""mongoClusters: GET, list, PATCH (identities and CMK settings) and DELETE, both LROs."""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import (
    check_resource_group,
    check_subscription,
    in_path_subscription,
    resource_not_found,
    start_operation,
    system_data,
)
from wizard.emulator.health import parse_key_url
from wizard.emulator.model import SECONDS_PER_DAY, Attached, Cluster
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error, iso


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


def _cluster(ctx: Context, p: dict[str, str]) -> Cluster:
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
    return Response(200, cluster_json(_cluster(ctx, p)))


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


def _accepted(ctx: Context, kind: str, cluster: Cluster) -> Response:
    """202 with the operation's Location and Azure-AsyncOperation URLs, as the DocumentDB RP answers."""
    op_id = start_operation(ctx, kind, cluster.id)
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
    """PATCH (LRO, 202): merge identities (existing ones stick even on failure), replace CMK settings."""
    cluster = _cluster(ctx, p)
    body = req.json_object()
    problems: list[tuple[str, str]] = []
    identity = body.get("identity")
    if isinstance(identity, dict):
        for ident_id, value in (identity.get("userAssignedIdentities") or {}).items():
            if value is None:
                cluster.identities = [
                    a for a in cluster.identities if a.identity_id.lower() != ident_id.lower()
                ]
                continue
            found = ctx.state.identity(ident_id)
            if found is None:
                problems.append(
                    (
                        "InvalidUserAssignedIdentity",
                        f"The user-assigned identity '{ident_id}' was not found or is not valid.",
                    )
                )
                continue
            current = cluster.attached(found.id)
            if current is None:
                cluster.identities.append(Attached(found.id, found.principal_id, found.client_id))
            else:
                current.principal_id, current.client_id = found.principal_id, found.client_id
        if identity.get("type"):
            cluster.identity_type = str(identity["type"])
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    cmk = ((props or {}).get("encryption") or {}).get("customerManagedKeyEncryption")
    if isinstance(cmk, dict) and not problems:
        kek = cmk.get("keyEncryptionKeyIdentity") or {}
        kek_id = str(kek.get("userAssignedIdentityResourceId") or cluster.key_identity_id or "")
        url = str(cmk.get("keyEncryptionKeyUrl") or cluster.key_url or "")
        parsed = parse_key_url(url)
        vault = ctx.state.live_vault(parsed[0]) if parsed else None
        key = vault.key(parsed[1]) if vault is not None and parsed else None
        if cluster.attached(kek_id) is None or ctx.state.identity(kek_id) is None:
            problems.append(
                (
                    "InvalidKeyEncryptionKeyIdentity",
                    f"The key encryption identity '{kek_id}' must be a valid user-assigned identity "
                    "of the cluster.",
                )
            )
        elif parsed is None or key is None or key.deleted_on is not None:
            problems.append(
                (
                    "InvalidKeyEncryptionKeyUrl",
                    f"The key '{url}' could not be found. It might be missing, or the vault might not exist.",
                )
            )
        else:
            cluster.key_url, cluster.key_identity_id = url, kek_id
    if isinstance(body.get("tags"), dict):
        cluster.tags = {str(k): str(v) for k, v in body["tags"].items()}
    if problems:
        code, message = problems[0]
        raise HttpError(arm_error(400, code, message))
    return _accepted(ctx, "update", cluster)


def delete_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE (LRO, 202): the cluster is gone at once; polls report InProgress once, then done."""
    cluster = _cluster(ctx, p)
    ctx.state.clusters = [c for c in ctx.state.clusters if c is not cluster]
    return _accepted(ctx, "delete", cluster)
