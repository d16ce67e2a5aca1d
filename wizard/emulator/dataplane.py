"""Key Vault data plane (one listener per vault): keys, versions, deleted keys, recover; real error bodies.

After a delete or a recover the data plane lags by `State.key_lag_seconds` (0 unless asked for):
`/deletedkeys/{name}` stays 404 after a DELETE, `/keys/{name}` stays 404 after a recover, as recorded
(keyvault-data/delete_key_then_deletedkeys_poll_404_then_200.json and
keyvault-data/delete_then_recover_key_with_polling.json).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from wizard.emulator import crypto
from wizard.emulator.key_json import deleted_key, key_bundle, key_item
from wizard.emulator.key_store import CURVE_BITS, KTYS, KeySpec, add_version, default_ops, default_size
from wizard.emulator.model import SECONDS_PER_DAY, Key, KeyVersion, Vault
from wizard.emulator.wire import Context, Handler, HttpError, Request, Response, kv_error

MAX_RESULTS = 25
"""Key Vault's page size when `maxresults` is not given, and the most it honours."""

_HELP_NOT_FOUND = "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"


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
    if ctx.now < key.settles_at:
        raise _key_not_found(p["name"])
    return Response(200, key_bundle(ctx, vault, key, version))


def _epoch(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HttpError(
            kv_error(400, "BadParameter", f"Property '{field}' must be a number (epoch seconds).")
        )
    return int(value)


def _body(req: Request) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise HttpError(kv_error(400, "BadParameter", "The request body must be a JSON object."))
    return body


def _enabled(attrs: dict[str, Any], default: bool) -> bool:
    if attrs.get("enabled") is None:
        return default
    if not isinstance(attrs["enabled"], bool):
        raise HttpError(kv_error(400, "BadParameter", "Property 'enabled' must be a boolean."))
    return bool(attrs["enabled"])


def _tags(body: dict[str, Any]) -> dict[str, str] | None:
    tags = body.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else None


def update_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH /keys/{name}/{version} (or the latest): enabled, nbf, exp, key_ops, tags (replaced).

    A disabled key can be PATCHed, and an exp in the past is taken as it is (recorded).
    """
    vault = _vault(ctx, req)
    key, version = _live_key(vault, p["name"], p.get("ver"))
    body = _body(req)
    attrs = body.get("attributes") or {}
    version.enabled = _enabled(attrs, version.enabled)
    if "nbf" in attrs:
        version.not_before = _epoch(attrs["nbf"], "nbf")
    if "exp" in attrs:
        version.expires = _epoch(attrs["exp"], "exp")
    if isinstance(body.get("key_ops"), list):
        version.key_ops = [str(op) for op in body["key_ops"]]
    tags = _tags(body)
    if tags is not None:
        version.tags = tags
    version.updated = int(ctx.now)
    return Response(200, key_bundle(ctx, vault, key, version))


def create_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """POST /keys/{name}/create: a new key, or a new latest version of a live one (200, the bundle).

    Recorded: RSA defaults to 2048 bits and all six key_ops, EC to P-256 with sign and verify.
    A soft-deleted name is 409 (UNVERIFIED wording: a create on a deleted name would settle it).
    """
    vault = _vault(ctx, req)
    body = _body(req)
    kty = next((k for k in KTYS if k.lower() == str(body.get("kty") or "").lower()), None)
    if kty is None:
        raise HttpError(kv_error(400, "BadParameter", f"Property 'kty' must be one of {', '.join(KTYS)}."))
    existing = vault.key(p["name"])
    if existing is not None and existing.deleted_on is not None:
        raise HttpError(
            kv_error(
                409,
                "Conflict",
                f"Key {p['name']} is currently in a deleted but recoverable state, and its name cannot "
                "be reused; in this state, the key can only be recovered or purged.",
            )
        )
    curve = str(body.get("crv") or "P-256") if kty.startswith("EC") else None
    if curve is not None and curve not in CURVE_BITS:
        raise HttpError(kv_error(400, "BadParameter", f"Unknown curve '{curve}'."))
    size = body.get("key_size") or default_size(kty, curve)
    if isinstance(size, bool) or not isinstance(size, int) or not 128 <= size <= 8192:
        raise HttpError(kv_error(400, "BadParameter", "Property 'key_size' must be a number of bits."))
    attrs = body.get("attributes") or {}
    ops = body.get("key_ops")
    spec = KeySpec(
        kty,
        size,
        curve,
        [str(op) for op in ops] if isinstance(ops, list) else default_ops(kty),
        _enabled(attrs, True),
        _epoch(attrs.get("nbf"), "nbf"),
        _epoch(attrs.get("exp"), "exp"),
        _tags(body) or {},
    )
    key, version = add_version(vault, p["name"], spec, ctx.new_token(), int(ctx.now))
    return Response(200, key_bundle(ctx, vault, key, version))


def _skip(token: str | None) -> int:
    """The offset a $skiptoken of ours stands for (400 for one we did not make)."""
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().removeprefix("skip:"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HttpError(kv_error(400, "BadParameter", "The $skiptoken is not valid.")) from None


def list_versions(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET /keys/{name}/versions: KeyItems ordered by version id, `maxresults` a page (25 at most),
    then `nextLink` with `$skiptoken`; the last page says `"nextLink": null` (recorded)."""
    vault = _vault(ctx, req)
    key, _ = _live_key(vault, p["name"], None)
    try:
        size = min(MAX_RESULTS, max(1, int(req.query.get("maxresults") or MAX_RESULTS)))
    except ValueError:
        raise HttpError(kv_error(400, "BadParameter", "maxresults must be a number from 1 to 25.")) from None
    start = _skip(req.query.get("$skiptoken"))
    ordered = sorted(key.versions, key=lambda v: v.version.lower())
    page = ordered[start : start + size]
    next_link = None
    if start + size < len(ordered):
        token = base64.urlsafe_b64encode(f"skip:{start + size}".encode()).decode().rstrip("=")
        next_link = (
            f"{ctx.vault_endpoint(vault.name)}/keys/{key.name}/versions?api-version="
            f"{req.query.get('api-version', '2025-07-01')}&$skiptoken={token}&maxresults={size}"
        )
    return Response(200, {"value": [key_item(ctx, vault, key, v) for v in page], "nextLink": next_link})


def _soft_deleted(ctx: Context, vault: Vault, name: str) -> Key:
    key = vault.key(name)
    if key is None or key.deleted_on is None or ctx.now < key.settles_at:
        raise HttpError(kv_error(404, "KeyNotFound", f"Deleted Key not found: {name}"))
    return key


def get_deleted_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET /deletedkeys/{name} (404 'Deleted Key not found' while the delete has not settled)."""
    vault = _vault(ctx, req)
    return Response(200, deleted_key(ctx, vault, _soft_deleted(ctx, vault, p["name"])))


def recover_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """POST /deletedkeys/{name}/recover: 200 with the plain key bundle; a name with no deleted key is
    404 with the live-key message (recorded: keyvault-data/recover_nonexistent_deleted_key_404.json)."""
    vault = _vault(ctx, req)
    key = vault.key(p["name"])
    if key is None or key.deleted_on is None:
        raise _key_not_found(p["name"])
    key.deleted_on = key.scheduled_purge = None
    key.settles_at = ctx.now + ctx.state.key_lag_seconds
    return Response(200, key_bundle(ctx, vault, key, key.latest))


def key_operation(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """POST /keys/{name}/{version}/{wrapkey|unwrapkey|encrypt|decrypt|sign|verify} (see `crypto`)."""
    vault = _vault(ctx, req)
    key, version = _live_key(vault, p["name"], p.get("ver") or None)
    result = crypto.perform(crypto.OPERATIONS[p["op"].lower()], version.version, version.enabled, _body(req))
    if "kid" not in result and not isinstance(result["value"], bool):
        result = {"kid": key_bundle(ctx, vault, key, version)["key"]["kid"], **result}
    return Response(200, result)


def delete_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE /keys/{name}: soft-delete, 200 with the DeletedKeyBundle (trainers break things with it)."""
    vault = _vault(ctx, req)
    key, _ = _live_key(vault, p["name"], None)
    key.deleted_on = int(ctx.now)
    key.scheduled_purge = key.deleted_on + vault.retention_days * SECONDS_PER_DAY
    key.settles_at = ctx.now + ctx.state.key_lag_seconds
    return Response(200, deleted_key(ctx, vault, key))


ROUTES: list[tuple[str, dict[str, Handler]]] = [
    (r"/keys/(?P<name>[^/]+)/versions", {"GET": list_versions}),
    (r"/keys/(?P<name>[^/]+)/create", {"POST": create_key}),
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
    "create": "Microsoft.KeyVault/vaults/keys/create/action",
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
    if lower.endswith("/create"):
        return "create"
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
