"""Making keys and key versions, for the estate and for both planes' create calls (data plane
`POST /keys/{name}/create`, management plane `PUT .../vaults/{vault}/keys/{name}`)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from wizard.emulator.model import Key, KeyVersion, Vault

KTYS = ("RSA", "RSA-HSM", "EC", "EC-HSM", "oct-HSM")
CURVE_BITS = {"P-256": 256, "P-256K": 256, "P-384": 384, "P-521": 521}
ALL_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]


def default_ops(kty: str) -> list[str]:
    """The key_ops a key gets when the create call names none (recorded: RSA all six, EC sign+verify).

    UNVERIFIED for oct-HSM (a create on a Managed HSM would settle it): the symmetric operations.
    """
    if kty.startswith("EC"):
        return ["sign", "verify"]
    if kty.startswith("oct"):
        return ["encrypt", "decrypt", "wrapKey", "unwrapKey"]
    return list(ALL_OPS)


def default_size(kty: str, curve: str | None) -> int:
    """Bits when the create call names none: RSA 2048 (recorded `key_size`), EC the curve's, oct 256."""
    if curve:
        return CURVE_BITS[curve]
    return 256 if kty.startswith("oct") else 2048


def pseudo_modulus(*parts: str, size: int) -> str:
    """A fixed pseudo-random modulus (base64url, no padding) of `size` bits for these parts."""
    out = b""
    counter = 0
    while len(out) < size // 8:
        out += hashlib.sha256("|".join((*parts, str(counter))).encode()).digest()
        counter += 1
    raw = bytes([out[0] | 0x80]) + out[1 : size // 8]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class KeySpec:
    """What a create call asks for (checked by the caller)."""

    kty: str
    size: int
    curve: str | None = None
    ops: list[str] = field(default_factory=list)
    enabled: bool = True
    not_before: int | None = None
    expires: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


def add_version(vault: Vault, name: str, spec: KeySpec, version: str, now: int) -> tuple[Key, KeyVersion]:
    """A new key, or a new latest version of a live one (its type and size become the key's)."""
    made = KeyVersion(
        version,
        spec.enabled,
        spec.not_before,
        spec.expires,
        now,
        now,
        list(spec.ops),
        dict(spec.tags),
    )
    modulus = pseudo_modulus(vault.name, name, version, size=spec.size)
    key = vault.key(name)
    if key is None:
        key = Key(name, spec.kty, spec.size, modulus, [made], curve=spec.curve)
        vault.keys[name] = key
    else:
        key.kty, key.size, key.modulus, key.curve = spec.kty, spec.size, modulus, spec.curve
        key.versions.append(made)
    return key, made
