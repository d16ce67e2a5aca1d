"""Management-plane keys (Microsoft.KeyVault/vaults/keys): keys and versions, not behind the firewall.

As recorded (keyvault-mgmt/arm_keys_put_list_get_versions.json): PUT is a synchronous 200; the key
list shows only attributes and keyUri, the versions list attributes, keyUri and keyUriWithVersion;
GET of a key adds the default rotationPolicy (Notify 30 days before expiry), GET of a version does not.
"""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import live_vault, resource_not_found
from wizard.emulator.key_store import CURVE_BITS, KTYS, KeySpec, add_version, default_ops, default_size
from wizard.emulator.model import Key, KeyVersion, Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error

_ROTATION = {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}]}


def _key_attrs(version: KeyVersion, vault: Vault) -> dict[str, Any]:
    """A key version's attributes as the management plane shows them (no recoverableDays)."""
    attrs: dict[str, Any] = {"enabled": version.enabled}
    if version.not_before is not None:
        attrs["nbf"] = version.not_before
    if version.expires is not None:
        attrs["exp"] = version.expires
    attrs.update(
        {
            "created": version.created,
            "updated": version.updated,
            "recoveryLevel": vault.recovery_level,
            "exportable": False,
        }
    )
    return attrs


def mgmt_key_json(
    vault: Vault, key: Key, version: KeyVersion | None = None, *, listed: bool = False, rotation: bool = True
) -> dict[str, Any]:
    """A key (or one version) as the management plane returns it; `listed` is the list items' shape,
    `rotation` whether a key's GET shows its (default) rotationPolicy."""
    one = version or key.latest
    key_uri = f"https://{vault.name.lower()}.vault.azure.net/keys/{key.name}"
    base_id = f"{vault.id}/keys/{key.name}"
    props: dict[str, Any] = {"attributes": _key_attrs(one, vault)}
    if not listed:
        if version is None and rotation:
            props["rotationPolicy"] = _ROTATION
        props["kty"] = key.kty
        props["keyOps"] = list(one.key_ops)
        props.update({"curveName": key.curve} if key.curve else {"keySize": key.size})
    props["keyUri"] = key_uri
    if version is not None or not listed:
        props["keyUriWithVersion"] = f"{key_uri}/{one.version}"
    body: dict[str, Any] = {
        "id": f"{base_id}/versions/{one.version}" if version else base_id,
        "name": one.version if version else key.name,
        "type": "Microsoft.KeyVault/vaults/keys/versions" if version else "Microsoft.KeyVault/vaults/keys",
        "location": vault.location,
    }
    if one.tags:
        body["tags"] = dict(one.tags)
    body["properties"] = props
    return body


def _mgmt_key(ctx: Context, p: dict[str, str]) -> tuple[Vault, Key]:
    """The live vault and the (not deleted) key the path names (404 otherwise). Just after a
    recover the key is still 404 here for `key_lag_seconds`, as on the data plane (UNVERIFIED for
    the management plane: recorded on the data plane only; an ARM key GET right after a data-plane
    recover would settle it)."""
    vault = live_vault(ctx, p, "vault")
    key = vault.key(p["key"])
    if key is None or key.deleted_on is not None or ctx.now < key.settles_at:
        raise resource_not_found("Microsoft.KeyVault/vaults/keys", f"{vault.name}/keys/{p['key']}", p["rg"])
    return vault, key


def get_mgmt_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a key's current attributes (not subject to the vault firewall)."""
    vault, key = _mgmt_key(ctx, p)
    return Response(200, mgmt_key_json(vault, key))


def put_mgmt_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: creates the key's first version (200); an existing key is returned as it is, unchanged
    (the documented Keys_CreateIfNotExist); a soft-deleted name is 409 (UNVERIFIED wording)."""
    vault = live_vault(ctx, p, "vault")
    key = vault.key(p["key"])
    if key is not None and key.deleted_on is None:
        return Response(200, mgmt_key_json(vault, key, rotation=False))
    if key is not None:
        raise HttpError(
            arm_error(409, "Conflict", f"The key '{p['key']}' is soft-deleted: recover or purge it.")
        )
    body = req.json_object()
    props: dict[str, Any] = body["properties"] if isinstance(body.get("properties"), dict) else {}
    kty = next((k for k in KTYS if k.lower() == str(props.get("kty") or "").lower()), None)
    if kty is None:
        raise HttpError(arm_error(400, "BadRequest", f"properties.kty must be one of {', '.join(KTYS)}."))
    curve = str(props.get("curveName") or "P-256") if kty.startswith("EC") else None
    if curve is not None and curve not in CURVE_BITS:
        raise HttpError(arm_error(400, "BadRequest", f"Unknown curveName '{curve}'."))
    attrs: dict[str, Any] = props["attributes"] if isinstance(props.get("attributes"), dict) else {}
    ops = props.get("keyOps")
    spec = KeySpec(
        kty,
        int(props.get("keySize") or default_size(kty, curve)),
        curve,
        [str(op) for op in ops] if isinstance(ops, list) else default_ops(kty),
        bool(attrs.get("enabled", True)),
        attrs.get("nbf"),
        attrs.get("exp"),
        {str(k): str(v) for k, v in (body.get("tags") or {}).items()},
    )
    key, _ = add_version(vault, p["key"], spec, ctx.new_token(), int(ctx.now))
    return Response(200, mgmt_key_json(vault, key, rotation=False))


def list_mgmt_keys(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List a vault's (not deleted) keys: attributes and keyUri only."""
    vault = live_vault(ctx, p, "vault")
    keys = [k for k in vault.keys.values() if k.deleted_on is None]
    return Response(200, {"value": [mgmt_key_json(vault, k, listed=True) for k in keys]})


def list_mgmt_key_versions(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List a key's versions: attributes, keyUri and keyUriWithVersion."""
    vault, key = _mgmt_key(ctx, p)
    return Response(200, {"value": [mgmt_key_json(vault, key, v, listed=True) for v in key.versions]})


def get_mgmt_key_version(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET one key version."""
    vault, key = _mgmt_key(ctx, p)
    version = key.version(p["ver"])
    if version is None:
        raise resource_not_found(
            "Microsoft.KeyVault/vaults/keys/versions", f"{key.name}/versions/{p['ver']}", p["rg"]
        )
    return Response(200, mgmt_key_json(vault, key, version))
