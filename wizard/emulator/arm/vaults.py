"""Key Vault vaults: GET, list, PATCH, PUT (update or recover), DELETE (soft) and access policies."""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.arm.common import (
    check_resource_group,
    check_subscription,
    in_path_subscription,
    resource_not_found,
    start_operation,
    system_data,
)
from wizard.emulator.model import AccessPolicy, NetworkAcls, Vault
from wizard.emulator.network import normalize_ip_rule
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error


def _policy_json(policy: AccessPolicy) -> dict[str, Any]:
    """An access policy entry as Vaults_Get lists it."""
    return {
        "tenantId": policy.tenant_id,
        "objectId": policy.object_id,
        "permissions": {
            "keys": list(policy.keys),
            "secrets": list(policy.secrets),
            "certificates": list(policy.certificates),
        },
    }


def vault_json(vault: Vault) -> dict[str, Any]:
    """A vault as Vaults_Get returns it."""
    props: dict[str, Any] = {
        "tenantId": vault.tenant_id,
        "sku": {"family": "A", "name": vault.sku},
        "accessPolicies": [_policy_json(p) for p in vault.access_policies],
        "vaultUri": vault.uri,
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": vault.soft_delete,
        "softDeleteRetentionInDays": vault.retention_days,
        "enableRbacAuthorization": vault.rbac,
        "provisioningState": "Succeeded",
        "publicNetworkAccess": vault.public_network_access,
        "privateEndpointConnections": [],
    }
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
    """The live vaults of the path's subscription or group (ARM is consistent at once, unlike the graph)."""
    return Response(200, {"value": [vault_json(v) for v in _vaults_in(ctx, p)]})


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
    rows = [
        {
            "id": v.id,
            "name": v.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": v.location,
            "tags": dict(v.tags),
        }
        for v in _vaults_in(ctx, p)
    ]
    return Response(200, {"value": rows})


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


def get_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a live vault (404 when soft-deleted or purged)."""
    return Response(200, vault_json(live_vault(ctx, p)))


def _bool(value: Any, field: str) -> bool:
    """A boolean property, or 400 naming the field."""
    if not isinstance(value, bool):
        raise HttpError(arm_error(400, "BadRequest", f"Invalid value for '{field}': expected a boolean."))
    return value


def _apply_properties(vault: Vault, props: dict[str, Any]) -> None:
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
        vault.access_policies = [_parse_policy(p) for p in props["accessPolicies"]]
    if isinstance(props.get("sku"), dict) and props["sku"].get("name"):
        vault.sku = str(props["sku"]["name"]).lower()


def _parse_policy(raw: Any) -> AccessPolicy:
    """An access policy entry from a request body (400 without an objectId)."""
    if not isinstance(raw, dict) or not raw.get("objectId"):
        raise HttpError(arm_error(400, "BadRequest", "Each access policy needs an objectId and permissions."))
    perms = raw.get("permissions") or {}
    return AccessPolicy(
        str(raw.get("tenantId") or ""),
        str(raw["objectId"]),
        [str(x) for x in perms.get("keys") or []],
        [str(x) for x in perms.get("secrets") or []],
        [str(x) for x in perms.get("certificates") or []],
    )


def patch_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH a vault (synchronous 200)."""
    vault = live_vault(ctx, p)
    body = req.json_object()
    _apply_properties(vault, body.get("properties") or {})
    if isinstance(body.get("tags"), dict):
        vault.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return Response(200, vault_json(vault))


def put_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: `createMode: recover` brings a soft-deleted vault back (201 + Azure-AsyncOperation)."""
    check_resource_group(ctx, p["sub"], p["rg"])
    body = req.json_object()
    props = body.get("properties") or {}
    vault = ctx.state.vault(p["name"])
    recover = str(props.get("createMode") or "").lower() == "recover"
    if vault is not None and not in_path_subscription(vault.subscription_id, p) and (recover or vault.live):
        raise HttpError(
            arm_error(
                404 if recover else 409,
                "DeletedVaultNotFound" if recover else "VaultAlreadyExists",
                f"No deleted vault named '{p['name']}' was found in subscription '{p['sub']}'."
                if recover
                else f"The vault name '{p['name']}' is already in use (vault names are global).",
            )
        )
    if recover:
        if vault is None or vault.live:
            raise HttpError(
                arm_error(
                    400 if vault is not None else 404,
                    "BadRequest" if vault is not None else "DeletedVaultNotFound",
                    f"Vault '{p['name']}' is not in a deleted state; there is nothing to recover."
                    if vault is not None
                    else f"No deleted vault named '{p['name']}' was found.",
                )
            )
        if vault.resource_group.lower() != p["rg"].lower():
            raise HttpError(
                arm_error(
                    400,
                    "BadRequest",
                    f"The deleted vault '{p['name']}' belonged to resource group '{vault.resource_group}'.",
                )
            )
        vault.deleted_on = None
        op_id = start_operation(ctx, "recover", vault.id)
        body_out = vault_json(vault)
        body_out["properties"]["provisioningState"] = "RegisteringDns"
        return Response(
            201,
            body_out,
            {
                "Azure-AsyncOperation": f"{ctx.arm_endpoint}/subscriptions/{vault.subscription_id}/providers/"
                f"Microsoft.KeyVault/locations/{vault.location}/operationResults/{op_id}"
                "?api-version=2026-05-15"
            },
        )
    if vault is not None and not vault.live:
        raise HttpError(
            arm_error(
                409,
                "ConflictError",
                f"Vault name '{p['name']}' is already in use. The vault is in a soft-deleted "
                "state: recover it (createMode recover) or purge it before reusing the name.",
            )
        )
    if vault is None:
        raise HttpError(
            arm_error(
                400,
                "NotSupportedByEmulator",
                "The emulator only updates or recovers vaults; it cannot create new ones "
                "(each vault needs a data-plane listener fixed at start-up).",
            )
        )
    _apply_properties(vault, props)
    if isinstance(body.get("tags"), dict):
        vault.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return Response(200, vault_json(vault))


def delete_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE soft-deletes (role assignments at or below the vault are dropped)."""
    vault = live_vault(ctx, p)
    ctx.state.soft_delete_vault(vault.name, int(ctx.now))
    return Response(200)


def update_access_policy(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT accessPolicies/{add|remove|replace}: add merges per objectId, remove subtracts."""
    vault = live_vault(ctx, p)
    kind = p["kind"].lower()
    entries = (req.json_object().get("properties") or {}).get("accessPolicies")
    if not isinstance(entries, list):
        raise HttpError(arm_error(400, "BadRequest", "properties.accessPolicies is required."))
    for entry in (_parse_policy(e) for e in entries):
        current = next(
            (x for x in vault.access_policies if x.object_id.lower() == entry.object_id.lower()), None
        )
        if kind == "replace" or current is None:
            if kind == "remove":
                continue
            if current is not None:
                vault.access_policies.remove(current)
            entry.tenant_id = entry.tenant_id or vault.tenant_id
            vault.access_policies.append(entry)
            continue
        for attr in ("keys", "secrets", "certificates"):
            have: list[str] = getattr(current, attr)
            given = [x for x in getattr(entry, attr)]
            if kind == "add":
                have += [x for x in given if x.lower() not in {h.lower() for h in have}]
            else:
                setattr(current, attr, [h for h in have if h.lower() not in {g.lower() for g in given}])
        if not (current.keys or current.secrets or current.certificates):
            vault.access_policies.remove(current)
    return Response(
        200,
        {
            "id": f"{vault.id}/accessPolicies/{kind}",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": {"accessPolicies": [_policy_json(x) for x in vault.access_policies]},
        },
    )
