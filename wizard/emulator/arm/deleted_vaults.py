"""Soft-deleted vaults: GET by location and name, list per subscription, and purge (always refused)."""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import check_subscription
from wizard.emulator.model import SECONDS_PER_DAY, Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error, iso


def deleted_vault_json(vault: Vault) -> dict[str, Any]:
    """A soft-deleted vault as Vaults_GetDeleted returns it."""
    deleted = vault.deleted_on or 0
    return {
        "id": f"/subscriptions/{vault.subscription_id}/providers/Microsoft.KeyVault/locations/"
        f"{vault.location}/"
        f"deletedVaults/{vault.name}",
        "name": vault.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault.id,
            "location": vault.location,
            "deletionDate": iso(deleted),
            "scheduledPurgeDate": iso(deleted + vault.retention_days * SECONDS_PER_DAY),
            "purgeProtectionEnabled": vault.purge_protection,
            "tags": dict(vault.tags),
        },
    }


def get_deleted_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a soft-deleted vault by name and location, in the path's subscription only."""
    check_subscription(ctx, p["sub"])
    vault = ctx.state.vault(p["name"])
    if (
        vault is None
        or vault.live
        or vault.location.lower() != p["loc"].lower()
        or p["sub"].lower() != vault.subscription_id.lower()
    ):
        raise HttpError(
            arm_error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.KeyVault/locations/{p['loc']}/deletedVaults/{p['name']}' "
                "was not found.",
            )
        )
    return Response(200, deleted_vault_json(vault))


def list_deleted_vaults(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List the subscription's soft-deleted vaults (those of other subscriptions are not listed)."""
    check_subscription(ctx, p["sub"])
    return Response(
        200,
        {
            "value": [
                deleted_vault_json(v)
                for v in ctx.state.vaults
                if not v.live and v.subscription_id.lower() == p["sub"].lower()
            ]
        },
    )


def purge_deleted_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Purge is refused: the product must never purge (the request is still logged)."""
    return arm_error(
        405, "MethodNotAllowed", "The emulator refuses to purge: cmk-wizard never purges vaults."
    )
