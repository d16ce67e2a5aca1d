"""Key Vault data plane (one listener per vault): keys, versions, deleted keys, recover; real error bodies."""

from __future__ import annotations

import base64
import re
from typing import Any

from wizard.emulator import crypto
from wizard.emulator.model import SECONDS_PER_DAY, Key, KeyVersion, Vault
from wizard.emulator.wire import Context, Handler, HttpError, Request, Response, kv_error

_HELP_NOT_FOUND = "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"


def _recovery(vault: Vault) -> tuple[str, int]:
    if not vault.soft_delete:
        return "Purgeable", 0
    return ("Recoverable" if vault.purge_protection else "Recoverable+Purgeable"), vault.retention_days


def key_bundle(ctx: Context, vault: Vault, key: Key, version: KeyVersion) -> dict[str, Any]:
    """A KeyBundle; `kid` uses the vault's LOCAL endpoint, since KeyClient checks it against its own URL."""
    level, days = _recovery(vault)
    attrs: dict[str, Any] = {
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": level,
        "exportable": False,
    }
    if days:
        attrs["recoverableDays"] = days
    if version.not_before is not None:
        attrs["nbf"] = version.not_before
    if version.expires is not None:
        attrs["exp"] = version.expires
    jwk: dict[str, Any] = {
        "kid": f"{ctx.vault_endpoint(vault.name)}/keys/{key.name}/{version.version}",
        "kty": key.kty,
        "key_ops": list(version.key_ops),
    }
    if key.kty.upper().startswith("RSA"):
        jwk.update({"n": key.modulus, "e": "AQAB"})
    elif key.curve:
        x = base64.urlsafe_b64decode(key.modulus + "=" * (-len(key.modulus) % 4))
        y = base64.urlsafe_b64encode(x[::-1]).decode().rstrip("=")
        jwk.update({"crv": key.curve, "x": key.modulus, "y": y})
    return {"key": jwk, "attributes": attrs, "tags": dict(version.tags)}


def _key_not_found(name: str) -> HttpError:
    return HttpError(
        kv_error(
            404,
            "KeyNotFound",
            f"A key with (name/id) {name} was not found in this key vault. If you recently "
            "deleted this key you may be able to recover it using the correct recovery command. "
            + _HELP_NOT_FOUND,
        )
    )


def _live_key(vault: Vault, name: str, version: str | None) -> tuple[Key, KeyVersion]:
    key = vault.key(name)
    if key is None or key.deleted_on is not None:
        raise _key_not_found(name)
    found = key.version(version)
    if found is None:
        raise _key_not_found(f"{name}/{version}")
    return key, found


def _vault(ctx: Context, req: Request) -> Vault:
    vault = ctx.state.live_vault(req.host)
    if vault is None:
        raise HttpError(
            kv_error(404, "VaultNotFound", f"The vault '{req.host}' does not exist or is soft-deleted.")
        )
    return vault


def get_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET /keys/{name}[/] (latest) or /keys/{name}/{version}; a disabled key is 200 with enabled false.

    Evidence: keyvault-data/disabled_key_patch_then_get_200.json (crypto on it is refused: `crypto`).
    """
    vault = _vault(ctx, req)
    key, version = _live_key(vault, p["name"], p.get("ver"))
    return Response(200, key_bundle(ctx, vault, key, version))


def _epoch(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HttpError(
            kv_error(400, "BadParameter", f"Property '{field}' must be a number (epoch seconds).")
        )
    return int(value)


def update_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH /keys/{name}/{version} (or the latest): enabled, nbf, exp, key_ops, tags."""
    vault = _vault(ctx, req)
    key, version = _live_key(vault, p["name"], p.get("ver"))
    body = req.json()
    if not isinstance(body, dict):
        raise HttpError(kv_error(400, "BadParameter", "The request body must be a JSON object."))
    attrs = body.get("attributes") or {}
    if "enabled" in attrs and attrs["enabled"] is not None:
        if not isinstance(attrs["enabled"], bool):
            raise HttpError(kv_error(400, "BadParameter", "Property 'enabled' must be a boolean."))
        version.enabled = attrs["enabled"]
    if "nbf" in attrs:
        version.not_before = _epoch(attrs["nbf"], "nbf")
    if "exp" in attrs:
        version.expires = _epoch(attrs["exp"], "exp")
    if isinstance(body.get("key_ops"), list):
        version.key_ops = [str(op) for op in body["key_ops"]]
    if isinstance(body.get("tags"), dict):
        version.tags = {str(k): str(v) for k, v in body["tags"].items()}
    version.updated = int(ctx.now)
    return Response(200, key_bundle(ctx, vault, key, version))


