"""The operator's own way into a vault's data plane: what the vault's network rules refuse, the
address Azure saw, and the one temporary IP rule the wizard may add for a fix.

Pure domain knowledge, shared by the planner (the warning before a step), the gateway (reading
Azure's 403s) and the advice after one. The cluster's own access (trusted services) is
`wizard.domain.access`; this is only about the engineer's calls.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from wizard.domain.errors import BadInput
from wizard.domain.models import VaultFacts

# The inner error codes of a data-plane 403 (azure-docs rest-error-codes.md for the network ones).
# UNVERIFIED: `ForbiddenByRbac` as the inner code of an RBAC refusal (seen in third-party code);
# a data-plane call by a principal with no data role on an RBAC vault would settle it. Any other
# 403 is advised as a missing permission, as before.
FORBIDDEN_BY_FIREWALL = "ForbiddenByFirewall"
FORBIDDEN_BY_CONNECTION = "ForbiddenByConnection"
NETWORK_REFUSALS = (FORBIDDEN_BY_FIREWALL, FORBIDDEN_BY_CONNECTION)
PERMISSION_REFUSALS = ("ForbiddenByRbac", "AccessDenied")

_CLIENT_ADDRESS = re.compile(r"Client address:\s*([0-9A-Fa-f:.]+)")


def client_address(message: str) -> str | None:
    """The address Azure saw, from a ForbiddenByFirewall message ("Client address: <ip>").

    UNVERIFIED beyond live reports: the line's exact form (no recording holds a firewall 403); a
    data-plane call from an unlisted address to a Deny vault would settle it. None when absent."""
    found = _CLIENT_ADDRESS.search(message or "")
    if found is None:
        return None
    try:
        return str(ipaddress.ip_address(found.group(1).rstrip(".")))
    except ValueError:
        return None


def usable_address(address: str | None) -> bool:
    """An address a vault firewall rule can name for the operator: IPv4, not loopback or unspecified."""
    try:
        operator_address(address or "")
    except BadInput:
        return False
    return True


def operator_address(text: str) -> str:
    """A `--my-ip` value: one IPv4 address (Key Vault IP rules take IPv4), else BadInput.

    UNVERIFIED: that Key Vault refuses IPv6 ipRules (the docs name IPv4 ranges only); a vault
    PATCH with an IPv6 rule would settle it."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise BadInput(
            f"--my-ip {text!r}: not an IP address (give one IPv4 address, e.g. 198.51.100.7)"
        ) from None
    if not isinstance(address, ipaddress.IPv4Address):
        raise BadInput(f"--my-ip {text!r}: Key Vault IP rules take IPv4 addresses only")
    if address.is_loopback or address.is_unspecified or address.is_multicast:
        raise BadInput(
            f"--my-ip {text!r}: not an address a vault can see you come from; give the public "
            "address Azure sees (the 'Client address' of its 403)"
        )
    return str(address)


def operator_rule(address: str) -> str:
    """The one rule the wizard adds for the operator: the address as a /32 range."""
    return f"{address}/32"


def is_operator_rule(rule: str, address: str) -> bool:
    """Whether `rule` is exactly the operator's /32 (Azure echoes a bare address as /32)."""
    text = rule.strip()
    return text in (address, operator_rule(address))


def address_in_rules(address: str, rules: Iterable[str]) -> bool:
    """Whether an address falls in one of the IP rules (a rule that does not parse matches nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for rule in rules:
        try:
            if ip in ipaddress.ip_network(rule.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


@dataclass(frozen=True)
class DataPlaneRefusal:
    """Why the vault will (or may) refuse the operator's data-plane calls, and whether an IP rule helps.

    `certain` is False when the operator's address is unknown: a Deny firewall may let it in through
    an IP rule, a virtual network rule or a private endpoint, or may not."""

    inner_code: str
    certain: bool
    reason: str
    ip_rule_helps: bool


def data_plane_refusal(vault: VaultFacts, address: str | None) -> DataPlaneRefusal | None:
    """What the vault's network rules say about the operator's data-plane call, before it is made.

    Public access Disabled: only a private endpoint gets in (ForbiddenByConnection), and no IP rule
    changes that. A Deny firewall: an address in no `ipRules` entry is refused (ForbiddenByFirewall),
    unless it comes through an allowed virtual network or a private endpoint, which the vault's
    facts cannot show. Key Vault firewalls apply to the data plane only."""
    name = vault.name
    if (vault.public_network_access or "Enabled").lower() == "disabled":
        return DataPlaneRefusal(
            FORBIDDEN_BY_CONNECTION,
            True,
            f"public network access to vault {name} is Disabled: its data plane refuses every call "
            "that does not come through a private endpoint (ForbiddenByConnection), and an IP rule "
            "does not change that. Run this step from a machine on a network with a private "
            "endpoint to the vault.",
            False,
        )
    if (vault.network_default_action or "Allow").lower() != "deny":
        return None
    rules = ", ".join(vault.ip_rules) or "none"
    if address is None:
        return DataPlaneRefusal(
            FORBIDDEN_BY_FIREWALL,
            False,
            f"vault {name}'s firewall denies by default (ipRules: {rules}) and your address is "
            "not known: this step may be refused (ForbiddenByFirewall) unless you come from a listed "
            "address, an allowed virtual network or a private endpoint. Give your public address "
            "(--my-ip) and the wizard adds it as a temporary rule; a refusal also names it.",
            True,
        )
    if address_in_rules(address, vault.ip_rules):
        return None
    return DataPlaneRefusal(
        FORBIDDEN_BY_FIREWALL,
        True,
        f"vault {name}'s firewall denies by default and your address {address} is in none of "
        f"its ipRules ({rules}): this step will be refused (ForbiddenByFirewall) unless you "
        "come through an allowed virtual network or a private endpoint.",
        True,
    )
