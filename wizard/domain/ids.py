"""Parsing of ARM resource IDs and Key Vault key URLs, strict enough to reject typos."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wizard.domain.errors import BadInput

_GUIDISH = re.compile(r"^[0-9A-Za-z-]{1,64}$")
_NAME = re.compile(r"^[A-Za-z0-9._()-]{1,128}$")
_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")
_VERSION = re.compile(r"^[A-Za-z0-9]{1,64}$")

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


def parse_resource_id(text: str, expected_type: str | None = None) -> ResourceId:
    """Parse `/subscriptions/S/resourceGroups/RG/providers/NS/TYPE/NAME`, or say what is wrong."""
    raw = (text or "").strip()
    parts = raw.strip("/").split("/")
    shape = "/subscriptions/<sub>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>"
    if not raw.startswith("/") or len(parts) != 8:
        raise BadInput(f"not an Azure resource ID: {raw!r} (expected {shape})")
    subs, sub, rgs, rg, providers, namespace, rtype, name = parts
    if (subs.lower(), rgs.lower(), providers.lower()) != ("subscriptions", "resourcegroups", "providers"):
        raise BadInput(f"not an Azure resource ID: {raw!r} (expected {shape})")
    if not _GUIDISH.match(sub):
        raise BadInput(f"bad subscription in resource ID: {sub!r}")
    if not _NAME.match(rg) or not _NAME.match(name) or "." not in namespace:
        raise BadInput(f"bad resource group, namespace or name in resource ID: {raw!r}")
    rid = ResourceId(sub, rg, namespace, rtype, name)
    if expected_type and rid.full_type.lower() != expected_type.lower():
        raise BadInput(f"expected a {expected_type} resource ID, got a {rid.full_type} one: {raw!r}")
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
            f"not a Key Vault key URL: {raw!r} (expected https://<vault>.vault.azure.net/keys/<name>)"
        )
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) not in (2, 3) or segments[0] != "keys":
        raise BadInput(f"not a Key Vault key URL: {raw!r} (expected .../keys/<name>[/<version>])")
    vault_name = parts.hostname.split(".")[0]
    if not _VAULT_NAME.match(vault_name):
        raise BadInput(f"bad vault name {vault_name!r} in key URL {raw!r}")
    if not _KEY_NAME.match(segments[1]):
        raise BadInput(f"bad key name {segments[1]!r} in key URL {raw!r}")
    version = segments[2] if len(segments) == 3 else None
    if version is not None and not _VERSION.match(version):
        raise BadInput(f"bad key version {version!r} in key URL {raw!r}")
    origin = f"https://{parts.netloc}"
    return KeyUrl(origin, vault_name.lower(), segments[1], version)
