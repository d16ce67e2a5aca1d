"""Key Vault network rules for the OPERATOR's own data-plane calls: IP rules, private endpoint, public access.

The cluster's side (trusted services) is the health rule's (`health.network_lets_trusted_services_in`).
"""

from __future__ import annotations

import ipaddress

from wizard.emulator.estate_fields import shown
from wizard.emulator.model import State, Vault

LOOPBACK = "127.0.0.1"
"""The client address the emulator reports when the estate gives the operator none."""


def ip_rule_problem(value: str) -> str | None:
    """Why a value is not an IP address or CIDR range (None if it is one)."""
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return f"{shown(value)} is not an IP address or CIDR range"
    return None


def normalize_ip_rule(value: str) -> str:
    """A bare address is stored as a /32 (/128) range, as the service echoes it; anything else as given.

    Evidence: the Key Vault spec example createVaultWithNetworkAcls.json sends `124.56.78.91` and the
    response shows `124.56.78.91/32`.
    """
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return value
    return text if "/" in text else f"{text}/{network.max_prefixlen}"


def address_in_rules(address: str, rules: list[str]) -> bool:
    """Whether an address falls in one of the IP rules (rules that do not parse match nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for rule in rules:
        try:
            if ip in ipaddress.ip_network(rule.strip(), strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


def operator_network_block(state: State, vault: Vault) -> tuple[str, str] | None:
    """(inner error code, client address) when the vault's network keeps the operator out, else None.

    Public access Disabled: only a private endpoint gets in (`ForbiddenByConnection`). Otherwise a
    firewall that denies by default lets in only addresses in `ipRules` (`ForbiddenByFirewall`). With
    no `operator.ip` in the estate the firewall is not applied to the operator (only the
    `operator-ip-blocked` restriction blocks it), so firewall scenarios stay fixable on the data plane.
    UNVERIFIED: that traffic through a private endpoint skips the IP rules (a data-plane call over a
    private endpoint to a Deny vault whose ipRules do not list it would settle it).
    """
    address = state.operator_ip or LOOPBACK
    private = state.operator_private_endpoint
    if vault.public_network_access.lower() == "disabled":
        return None if private else ("ForbiddenByConnection", address)
    if "operator-ip-blocked" in state.restrictions:
        return "ForbiddenByFirewall", address
    acls = vault.network_acls
    if state.operator_ip is None or private or acls is None or acls.default_action.lower() != "deny":
        return None
    return None if address_in_rules(address, acls.ip_rules) else ("ForbiddenByFirewall", address)
