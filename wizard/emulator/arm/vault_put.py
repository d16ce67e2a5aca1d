"""PUT on a vault: create, update, or recover a soft-deleted one; every outcome a synchronous 200.

Recorded (keyvault-mgmt/vault_create_put_200_registeringdns_then_poll_get.json and
keyvault-mgmt/vault_networkacls_delete_404_then_recover_createmode.json):
- create is 200 with provisioningState RegisteringDns and no LRO headers (the SDK polls GETs of the
  vault until Succeeded); its answer shows vaultUri as given, without the trailing slash;
- `createMode: recover` is 200 Succeeded at once, the tags becoming the request's (none: {});
- a PUT without createMode on a soft-deleted name recovered it (200, its original createdAt).
UNVERIFIED: that an explicit `createMode: default` on a soft-deleted name is 409 ConflictError (what
`az keyvault create` is reported to show; a recording of that PUT would settle it), and that a vault
created without enableRbacAuthorization uses access policies with the newest api-versions.
"""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.arm.common import check_resource_group, in_path_subscription
from wizard.emulator.arm.lro import start_operation
from wizard.emulator.arm.vaults import apply_properties, vault_json
from wizard.emulator.model import Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error

_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")


def _tags(body: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (body.get("tags") or {}).items()}


def _fail(status: int, code: str, message: str) -> HttpError:
    return HttpError(arm_error(status, code, message))


def _recover(ctx: Context, vault: Vault, p: dict[str, str], body: dict[str, Any]) -> Response:
    """createMode recover: the soft-deleted vault is back at once, with the request's tags."""
    if vault.live:
        raise _fail(
            400, "BadRequest", f"Vault '{p['name']}' is not in a deleted state; there is nothing to recover."
        )
    if vault.resource_group.lower() != p["rg"].lower():
        raise _fail(
            400,
            "BadRequest",
            f"The deleted vault '{p['name']}' belonged to resource group '{vault.resource_group}'.",
        )
    vault.deleted_on = None
    vault.data_plane_from = ctx.now + ctx.state.vault_recover_lag_seconds
    vault.tags = _tags(body)
    return Response(200, vault_json(vault))


def _create(ctx: Context, p: dict[str, str], sub: str, body: dict[str, Any]) -> Response:
    """A new vault: RegisteringDns until its first GET has been answered, with its own data-plane port."""
    props = body.get("properties") or {}
    location = str(body.get("location") or "")
    if not location:
        raise _fail(400, "LocationRequired", "The location property is required for this definition.")
    if not _VAULT_NAME.match(p["name"]):
        raise _fail(400, "VaultNameNotValid", f"The vault name '{p['name']}' is not valid.")
    retention = props.get("softDeleteRetentionInDays", 90)
    if isinstance(retention, bool) or not isinstance(retention, int) or not 7 <= retention <= 90:
        raise _fail(400, "BadRequest", "softDeleteRetentionInDays must be from 7 to 90.")
    vault = Vault(
        p["name"],
        sub,
        p["rg"],
        location,
        str(props.get("tenantId") or ctx.state.tenant_id),
        rbac=False,
        retention_days=retention,
        purge_protection=False,
        tags=_tags(body),
        created=int(ctx.now),
    )
    apply_properties(vault, props)
    vault.registering = start_operation(ctx, "dns", vault.id).op_id
    ctx.state.vaults.append(vault)
    ctx.open_vault(vault.name)
    answer = vault_json(vault)
    answer["properties"]["vaultUri"] = f"https://{vault.name}.vault.azure.net"
    return Response(200, answer)


def put_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: create, update, or recover (explicitly or, without createMode, implicitly)."""
    sub = check_resource_group(ctx, p["sub"], p["rg"])
    body = req.json_object()
    props = body.get("properties") or {}
    mode = str(props.get("createMode") or "").lower()
    vault = ctx.state.vault(p["name"])
    elsewhere = vault is not None and (
        not in_path_subscription(vault.subscription_id, p) or vault.resource_group.lower() != p["rg"].lower()
    )
    if mode == "recover":
        if vault is None or not in_path_subscription(vault.subscription_id, p):
            raise _fail(
                404,
                "DeletedVaultNotFound",
                f"No deleted vault named '{p['name']}' was found in subscription '{p['sub']}'.",
            )
        return _recover(ctx, vault, p, body)
    if vault is None:
        return _create(ctx, p, sub, body)
    if elsewhere:
        raise _fail(
            409,
            "VaultAlreadyExists",
            f"The vault name '{p['name']}' is already in use (vault names are global).",
        )
    if not vault.live:
        if mode == "default":
            raise _fail(
                409,
                "ConflictError",
                f"Vault name '{p['name']}' is already in use. The vault is in a soft-deleted "
                "state: recover it (createMode recover) or purge it before reusing the name.",
            )
        vault.deleted_on = None
        vault.data_plane_from = ctx.now + ctx.state.vault_recover_lag_seconds
    apply_properties(vault, props)
    if isinstance(body.get("tags"), dict):
        vault.tags = _tags(body)
    return Response(200, vault_json(vault))
