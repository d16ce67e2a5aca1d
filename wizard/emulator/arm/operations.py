"""The polling URLs of cluster and vault long-running operations (Location and Azure-AsyncOperation)."""

from __future__ import annotations

from wizard.emulator.arm.clusters import cluster_json
from wizard.emulator.arm.common import poll
from wizard.emulator.wire import Context, Request, Response, iso


def poll_operation(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Azure-AsyncOperation and Location URLs of cluster and vault LROs."""
    op, done = poll(ctx, p["op"])
    if p["what"].lower() == "mongoclusteroperationresults":
        if not done:
            return Response(202, None, {"Location": f"{ctx.arm_endpoint}{req.path}?api-version=2026-06-01"})
        cluster = ctx.state.cluster(op.resource_id)
        if op.kind == "update" and cluster is not None:
            return Response(200, cluster_json(cluster))
        return Response(204)
    return Response(
        200,
        {
            "id": req.path,
            "name": op.op_id,
            "status": "Succeeded" if done else "InProgress",
            "startTime": iso(ctx.now),
            **({"endTime": iso(ctx.now)} if done else {}),
        },
    )
