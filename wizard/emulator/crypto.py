"""Key operations on the data plane (wrap, unwrap, encrypt, decrypt, sign, verify) with stand-in crypto.

The results are not real cryptography: wrap/encrypt tag the value with the key version so that
unwrap/decrypt of the same version gives it back, and sign/verify use a digest of the version. What
matters for the wizard is who is refused: a DISABLED key refuses the private-key operations
(unwrapKey, decrypt, sign) with 403 `KeyDisabled` "Operation X is not allowed on a disabled key.",
while the public-key ones (wrapKey, encrypt, verify) still succeed, as reported from a live
subscription in Azure/azure-sdk-for-python#45342 (no recording holds such a 403).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from wizard.emulator.wire import HttpError, kv_error

OPERATIONS = {
    "wrapkey": "wrapKey",
    "unwrapkey": "unwrapKey",
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "sign": "sign",
    "verify": "verify",
}
CRYPTO_PATHS = "|".join(OPERATIONS)
PRIVATE_KEY_OPERATIONS = {"unwrapKey", "decrypt", "sign"}
DATA_ACTIONS = {
    "wrapKey": "Microsoft.KeyVault/vaults/keys/wrap/action",
    "unwrapKey": "Microsoft.KeyVault/vaults/keys/unwrap/action",
    "encrypt": "Microsoft.KeyVault/vaults/keys/encrypt/action",
    "decrypt": "Microsoft.KeyVault/vaults/keys/decrypt/action",
    "sign": "Microsoft.KeyVault/vaults/keys/sign/action",
    "verify": "Microsoft.KeyVault/vaults/keys/verify/action",
}
_TAIL = re.compile(rf"/({CRYPTO_PATHS})/?$", re.I)


def operation_in(path: str) -> str | None:
    """The key operation a data-plane path asks for (wrapKey, ...), or None for other paths."""
    found = _TAIL.search(path)
    return OPERATIONS[found.group(1).lower()] if found else None


def _decode(value: Any, field: str) -> bytes:
    """A base64url field of the request (padding optional), or 400 BadParameter."""
    if not isinstance(value, str):
        raise HttpError(kv_error(400, "BadParameter", f"Property '{field}' is required."))
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise HttpError(kv_error(400, "BadParameter", f"Property '{field}' is not base64url.")) from None


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def perform(operation: str, version: str, enabled: bool, body: dict[str, Any]) -> dict[str, Any]:
    """The KeyOperationResult (or KeyVerifyResult) body, or 403 KeyDisabled for a private-key operation."""
    if not enabled and operation in PRIVATE_KEY_OPERATIONS:
        raise HttpError(
            kv_error(
                403, "Forbidden", f"Operation {operation} is not allowed on a disabled key.", "KeyDisabled"
            )
        )
    tag = f"emulator:{version}:".encode()
    if operation in ("wrapKey", "encrypt"):
        return {"value": _encode(tag + _decode(body.get("value"), "value"))}
    if operation in ("unwrapKey", "decrypt"):
        raw = _decode(body.get("value"), "value")
        if not raw.startswith(tag):
            raise HttpError(kv_error(400, "BadParameter", "The ciphertext was not made with this key."))
        return {"value": _encode(raw[len(tag) :])}
    if operation == "sign":
        return {"value": _encode(hashlib.sha256(tag + _decode(body.get("value"), "value")).digest())}
    expected = hashlib.sha256(tag + _decode(body.get("digest"), "digest")).digest()
    return {"value": _decode(body.get("value"), "value") == expected}
