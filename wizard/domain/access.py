"""What lets a cluster's identity use its key: the documented role, the key permissions of an
access policy, and a firewall that lets trusted Microsoft services through. Pure domain knowledge,
shared by the checks, the planner and the writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wizard.domain.ids import parse_resource_id
from wizard.domain.models import VaultFacts

CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
TRUSTED_SERVICES_BYPASS = "AzureServices"

# The key permissions CMK needs, lowercased as the checks compare them, and as Key Vault spells them.
REQUIRED_KEY_PERMISSIONS = ("get", "list", "wrapkey", "unwrapkey")
KEY_PERMISSION_NAMES = {"get": "get", "list": "list", "wrapkey": "wrapKey", "unwrapkey": "unwrapKey"}
REQUIRED_POLICY = tuple(KEY_PERMISSION_NAMES[p] for p in REQUIRED_KEY_PERMISSIONS)


def scope_covers(scope: str, target: str) -> bool:
    """ARM inheritance: an assignment at a management group, the root, or any prefix of the target
    resource ID (subscription, resource group, vault) applies to the target."""
    s = scope.rstrip("/").lower()
    t = target.rstrip("/").lower()
    return (
        s == ""
        or s.startswith("/providers/microsoft.management/managementgroups/")
        or t == s
        or t.startswith(s + "/")
    )


def crypto_role_definition_id(vault_id: str) -> str:
    """The documented role's definition id in the vault's subscription (the bare GUID without a vault)."""
    if not vault_id:
        return CRYPTO_SERVICE_ENCRYPTION_USER
    subscription = parse_resource_id(vault_id).subscription_id
    return (
        f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{CRYPTO_SERVICE_ENCRYPTION_USER}"
    )


def key_permissions_of(vault: VaultFacts, principal_id: str) -> set[str]:
    """Every key permission the vault's access policies give the principal (as the vault lists them)."""
    granted: set[str] = set()
    for policy in vault.access_policies:
        if policy.object_id.lower() == principal_id.lower():
            granted |= set(policy.key_permissions)
    return granted


def missing_key_permissions(granted: Iterable[str], wanted: Iterable[str] = REQUIRED_POLICY) -> list[str]:
    """The wanted permissions (Key Vault spelling) that `granted` lacks; `all` grants every one."""
    held = set(granted)
    return [p for p in wanted if "all" not in held and p.lower() not in held]


def key_permissions_after(granted: Iterable[str], missing: Iterable[str]) -> list[str]:
    """Every key permission the principal holds once `missing` is added, as Key Vault spells them.
    `az keyvault set-policy --key-permissions` REPLACES the principal's list: it must name them all."""
    names = {p.lower(): KEY_PERMISSION_NAMES.get(p.lower(), p) for p in [*granted, *missing]}
    return sorted(names.values(), key=str.lower)


@dataclass(frozen=True)
class NetworkAcls:
    """A vault's firewall rules as allow-trusted-services sends them and its preview shows them."""

    bypass: str
    default_action: str
    ip_rules: tuple[str, ...]
    virtual_network_rules: tuple[str, ...]

    def to_request(self) -> dict[str, Any]:
        """The `networkAcls` body of the vault PATCH."""
        return {
            "bypass": self.bypass,
            "defaultAction": self.default_action,
            "ipRules": [{"value": ip} for ip in self.ip_rules],
            "virtualNetworkRules": [{"id": rule} for rule in self.virtual_network_rules],
        }


def effective_bypass(bypass: str | None) -> str:
    """The firewall bypass Azure applies: the Key Vault spec's default, AzureServices, when the vault
    has no networkAcls or they name no bypass (public access Disabled included)."""
    return bypass or TRUSTED_SERVICES_BYPASS


def lets_trusted_services_in(vault: VaultFacts) -> bool:
    """Trusted Microsoft services (the cluster's key access) get through the vault's network rules."""
    return effective_bypass(vault.network_bypass).lower() == TRUSTED_SERVICES_BYPASS.lower()


def trusted_services_acls(
    default_action: str | None, ip_rules: Iterable[str], virtual_network_rules: Iterable[str]
) -> NetworkAcls:
    """Bypass AzureServices, the default action and every IP and network rule kept. A vault without
    networkAcls has no firewall, so its effective default action, the one kept, is Allow."""
    return NetworkAcls(
        TRUSTED_SERVICES_BYPASS, default_action or "Allow", tuple(ip_rules), tuple(virtual_network_rules)
    )
