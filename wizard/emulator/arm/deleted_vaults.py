"""Soft-deleted vaults: GET by location and name, list per subscription, and purge (always refused).

Recorded (keyvault-mgmt/deletedvaults_list_paged.json, .../vault_delete_sync_then_deletedvault_get_...):
the subscription-wide list pages with `nextLink` (`%24skiptoken`) after EVERY non-empty page, so it
ends with an empty page `{"value": []}` without nextLink; the properties carry no purge-protection
flag for vaults without purge protection (UNVERIFIED that it shows `purgeProtectionEnabled: true`
for vaults with it, as the spec's example does: a recording of one would settle it).
"""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import check_subscription
from wizard.emulator.arm.paging import page_size
from wizard.emulator.model import SECONDS_PER_DAY, Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error, iso

PAGE = 6
"""Deleted vaults per page of the subscription-wide list, as recorded (the service's own limit is
UNVERIFIED: it may depend on how many regions hold deleted vaults)."""


def deleted_vault_json(vault: Vault) -> dict[str, Any]:
    """A soft-deleted vault as Vaults_GetDeleted returns it."""
    deleted = vault.deleted_on or 0
    body: dict[str, Any] = {
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
            "tags": dict(vault.tags),
        },
    }
    if vault.purge_protection:
        body["properties"]["purgeProtectionEnabled"] = True
    return body


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
    """List the subscription's soft-deleted vaults (not other subscriptions'), PAGE at a time
    unless the estate's `paging.deletedVaults` says otherwise."""
    sub = check_subscription(ctx, p["sub"])
    token = req.query.get("$skiptoken") or "0"
    if not token.isdigit():
        raise HttpError(arm_error(400, "InvalidSkipToken", "The $skiptoken is not valid."))
    start = int(token)
    deleted = [v for v in ctx.state.vaults if not v.live and v.subscription_id.lower() == p["sub"].lower()]
    size = page_size(ctx, "deleted_vaults", PAGE)
    page = deleted[start : start + size]
    body: dict[str, Any] = {"value": [deleted_vault_json(v) for v in page]}
    if page:
        body["nextLink"] = (
            f"{ctx.arm_endpoint}/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults"
            f"?api-version={req.query.get('api-version', '2026-05-15')}&%24skiptoken={start + len(page)}"
        )
    return Response(200, body)


def purge_deleted_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Purge is refused: the product must never purge (the request is still logged)."""
    return arm_error(
        405, "MethodNotAllowed", "The emulator refuses to purge: cmk-wizard never purges vaults."
    )
