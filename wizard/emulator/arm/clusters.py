"""mongoClusters: GET, list, PUT (create), PATCH (identities and CMK settings) and DELETE, as LROs.

As recorded (`mongoclusters/*`): create is 201, PATCH and DELETE are 202, each WITH the resource in
the body (InProgress/Provisioning, Updating/Updating, Dropping/Dropping) and with Azure-AsyncOperation
and Location but no Retry-After; deleting a cluster that does not exist is 204.
"""

from __future__ import annotations

from wizard.emulator.arm.cluster_json import cluster_json
from wizard.emulator.arm.cluster_update import plan_update
from wizard.emulator.arm.common import (
    check_resource_group,
    check_subscription,
    in_path_subscription,
    resource_not_found,
)
from wizard.emulator.arm.lro import cluster_operation_urls, start_operation
from wizard.emulator.model import Cluster, rid
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error

__all__ = ["cluster_json", "create_cluster", "delete_cluster", "find_cluster", "get_cluster", "patch_cluster"]


def _cluster_id(p: dict[str, str]) -> str:
    return rid(p["sub"], p["rg"], "Microsoft.DocumentDB/mongoClusters", p["name"])


def find_cluster(ctx: Context, p: dict[str, str]) -> Cluster:
    """The cluster the path names (404 for a missing subscription, group or cluster)."""
    check_resource_group(ctx, p["sub"], p["rg"])
    cluster = ctx.state.cluster(_cluster_id(p))
    if cluster is None:
        raise resource_not_found("Microsoft.DocumentDB/mongoClusters", p["name"], p["rg"])
    return cluster


def get_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a mongoCluster, in the shape of the request's api-version."""
    return Response(200, cluster_json(find_cluster(ctx, p), req.query.get("api-version")))


def list_clusters(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List mongoClusters in the subscription or one resource group (one page: no nextLink key)."""
    check_subscription(ctx, p["sub"])
    if p.get("rg"):
        check_resource_group(ctx, p["sub"], p["rg"])
    rg = (p.get("rg") or "").lower()
    return Response(
        200,
        {
            "value": [
                cluster_json(c, req.query.get("api-version"))
                for c in ctx.state.clusters
                if in_path_subscription(c.subscription_id, p) and (not rg or c.resource_group.lower() == rg)
            ]
        },
    )


def _accepted(
    ctx: Context, req: Request, status: int, kind: str, cluster: Cluster, error: dict[str, str] | None = None
) -> Response:
    """The accepting answer of a cluster operation: the cluster as it now shows, and the polling URLs."""
    body = cluster_json(cluster, req.query.get("api-version"))
    op = start_operation(ctx, kind, cluster.id, error, snapshot=body)
    return Response(
        status, body, cluster_operation_urls(ctx, op, cluster.location, req.query.get("api-version"))
    )


def create_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT a new cluster (201): InProgress/Provisioning until its operation ends, then Succeeded/Ready,
    or Failed for good (it never came up) when the identity or key it names cannot be used."""
    sub = check_resource_group(ctx, p["sub"], p["rg"])
    if ctx.state.cluster(_cluster_id(p)) is not None:
        raise HttpError(
            arm_error(
                400,
                "NotSupportedByEmulator",
                "The emulator creates clusters with PUT; change an existing one with PATCH.",
            )
        )
    body = req.json_object()
    location = str(body.get("location") or "")
    if not location:
        raise HttpError(
            arm_error(400, "LocationRequired", "The location property is required for this definition.")
        )
    tags = body.get("tags") if isinstance(body.get("tags"), dict) else {}
    fresh = Cluster(
        p["name"],
        sub,
        p["rg"],
        location,
        provisioning_state="InProgress",
        status="Provisioning",
        came_up=False,
        identities=[],
        identity_type="None",
        tags={str(k): str(v) for k, v in (tags or {}).items()},
        created=int(ctx.now),
    )
    planned = plan_update(ctx, fresh, {k: v for k, v in body.items() if k != "tags"})
    cluster = planned if isinstance(planned, Cluster) else fresh
    cluster.transition = ("InProgress", "Provisioning")
    ctx.state.clusters.append(cluster)
    return _accepted(ctx, req, 201, "create", cluster, None if isinstance(planned, Cluster) else planned)


def patch_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH (202, Updating/Updating until its operation ends): all of it applies, or none of it.

    A change the service cannot carry out (an identity that does not exist, a key it cannot reach or
    use) is accepted and then fails asynchronously: the operation ends `Failed` with an error, the
    cluster's provisioningState becomes `Failed`, and the running cluster keeps its clusterStatus.
    The emulator settles the outcome at once and shows it when the operation ends.
    """
    cluster = find_cluster(ctx, p)
    planned = plan_update(ctx, cluster, req.json_object())
    error = None if isinstance(planned, Cluster) else planned
    if isinstance(planned, Cluster):
        cluster.identities, cluster.identity_type = planned.identities, planned.identity_type
        cluster.key_url, cluster.key_identity_id = planned.key_url, planned.key_identity_id
        cluster.tags = planned.tags
        if cluster.came_up:
            cluster.provisioning_state = "Succeeded"
    else:
        cluster.provisioning_state = "Failed"
    cluster.transition = ("Updating", "Updating")
    return _accepted(ctx, req, 202, "update", cluster, error)


def delete_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE (202 with the cluster Dropping/Dropping): the cluster is gone at once; 204 if it was."""
    check_resource_group(ctx, p["sub"], p["rg"])
    cluster = ctx.state.cluster(_cluster_id(p))
    if cluster is None:
        return Response(204)
    ctx.state.clusters = [c for c in ctx.state.clusters if c is not cluster]
    cluster.transition = ("Dropping", "Dropping")
    return _accepted(ctx, req, 202, "delete", cluster)
