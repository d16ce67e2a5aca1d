"""What every ARM resource family shares: scope checks, not-found bodies, systemData, LRO bookkeeping."""

from __future__ import annotations

from typing import Any

from wizard.emulator.wire import Context, HttpError, Operation, arm_error, iso

_SYSTEM_USER = "operator@emulator.local"


def system_data(created: float, updated: float | None = None) -> dict[str, Any]:
    """The systemData block ARM adds to resources the operator created."""
    return {
        "createdBy": _SYSTEM_USER,
        "createdByType": "User",
        "createdAt": iso(created),
        "lastModifiedBy": _SYSTEM_USER,
        "lastModifiedByType": "User",
        "lastModifiedAt": iso(updated or created),
    }


def resource_not_found(kind: str, name: str, rg: str) -> HttpError:
    """ARM's 404 ResourceNotFound for a resource of a type under a resource group."""
    return HttpError(
        arm_error(
            404,
            "ResourceNotFound",
            f"The Resource '{kind}/{name}' under resource group '{rg}' was not found. For more "
            "details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    )


def check_subscription(ctx: Context, sub: str) -> str:
    """The estate's spelling of the subscription in the path; one it does not have does not exist."""
    known = ctx.state.subscription(sub)
    if known is None:
        raise HttpError(
            arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        )
    return known


def check_resource_group(ctx: Context, sub: str, rg: str) -> str:
    """A resource group no resource of that subscription uses does not exist (ARM says so first)."""
    known = check_subscription(ctx, sub)
    if rg.lower() not in ctx.state.resource_groups(known):
        raise HttpError(arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found."))
    return known


def in_path_subscription(resource_sub: str, p: dict[str, str]) -> bool:
    """Whether a resource lives in the subscription of the request path."""
    return resource_sub.lower() == p["sub"].lower()


def start_operation(ctx: Context, kind: str, resource_id: str, error: dict[str, str] | None = None) -> str:
    """Register a long-running operation on a resource (failing with `error`, if given); its id goes
    into the polling URLs."""
    op_id = ctx.new_guid()
    ctx.operations[op_id] = Operation(op_id, kind, resource_id, error=error)
    return op_id


def poll(ctx: Context, op_id: str) -> tuple[Operation, bool]:
    """Count one poll of an operation: InProgress on the first, done on every later one."""
    op = ctx.operations.get(op_id)
    if op is None:
        raise HttpError(arm_error(404, "OperationNotFound", f"The operation '{op_id}' was not found."))
    op.polls += 1
    return op, op.polls > 1
