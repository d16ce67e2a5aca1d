"""Parsing of ARM resource IDs and Key Vault key URLs, strict enough to reject typos."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wizard.domain.errors import BadInput

# patterns, compiled on first use (re caches them): the command line loads this module
_GUIDISH = r"^[0-9A-Za-z-]{1,64}$"
_NAME = r"^[A-Za-z0-9._()-]{0,127}[A-Za-z0-9_()-]$"
_NAMESPACE = r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$"
_TYPE = r"^[A-Za-z][A-Za-z0-9]{0,63}$"
QUOTE_LIMIT = 80
_VAULT_NAME = r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$"
_KEY_NAME = r"^[A-Za-z0-9-]{1,127}$"
_VERSION = r"^[A-Za-z0-9]{1,64}$"

CLUSTER_TYPE = "Microsoft.DocumentDB/mongoClusters"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
VAULT_TYPE = "Microsoft.KeyVault/vaults"


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM ID of a top-level resource in a resource group."""

    subscription_id: str
    resource_group: str
    provider: str
    resource_type: str
    name: str

    @property
    def full_type(self) -> str:
        """The type as ARM spells it, e.g. Microsoft.KeyVault/vaults."""
        return f"{self.provider}/{self.resource_type}"

    def __str__(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{self.provider}/{self.resource_type}/{self.name}"
        )


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The repr of an operator's value, cut to `limit` characters so one bad input stays one short line."""
    shown = repr(text[: limit + 1])
    return shown if len(shown) <= limit else shown[: limit - 1] + "\u2026"


def parse_resource_id(text: str, expected_type: str | None = None) -> ResourceId:
    """Parse `/subscriptions/S/resourceGroups/RG/providers/NS/TYPE/NAME`, or say what is wrong.

    Every segment must be there and be a real name: `.`, `..` or an empty segment would change
    the URL the SDK sends (`.../mongoClusters/.` is the cluster LIST), so they never get that far."""
    raw = (text or "").strip()
    shown = quoted(raw)
    shape = "/subscriptions/<sub>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>"
    parts = raw[1:].removesuffix("/").split("/")
    if raw.startswith("/") and "" in parts:
        raise BadInput(f"empty segment (//) in resource ID: {shown}")
    if not raw.startswith("/") or len(parts) != 8:
        raise BadInput(f"not an Azure resource ID: {shown} (expected {shape})")
    subs, sub, rgs, rg, providers, namespace, rtype, name = parts
    if (subs.lower(), rgs.lower(), providers.lower()) != ("subscriptions", "resourcegroups", "providers"):
        raise BadInput(f"not an Azure resource ID: {shown} (expected {shape})")
    if not re.match(_GUIDISH, sub):
        raise BadInput(f"bad subscription in resource ID: {quoted(sub)}")
    if not re.match(_NAMESPACE, namespace) or not re.match(_TYPE, rtype):
        raise BadInput(
            f"bad provider {quoted(f'{namespace}/{rtype}')} in resource ID (expected e.g. {CLUSTER_TYPE})"
        )
    for what, value in (("resource group", rg), ("name", name)):
        if not re.match(_NAME, value):
            raise BadInput(
                f"bad {what} {quoted(value)} in resource ID (letters, digits and . _ - ( ), "
                "not ending in a dot)"
            )
    rid = ResourceId(sub, rg, namespace, rtype, name)
    if expected_type and rid.full_type.lower() != expected_type.lower():
        raise BadInput(f"expected a {expected_type} resource ID, got a {quoted(rid.full_type)} one: {shown}")
    return rid


def same_resource(a: str, b: str) -> bool:
    """ARM IDs are case-insensitive; compare them so."""
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


@dataclass(frozen=True)
class KeyUrl:
    """A parsed Key Vault key identifier (`https://<vault>.vault.azure.net/keys/<name>[/<ver>]`)."""

    vault_url: str
    vault_name: str
    key_name: str
    version: str | None

    @property
    def versionless(self) -> str:
        """The URL without a version, which is what a cluster should point at."""
        return f"{self.vault_url}/keys/{self.key_name}"


def parse_key_url(text: str) -> KeyUrl:
    """Parse a key URL, or say in one line what is wrong with it."""
    raw = (text or "").strip()
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname:
        raise BadInput(
            f"not a Key Vault key URL: {quoted(raw)} (expected https://<vault>.vault.azure.net/keys/<name>)"
        )
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) not in (2, 3) or segments[0] != "keys":
        raise BadInput(f"not a Key Vault key URL: {quoted(raw)} (expected .../keys/<name>[/<version>])")
    vault_name = parts.hostname.split(".")[0]
    if not re.match(_VAULT_NAME, vault_name):
        raise BadInput(f"bad vault name {quoted(vault_name)} in key URL {quoted(raw)}")
    if not re.match(_KEY_NAME, segments[1]):
        raise BadInput(f"bad key name {quoted(segments[1])} in key URL {quoted(raw)}")
    version = segments[2] if len(segments) == 3 else None
    if version is not None and not re.match(_VERSION, version):
        raise BadInput(f"bad key version {quoted(version)} in key URL {quoted(raw)}")
    origin = f"https://{parts.netloc}"
    return KeyUrl(origin, vault_name.lower(), segments[1], version)
