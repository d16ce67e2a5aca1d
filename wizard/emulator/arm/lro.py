"""Long-running operations: when one is done, what its end changes, and the URLs clients poll.

An operation is InProgress until it is done: with `State.operation_seconds` 0 (the default) after
its first poll (the next one sees the end), otherwise once that many seconds have passed by the
emulator's clock. A cluster operation is polled on its Azure-AsyncOperation (or Location) URL; a
vault that registers its DNS name is "polled" by GETs of the vault, as the SDK does. Every ARM request
first settles the operations whose time is up.
"""

from __future__ import annotations

from typing import Any

from wizard.emulator.wire import Context, HttpError, Operation, arm_error, spaced

DEFAULT_API = "2026-06-01"


def start_operation(
    ctx: Context,
    kind: str,
    resource_id: str,
    error: dict[str, str] | None = None,
    snapshot: dict[str, Any] | None = None,
) -> Operation:
    """Register an operation on a resource (failing with `error`, if given), started now."""
    op = Operation(ctx.new_guid(), kind, resource_id, ctx.now, error=error, snapshot=snapshot)
    ctx.operations[op.op_id] = op
    return op


def finished(ctx: Context, op: Operation) -> bool:
    """Whether the operation is done; the first time it is, its end is carried out."""
    if not op.done:
        seconds = ctx.state.operation_seconds
        op.done = op.polls > 1 if seconds <= 0 else ctx.now - op.started >= seconds
        if op.done:
            _end(ctx, op)
    return op.done


def settle(ctx: Context) -> None:
    """Finish every operation whose time is up (called before each ARM request is answered)."""
    for op in list(ctx.operations.values()):
        finished(ctx, op)


def poll(ctx: Context, op_id: str) -> Operation:
    """Count one poll of an operation (404 OperationNotFound for an id the emulator never gave)."""
    op = ctx.operations.get(op_id)
    if op is None:
        raise HttpError(arm_error(404, "OperationNotFound", f"The operation '{op_id}' was not found."))
    op.polls += 1
    finished(ctx, op)
    return op


def _end(ctx: Context, op: Operation) -> None:
    """What the end of an operation changes: a created cluster comes up (or never does), a cluster
    leaves its Updating state, a new vault's DNS name is registered."""
    if op.kind == "dns":
        vault = next((v for v in ctx.state.vaults if v.id.lower() == op.resource_id.lower()), None)
        if vault is not None and vault.registering == op.op_id:
            vault.registering = None
        return
    cluster = ctx.state.cluster(op.resource_id)
    if cluster is None:
        return
    cluster.transition = None
    if op.kind == "create":
        cluster.came_up = op.error is None
        cluster.provisioning_state = "Succeeded" if op.error is None else "Failed"
        cluster.status = "Ready" if op.error is None else "Failed"


def status_body(ctx: Context, op: Operation, path: str) -> dict[str, Any]:
    """An Azure-AsyncOperation body as the DocumentDB RP writes it: {id, name, status, startTime}
    (no endTime, no percentComplete; `YYYY-MM-DD hh:mm:ss +0000` dates), plus `error` if it failed."""
    failed = op.done and op.error is not None
    body: dict[str, Any] = {
        "id": path,
        "name": op.op_id,
        "status": "Failed" if failed else "Succeeded" if op.done else "InProgress",
        "startTime": spaced(op.started),
    }
    if failed:
        body["error"] = dict(op.error or {})
    return body


def cluster_operation_urls(
    ctx: Context, op: Operation, location: str, api_version: str | None
) -> dict[str, str]:
    """Azure-AsyncOperation and Location of a cluster operation; no Retry-After (none is recorded, so
    clients wait their own polling interval)."""
    sub = op.resource_id.split("/")[2]
    base = f"{ctx.arm_endpoint}/subscriptions/{sub}/providers/Microsoft.DocumentDB/locations/{location}"
    query = f"?api-version={api_version or DEFAULT_API}"
    return {
        "Azure-AsyncOperation": f"{base}/mongoClusterAzureAsyncOperation/{op.op_id}{query}",
        "Location": f"{base}/mongoClusterOperationResults/{op.op_id}{query}",
    }
