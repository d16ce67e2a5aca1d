"""The polling URLs of cluster and vault long-running operations (Location and Azure-AsyncOperation)."""

from __future__ import annotations

from wizard.emulator.arm.clusters import cluster_json
from wizard.emulator.arm.common import poll
from wizard.emulator.wire import Context, Request, Response, iso


def poll_operation(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Azure-AsyncOperation and Location URLs of cluster and vault LROs.

    A failed operation's status is `Failed` with its `error {code, message}` (ARM's async-operation
    contract); its Location URL answers the error itself (400 with the error body).
    """
    op, done = poll(ctx, p["op"])
    failed = done and op.error is not None
    if p["what"].lower() == "mongoclusteroperationresults":
        if not done:
            return Response(202, None, {"Location": f"{ctx.arm_endpoint}{req.path}?api-version=2026-06-01"})
        if failed:
            return Response(400, {"error": dict(op.error or {})})
        cluster = ctx.state.cluster(op.resource_id)
        if op.kind == "update" and cluster is not None:
            return Response(200, cluster_json(cluster))
        return Response(204)
    status = "Failed" if failed else "Succeeded" if done else "InProgress"
    return Response(
        200,
        {
            "id": req.path,
            "name": op.op_id,
            "status": status,
            "startTime": iso(ctx.now),
            **({"endTime": iso(ctx.now)} if done else {}),
            **({"error": dict(op.error or {})} if failed else {}),
        },
    )
