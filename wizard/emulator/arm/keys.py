"""Management-plane keys (Microsoft.KeyVault/vaults/keys): keys and versions, not behind the firewall."""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import resource_not_found
from wizard.emulator.arm.vaults import live_vault
from wizard.emulator.model import Key, KeyVersion, Vault
from wizard.emulator.wire import Context, Request, Response


def _key_attrs(version: KeyVersion, vault: Vault) -> dict[str, Any]:
    """A key version's attributes as the management plane shows them."""
    attrs: dict[str, Any] = {
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": _recovery_level(vault),
        "exportable": False,
    }
    if version.not_before is not None:
        attrs["nbf"] = version.not_before
    if version.expires is not None:
        attrs["exp"] = version.expires
    return attrs


def _recovery_level(vault: Vault) -> str:
    """The recoveryLevel the vault's soft-delete and purge-protection settings give its keys."""
    if not vault.soft_delete:
        return "Purgeable"
    return "Recoverable" if vault.purge_protection else "Recoverable+Purgeable"


def mgmt_key_json(vault: Vault, key: Key, version: KeyVersion | None = None) -> dict[str, Any]:
    """A key (or one version) as the management plane returns it."""
    one = version or key.latest
    key_uri = f"https://{vault.name}.vault.azure.net/keys/{key.name}"
    base_id = f"{vault.id}/keys/{key.name}"
    return {
        "id": f"{base_id}/versions/{one.version}" if version else base_id,
        "name": one.version if version else key.name,
        "type": "Microsoft.KeyVault/vaults/keys/versions" if version else "Microsoft.KeyVault/vaults/keys",
        "location": vault.location,
        "tags": dict(one.tags),
        "properties": {
            "attributes": _key_attrs(one, vault),
            "kty": key.kty,
            **({"curveName": key.curve} if key.curve else {"keySize": key.size}),
            "keyOps": list(one.key_ops),
            "keyUri": key_uri,
            "keyUriWithVersion": f"{key_uri}/{one.version}",
        },
    }


def _mgmt_key(ctx: Context, p: dict[str, str]) -> tuple[Vault, Key]:
    """The live vault and the (not deleted) key the path names (404 otherwise)."""
    vault = live_vault(ctx, p, "vault")
    key = vault.key(p["key"])
    if key is None or key.deleted_on is not None:
        raise resource_not_found("Microsoft.KeyVault/vaults/keys", f"{vault.name}/keys/{p['key']}", p["rg"])
    return vault, key


def get_mgmt_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a key's current attributes (not subject to the vault firewall)."""
    vault, key = _mgmt_key(ctx, p)
    return Response(200, mgmt_key_json(vault, key))


def list_mgmt_keys(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List a vault's (not deleted) keys."""
    vault = live_vault(ctx, p, "vault")
    return Response(
        200, {"value": [mgmt_key_json(vault, k) for k in vault.keys.values() if k.deleted_on is None]}
    )


def list_mgmt_key_versions(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List a key's versions."""
    vault, key = _mgmt_key(ctx, p)
    return Response(200, {"value": [mgmt_key_json(vault, key, v) for v in key.versions]})


def get_mgmt_key_version(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET one key version."""
    vault, key = _mgmt_key(ctx, p)
    version = key.version(p["ver"])
    if version is None:
        raise resource_not_found(
            "Microsoft.KeyVault/vaults/keys/versions", f"{key.name}/versions/{p['ver']}", p["rg"]
        )
    return Response(200, mgmt_key_json(vault, key, version))
