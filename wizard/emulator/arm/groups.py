"""Resource groups (2025-04-01): GET one, PUT to create it again. Deleting a group is how vaults often
end up soft-deleted; a deleted group (estate `resourceGroups: [{name, deleted: true}]`) is 404
ResourceGroupNotFound until it is created again, and nothing can be recovered into it before."""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import check_subscription
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error


def group_json(sub: str, name: str, location: str) -> dict[str, Any]:
    """A resource group as ResourceGroups_Get returns it."""
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


def _location(ctx: Context, sub: str, rg: str) -> str:
    """Where a group is: the location of the first resource in it, else the estate's default."""
    for resources in (ctx.state.clusters, ctx.state.identities, ctx.state.vaults):
        for r in resources:
            if r.subscription_id.lower() == sub.lower() and r.resource_group.lower() == rg.lower():
                return r.location
    return ctx.state.group_locations.get((sub.lower(), rg.lower()), "westus2")


def get_group(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """200 with the group, or 404 ResourceGroupNotFound (a deleted or never made group)."""
    sub = check_subscription(ctx, p["sub"])
    if p["rg"].lower() not in ctx.state.resource_groups(sub):
        raise HttpError(
            arm_error(404, "ResourceGroupNotFound", f"Resource group '{p['rg']}' could not be found.")
        )
    return Response(200, group_json(sub, p["rg"], _location(ctx, sub, p["rg"])))


def put_group(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Create (201) or update (200) a group; a location is required."""
    sub = check_subscription(ctx, p["sub"])
    location = str(req.json_object().get("location") or "")
    if not location:
        raise HttpError(
            arm_error(400, "LocationRequired", "The location property is required for this definition.")
        )
    existed = p["rg"].lower() in ctx.state.resource_groups(sub)
    ctx.state.deleted_groups.discard((sub.lower(), p["rg"].lower()))
    if not existed:
        ctx.state.groups.append((sub, p["rg"]))
        ctx.state.group_locations[(sub.lower(), p["rg"].lower())] = location
    return Response(200 if existed else 201, group_json(sub, p["rg"], _location(ctx, sub, p["rg"])))
