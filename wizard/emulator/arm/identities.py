"""userAssignedIdentities: GET, PUT (create or update), PATCH and DELETE, as the MSI RP answers them.

Recorded (msi/user_assigned_identity_put_201_get_patch_delete.json, 2024-11-30): create is a
synchronous 201 with a RELATIVE Location (lower-case `resourcegroups`), PATCH a 200, DELETE a 200
with no body; properties are tenantId, principalId, clientId and isolationScope only.
"""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.arm.common import check_resource_group, resource_not_found
from wizard.emulator.model import Identity
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error


def identity_json(identity: Identity) -> dict[str, Any]:
    """An identity as the MSI RP returns it."""
    return {
        "id": identity.id,
        "name": identity.name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": identity.location,
        "tags": dict(identity.tags),
        "properties": {
            "tenantId": identity.tenant_id,
            "principalId": identity.principal_id,
            "clientId": identity.client_id,
            "isolationScope": "None",
        },
    }


def _identity_id(p: dict[str, str]) -> str:
    """The ARM id of the identity the path names."""
    return (
        f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{p['name']}"
    )


def get_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET an identity (404 ResourceNotFound once deleted)."""
    check_resource_group(ctx, p["sub"], p["rg"])
    identity = ctx.state.identity(_identity_id(p))
    if identity is None:
        raise resource_not_found("Microsoft.ManagedIdentity/userAssignedIdentities", p["name"], p["rg"])
    return Response(200, identity_json(identity))


def put_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: create (201, a brand-new principal) or update tags/location (200)."""
    sub = check_resource_group(ctx, p["sub"], p["rg"])
    body = req.json_object()
    identity = ctx.state.identity(_identity_id(p))
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$", p["name"]):
        raise HttpError(arm_error(400, "InvalidResourceName", f"Resource name '{p['name']}' is invalid."))
    tags = {str(k): str(v) for k, v in (body.get("tags") or {}).items()}
    if identity is not None:
        identity.tags = tags or identity.tags
        return Response(200, identity_json(identity))
    location = str(body.get("location") or "")
    if not location:
        raise HttpError(
            arm_error(400, "LocationRequired", "The location property is required for this definition.")
        )
    identity = Identity(
        p["name"],
        sub,
        p["rg"],
        location,
        ctx.state.tenant_id,
        ctx.new_guid(),
        ctx.new_guid(),
        tags,
    )
    ctx.state.identities.append(identity)
    location = (
        f"/subscriptions/{identity.subscription_id}/resourcegroups/{identity.resource_group}/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{identity.name}"
    )
    return Response(201, identity_json(identity), {"Location": location})


def patch_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH an identity's tags (200); the principal never changes."""
    check_resource_group(ctx, p["sub"], p["rg"])
    identity = ctx.state.identity(_identity_id(p))
    if identity is None:
        raise resource_not_found("Microsoft.ManagedIdentity/userAssignedIdentities", p["name"], p["rg"])
    tags = req.json_object().get("tags")
    if isinstance(tags, dict):
        identity.tags = {str(k): str(v) for k, v in tags.items()}
    return Response(200, identity_json(identity))


def delete_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE an identity (its role assignments stay, orphaned)."""
    identity = ctx.state.identity(_identity_id(p))
    if identity is None:
        return Response(204)
    ctx.state.identities.remove(identity)
    return Response(200)