def list_versions(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET /keys/{name}/versions (KeyItems, no paging)."""
    vault = _vault(ctx, req)
    key, _ = _live_key(vault, p["name"], None)
    items = []
    for version in key.versions:
        bundle = key_bundle(ctx, vault, key, version)
        items.append(
            {"kid": bundle["key"]["kid"], "attributes": bundle["attributes"], "tags": bundle["tags"]}
        )
    return Response(200, {"value": items, "nextLink": None})


def _deleted_key(ctx: Context, vault: Vault, key: Key) -> dict[str, Any]:
    bundle = key_bundle(ctx, vault, key, key.latest)
    deleted = key.deleted_on or int(ctx.now)
    return {
        "recoveryId": f"{ctx.vault_endpoint(vault.name)}/deletedkeys/{key.name}",
        "deletedDate": deleted,
        "scheduledPurgeDate": key.scheduled_purge or deleted + vault.retention_days * SECONDS_PER_DAY,
        **bundle,
    }


def _soft_deleted(vault: Vault, name: str) -> Key:
    key = vault.key(name)
    if key is None or key.deleted_on is None:
        raise HttpError(kv_error(404, "KeyNotFound", f"Deleted Key not found: {name}"))
    return key


def get_deleted_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET /deletedkeys/{name}."""
    vault = _vault(ctx, req)
    return Response(200, _deleted_key(ctx, vault, _soft_deleted(vault, p["name"])))


def recover_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """POST /deletedkeys/{name}/recover: the key is live again at once."""
    vault = _vault(ctx, req)
    key = _soft_deleted(vault, p["name"])
    key.deleted_on = key.scheduled_purge = None
    return Response(200, key_bundle(ctx, vault, key, key.latest))


def key_operation(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """POST /keys/{name}/{version}/{wrapkey|unwrapkey|encrypt|decrypt|sign|verify} (see `crypto`)."""
    vault = _vault(ctx, req)
    key, version = _live_key(vault, p["name"], p.get("ver") or None)
    body = req.json()
    if not isinstance(body, dict):
        raise HttpError(kv_error(400, "BadParameter", "The request body must be a JSON object."))
    result = crypto.perform(crypto.OPERATIONS[p["op"].lower()], version.version, version.enabled, body)
    if "kid" not in result and not isinstance(result["value"], bool):
        result = {"kid": key_bundle(ctx, vault, key, version)["key"]["kid"], **result}
    return Response(200, result)


def delete_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE /keys/{name}: soft-delete (trainers break things with it; the product never deletes keys)."""
    vault = _vault(ctx, req)
    key, _ = _live_key(vault, p["name"], None)
    key.deleted_on = int(ctx.now)
    key.scheduled_purge = key.deleted_on + vault.retention_days * SECONDS_PER_DAY
    return Response(200, _deleted_key(ctx, vault, key))


ROUTES: list[tuple[str, dict[str, Handler]]] = [
    (r"/keys/(?P<name>[^/]+)/versions", {"GET": list_versions}),
    (rf"/keys/(?P<name>[^/]+)/(?P<ver>[^/]*)/(?P<op>{crypto.CRYPTO_PATHS})", {"POST": key_operation}),
    (r"/keys/(?P<name>[^/]+)/?", {"GET": get_key, "PATCH": update_key, "DELETE": delete_key}),
    (r"/keys/(?P<name>[^/]+)/(?P<ver>[^/]+)", {"GET": get_key, "PATCH": update_key}),
    (r"/deletedkeys/(?P<name>[^/]+)", {"GET": get_deleted_key}),
    (r"/deletedkeys/(?P<name>[^/]+)/recover", {"POST": recover_key}),
]
COMPILED = [(re.compile("^" + pattern + "$", re.I), handlers) for pattern, handlers in ROUTES]

PERMISSION = {
    ("GET", "versions"): "list",
    ("GET", "deletedkeys"): "get",
    ("POST", "recover"): "recover",
    ("PATCH", ""): "update",
    ("DELETE", ""): "delete",
    ("GET", ""): "get",
}
DATA_ACTION = {
    "get": "Microsoft.KeyVault/vaults/keys/read",
    "list": "Microsoft.KeyVault/vaults/keys/read",
    "update": "Microsoft.KeyVault/vaults/keys/update/action",
    "recover": "Microsoft.KeyVault/vaults/keys/recover/action",
    "delete": "Microsoft.KeyVault/vaults/keys/delete",
    **crypto.DATA_ACTIONS,
}


def permission_for(method: str, path: str) -> str:
    """The Key Vault permission name a data-plane call needs (for error messages)."""
    lower = path.lower()
    operation = crypto.operation_in(lower)
    if operation is not None:
        return operation
    if lower.endswith("/recover"):
        return "recover"
    if lower.endswith("/versions"):
        return "list"
    return PERMISSION.get((method, ""), "get")


def match(path: str) -> tuple[dict[str, Handler], dict[str, str]] | None:
    """Handlers by method and path parameters for a data-plane path."""
    for regex, handlers in COMPILED:
        found = regex.match(path)
        if found:
            return handlers, {k: v for k, v in found.groupdict().items() if v is not None}
    return None
