"""What every ARM resource family shares: scope checks, not-found bodies, systemData, LRO bookkeeping."""

from __future__ import annotations

from typing import Any

from wizard.emulator.model import Vault
from wizard.emulator.wire import Context, HttpError, arm_error, iso

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
    """ARM's 404 ResourceNotFound for a resource of a type under a resource group.

    For a top-level type (a vault, a cluster, an identity) the ARM gateway answers it, and says so:
    `x-ms-failure-cause: gateway` (recorded for vaults and clusters; UNVERIFIED for identities).
    """
    gateway = {"x-ms-failure-cause": "gateway"} if kind.count("/") == 1 else {}
    return HttpError(
        arm_error(
            404,
            "ResourceNotFound",
            f"The Resource '{kind}/{name}' under resource group '{rg}' was not found. For more "
            "details please go to https://aka.ms/ARMResourceNotFoundFix",
            gateway,
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


def live_vault(ctx: Context, p: dict[str, str], name_key: str = "name") -> Vault:
    """The live vault the path names, in the path's subscription and group (404 otherwise)."""
    check_resource_group(ctx, p["sub"], p["rg"])
    vault = ctx.state.live_vault(p[name_key])
    if (
        vault is None
        or vault.resource_group.lower() != p["rg"].lower()
        or not in_path_subscription(vault.subscription_id, p)
    ):
        raise resource_not_found("Microsoft.KeyVault/vaults", p[name_key], p["rg"])
    return vault
