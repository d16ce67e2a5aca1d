"""The polling URLs of cluster operations (Azure-AsyncOperation and Location) and vault purges."""

from __future__ import annotations

from wizard.emulator.arm.cluster_json import cluster_json
from wizard.emulator.arm.lro import cluster_operation_urls, poll, status_body
from wizard.emulator.wire import Context, Request, Response


def poll_operation(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Azure-AsyncOperation: 200 with the status body; Location: 202 until done, then the result.

    Every answer carries fresh polling URLs, as recorded. A failed operation's status is `Failed`
    with its `error {code, message}` (ARM's async-operation contract); its Location URL answers the
    error itself (400). A finished update's Location answers the cluster as the PATCH's 202 showed
    it, still Updating: the stale read recorded in
    mongoclusters/patch_202_2026-02-01-preview_poll_then_operationresults.json.
    """
    op = poll(ctx, p["op"])
    api_version = req.query.get("api-version")
    urls = cluster_operation_urls(ctx, op, p["loc"], api_version)
    if p["what"].lower() != "mongoclusteroperationresults":
        return Response(200, status_body(ctx, op, req.path), urls)
    if not op.done:
        return Response(202, None, urls)
    if op.error is not None:
        return Response(400, {"error": dict(op.error)}, urls)
    if op.kind == "update" and op.snapshot is not None:
        return Response(200, op.snapshot, urls)
    cluster = ctx.state.cluster(op.resource_id)
    if op.kind == "create" and cluster is not None:
        return Response(200, cluster_json(cluster, api_version), urls)
    return Response(204, None, urls)
