"""Key Vault vaults: their JSON, GET, list, PATCH and DELETE (soft); PUT is in `vault_put`.

Recorded (keyvault-mgmt/*): PATCH and DELETE are synchronous 200s (DELETE with no body); a vault's
properties leave out enableRbacAuthorization, enablePurgeProtection and networkAcls when never set
(the emulator: when false or absent) and carry no privateEndpointConnections when there are none; a
new vault is RegisteringDns on its PUT and its first GET, then Succeeded.
"""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.arm.access_policies import parse_policy, policy_json
from wizard.emulator.arm.common import (
    check_resource_group,
    check_subscription,
    in_path_subscription,
    live_vault,
    system_data,
)
from wizard.emulator.arm.lro import poll
from wizard.emulator.arm.paging import paged
from wizard.emulator.model import NetworkAcls, Vault
from wizard.emulator.network import normalize_ip_rule
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error


def vault_json(vault: Vault) -> dict[str, Any]:
    """A vault as Vaults_Get returns it."""
    props: dict[str, Any] = {
        "tenantId": vault.tenant_id,
        "sku": {"family": "A", "name": vault.sku},
        "accessPolicies": [policy_json(p) for p in vault.access_policies],
        "vaultUri": vault.uri,
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": vault.soft_delete,
        "softDeleteRetentionInDays": vault.retention_days,
        "provisioningState": "RegisteringDns" if vault.registering else "Succeeded",
        "publicNetworkAccess": vault.public_network_access,
    }
    if vault.rbac:
        props["enableRbacAuthorization"] = True
    if vault.purge_protection:
        props["enablePurgeProtection"] = True
    if vault.network_acls is not None:
        acls = vault.network_acls
        props["networkAcls"] = {
            "bypass": acls.bypass,
            "defaultAction": acls.default_action,
            "ipRules": [{"value": ip} for ip in acls.ip_rules],
            "virtualNetworkRules": [
                {"id": v, "ignoreMissingVnetServiceEndpoint": False} for v in acls.virtual_network_rules
            ],
        }
    return {
        "id": vault.id,
        "name": vault.name,
        "type": "Microsoft.KeyVault/vaults",
        "location": vault.location,
        "tags": dict(vault.tags),
        "systemData": system_data(vault.created),
        "properties": props,
    }


def _vaults_in(ctx: Context, p: dict[str, str]) -> list[Vault]:
    """The live vaults of the path's subscription (and resource group, if the path names one)."""
    if p.get("rg"):
        check_resource_group(ctx, p["sub"], p["rg"])
    else:
        check_subscription(ctx, p["sub"])
    rg = (p.get("rg") or "").lower()
    return [
        v
        for v in ctx.state.vaults
        if v.live
        and in_path_subscription(v.subscription_id, p)
        and (not rg or v.resource_group.lower() == rg)
    ]


def list_vaults(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The live vaults of the path's subscription or group (ARM is consistent at once, unlike the
    graph), paged by nextLink."""
    return Response(200, paged(ctx, req, _vaults_in(ctx, p), "vaults", vault_json))


def list_vault_resources(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """`vaults.list`: the generic resources list, answered only for the vault type filter it sends."""
    wanted = req.query.get("$filter", "")
    if not re.match(r"^\s*resourceType\s+eq\s+'Microsoft\.KeyVault/vaults'\s*$", wanted, re.I):
        raise HttpError(
            arm_error(
                400,
                "NotSupportedByEmulator",
                f"The emulator lists resources only with $filter=resourceType eq "
                f"'Microsoft.KeyVault/vaults', not {wanted!r}.",
            )
        )

    def row(v: Vault) -> dict[str, Any]:
        return {
            "id": v.id,
            "name": v.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": v.location,
            "tags": dict(v.tags),
        }

    return Response(200, paged(ctx, req, _vaults_in(ctx, p), "vaults", row))


def get_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a live vault (404 when soft-deleted or purged); a new vault's GET polls its DNS registration."""
    vault = live_vault(ctx, p)
    if vault.registering:
        poll(ctx, vault.registering)
    return Response(200, vault_json(vault))


def _bool(value: Any, field: str) -> bool:
    """A boolean property, or 400 naming the field."""
    if not isinstance(value, bool):
        raise HttpError(arm_error(400, "BadRequest", f"Invalid value for '{field}': expected a boolean."))
    return value


def apply_properties(vault: Vault, props: dict[str, Any]) -> None:
    """Merge PATCH/PUT properties; networkAcls replaces the whole rule set, as ARM does."""
    if "enableRbacAuthorization" in props and props["enableRbacAuthorization"] is not None:
        vault.rbac = _bool(props["enableRbacAuthorization"], "enableRbacAuthorization")
    if props.get("enablePurgeProtection") is not None:
        wanted = _bool(props["enablePurgeProtection"], "enablePurgeProtection")
        if vault.purge_protection and not wanted:
            raise HttpError(
                arm_error(400, "BadRequest", "Once purge protection is enabled it cannot be disabled.")
            )
        vault.purge_protection = wanted
    if props.get("enableSoftDelete") is False and vault.soft_delete:
        raise HttpError(arm_error(400, "BadRequest", "Soft delete cannot be disabled once it is enabled."))
    if props.get("publicNetworkAccess") is not None:
        value = str(props["publicNetworkAccess"])
        if value.lower() not in ("enabled", "disabled"):
            raise HttpError(arm_error(400, "BadRequest", f"Invalid publicNetworkAccess '{value}'."))
        vault.public_network_access = "Enabled" if value.lower() == "enabled" else "Disabled"
    if isinstance(props.get("networkAcls"), dict):
        acls = props["networkAcls"]
        default_action = str(acls.get("defaultAction") or "Allow")
        bypass = str(acls.get("bypass") or "AzureServices")
        if default_action.lower() not in ("allow", "deny") or bypass.lower() not in ("azureservices", "none"):
            raise HttpError(
                arm_error(
                    400,
                    "BadRequest",
                    "Invalid networkAcls: defaultAction must be Allow or Deny "
                    "and bypass AzureServices or None.",
                )
            )
        vault.network_acls = NetworkAcls(
            "Allow" if default_action.lower() == "allow" else "Deny",
            "AzureServices" if bypass.lower() == "azureservices" else "None",
            [
                normalize_ip_rule(str(r.get("value")))
                for r in acls.get("ipRules") or []
                if isinstance(r, dict)
            ],
            [str(r.get("id")) for r in acls.get("virtualNetworkRules") or [] if isinstance(r, dict)],
        )
    if isinstance(props.get("accessPolicies"), list):
        vault.access_policies = [parse_policy(p) for p in props["accessPolicies"]]
    if isinstance(props.get("sku"), dict) and props["sku"].get("name"):
        vault.sku = str(props["sku"]["name"]).lower()


def patch_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH a vault (synchronous 200)."""
    vault = live_vault(ctx, p)
    body = req.json_object()
    apply_properties(vault, body.get("properties") or {})
    if isinstance(body.get("tags"), dict):
        vault.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return Response(200, vault_json(vault))


def delete_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE soft-deletes (role assignments at or below the vault are dropped)."""
    vault = live_vault(ctx, p)
    ctx.state.soft_delete_vault(vault.name, int(ctx.now))
    return Response(200)
