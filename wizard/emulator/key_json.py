"""Key Vault's data-plane JSON for keys: bundles, list items and deleted keys, in the recorded shape.

Recorded with api-version 2025-07-01 (keyvault-data/*): attributes carry `recoverableDays`,
`exportable: false` and `hsmPlatform: "0"`, RSA keys also `key_size`; `tags` appear only when the key
has some; list items are `kid` and `attributes` (and tags, when set). UNVERIFIED: `key_size` on EC
keys with 2025-07-01 (the EC recording is 7.6-preview.1, without it) and `hsmPlatform` of HSM keys.
"""

from __future__ import annotations

import base64
from typing import Any

from wizard.emulator.model import SECONDS_PER_DAY, Key, KeyVersion, Vault
from wizard.emulator.wire import Context


def attributes(vault: Vault, key: Key, version: KeyVersion) -> dict[str, Any]:
    """A key version's attributes on the data plane."""
    attrs: dict[str, Any] = {"enabled": version.enabled}
    if key.kty.upper().startswith("RSA"):
        attrs["key_size"] = key.size
    if version.not_before is not None:
        attrs["nbf"] = version.not_before
    if version.expires is not None:
        attrs["exp"] = version.expires
    attrs.update(
        {"created": version.created, "updated": version.updated, "recoveryLevel": vault.recovery_level}
    )
    if vault.soft_delete:
        attrs["recoverableDays"] = vault.retention_days
    attrs.update({"exportable": False, "hsmPlatform": "0"})
    return attrs


def kid(ctx: Context, vault: Vault, key: Key, version: KeyVersion) -> str:
    """The key id; it uses the vault's LOCAL endpoint, since KeyClient checks it against its own URL."""
    return f"{ctx.vault_endpoint(vault.name)}/keys/{key.name}/{version.version}"


def key_bundle(ctx: Context, vault: Vault, key: Key, version: KeyVersion) -> dict[str, Any]:
    """A KeyBundle: the public JWK, the attributes, and the tags when there are any."""
    jwk: dict[str, Any] = {
        "kid": kid(ctx, vault, key, version),
        "kty": key.kty,
        "key_ops": list(version.key_ops),
    }
    if key.kty.upper().startswith("RSA"):
        jwk.update({"n": key.modulus, "e": "AQAB"})
    elif key.curve:
        x = base64.urlsafe_b64decode(key.modulus + "=" * (-len(key.modulus) % 4))
        y = base64.urlsafe_b64encode(x[::-1]).decode().rstrip("=")
        jwk.update({"crv": key.curve, "x": key.modulus, "y": y})
    bundle: dict[str, Any] = {"key": jwk, "attributes": attributes(vault, key, version)}
    if version.tags:
        bundle["tags"] = dict(version.tags)
    return bundle


def key_item(ctx: Context, vault: Vault, key: Key, version: KeyVersion) -> dict[str, Any]:
    """A KeyItem of a versions list: kid and attributes, no key material."""
    item: dict[str, Any] = {
        "kid": kid(ctx, vault, key, version),
        "attributes": attributes(vault, key, version),
    }
    if version.tags:
        item["tags"] = dict(version.tags)
    return item


def deleted_key(ctx: Context, vault: Vault, key: Key) -> dict[str, Any]:
    """A DeletedKeyBundle: recoveryId and the dates, then the latest version's bundle."""
    deleted = key.deleted_on or int(ctx.now)
    return {
        "recoveryId": f"{ctx.vault_endpoint(vault.name)}/deletedkeys/{key.name}",
        "deletedDate": deleted,
        "scheduledPurgeDate": key.scheduled_purge or deleted + vault.retention_days * SECONDS_PER_DAY,
        **key_bundle(ctx, vault, key, key.latest),
    }
