"""Writes to a vault through the management plane: recover it, let trusted services through its
firewall, turn on purge protection. Called by GatewayWriter.apply, which guards and audits each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wizard.azure.errors import call
from wizard.azure.states import vault_state
from wizard.domain.access import (
    TRUSTED_SERVICES_BYPASS,
    NetworkAcls,
    effective_bypass,
    trusted_services_acls,
)
from wizard.domain.actions import AllowTrustedServices, EnablePurgeProtection, RecoverVault
from wizard.domain.errors import GatewayError, NotFound
from wizard.domain.ids import VAULT_TYPE, parse_resource_id
from wizard.domain.results import WriteResult
from wizard.domain.times import iso

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

NEEDS_VAULT_WRITE = "Microsoft.KeyVault/vaults/write (Key Vault Contributor)"


def recover_vault(writer: GatewayWriter, a: RecoverVault) -> WriteResult:
    """Recover a soft-deleted vault (create_mode recover). RBAC assignments do not come back."""
    from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties

    gateway = writer.gateway
    rid = parse_resource_id(a.vault_id, VAULT_TYPE)
    tenants: list[str] = []

    def tenant() -> str:
        if not tenants:
            tenants.append(a.tenant_id or gateway.operator().tenant_id)
        return tenants[0]

    def before() -> dict[str, Any]:
        try:
            return {"state": "present", **vault_state(gateway.get_vault(a.vault_id))}
        except NotFound:
            d = gateway.get_deleted_vault(rid.name, a.location, rid.subscription_id)
            return {
                "state": "soft-deleted",
                "deletionDate": iso(d.deletion_date),
                "scheduledPurgeDate": iso(d.scheduled_purge_date),
                "location": d.location,
            }

    def act(_: dict[str, Any]) -> Any:
        client = writer.factory.keyvault(rid.subscription_id)
        params = VaultCreateOrUpdateParameters(
            location=a.location,
            properties=VaultProperties(
                tenant_id=tenant(), sku=Sku(family="A", name=a.sku), create_mode="recover"
            ),
        )
        try:
            return call(
                f"recover vault {rid.name}",
                NEEDS_VAULT_WRITE,
                lambda: writer.waited(
                    client.vaults.begin_create_or_update(
                        rid.resource_group, rid.name, params, polling_interval=writer.factory.polling_interval
                    ),
                    f"vault {rid.name} recovery",
                ).result(),
            )
        except GatewayError as exc:
            # The PUT was accepted but polling its operation failed (e.g. an unexpected 202 on
            # the Azure-AsyncOperation URL): the read-back decides whether the vault is back.
            if exc.status is None or exc.status >= 300:
                raise
            try:
                return gateway.get_vault(a.vault_id)
            except NotFound:
                raise exc from None

    return writer.audited(
        a.remediation,
        a.vault_id,
        lambda _: {
            "method": "PUT",
            "url": f"{a.vault_id}?api-version=2026-05-15",
            "body": {
                "location": a.location,
                "properties": {
                    "tenantId": tenant(),
                    "sku": {"family": "A", "name": a.sku},
                    "createMode": "recover",
                },
            },
        },
        before=before,
        done=lambda b: "the vault is not deleted" if b.get("state") == "present" else None,
        act=act,
        after=before,
    )


def patch_network_acls(writer: GatewayWriter, vault_id: str, sent: NetworkAcls) -> Any:
    """One vault PATCH of the whole firewall rule set (the bypass, the default action, every rule).

    UNVERIFIED: that networkAcls in a vault PATCH replaces the whole rule set (the emulator does);
    sending every rule is right either way. It takes no If-Match: two people editing one vault's
    rules at the same moment can overwrite each other."""
    from azure.mgmt.keyvault.models import (
        IPRule,
        NetworkRuleSet,
        VaultPatchParameters,
        VaultPatchProperties,
        VirtualNetworkRule,
    )

    rid = parse_resource_id(vault_id, VAULT_TYPE)
    rules = NetworkRuleSet(
        bypass=sent.bypass,
        default_action=sent.default_action,
        ip_rules=[IPRule(value=ip) for ip in sent.ip_rules],
        virtual_network_rules=[VirtualNetworkRule(id=rule) for rule in sent.virtual_network_rules],
    )
    client = writer.factory.keyvault(rid.subscription_id)
    return call(
        f"update firewall of vault {rid.name}",
        NEEDS_VAULT_WRITE,
        lambda: client.vaults.update(
            rid.resource_group,
            rid.name,
            VaultPatchParameters(properties=VaultPatchProperties(network_acls=rules)),
        ),
    )


def allow_trusted_services(writer: GatewayWriter, a: AllowTrustedServices) -> WriteResult:
    """Firewall bypass AzureServices, resending the default action and every IP/VNet rule."""

    def acls(b: dict[str, Any]) -> NetworkAcls:
        return trusted_services_acls(
            b.get("defaultAction"), b.get("ipRules", []), b.get("virtualNetworkRules", [])
        )

    return writer.audited(
        a.remediation,
        a.vault_id,
        lambda b: {
            "method": "PATCH",
            "url": f"{a.vault_id}?api-version=2026-05-15",
            "body": {"properties": {"networkAcls": acls(b).to_request()}},
        },
        before=lambda: vault_state(writer.gateway.get_vault(a.vault_id)),
        done=lambda b: (
            "trusted Microsoft services already bypass the firewall"
            if effective_bypass(b.get("bypass")).lower() == TRUSTED_SERVICES_BYPASS.lower()
            else None
        ),
        act=lambda b: patch_network_acls(writer, a.vault_id, acls(b)),
        after=lambda: vault_state(writer.gateway.get_vault(a.vault_id)),
    )


def enable_purge_protection(writer: GatewayWriter, a: EnablePurgeProtection) -> WriteResult:
    """Turn purge protection on (irreversible)."""
    from azure.mgmt.keyvault.models import VaultPatchParameters, VaultPatchProperties

    rid = parse_resource_id(a.vault_id, VAULT_TYPE)

    def act(_: dict[str, Any]) -> Any:
        client = writer.factory.keyvault(rid.subscription_id)
        return call(
            f"enable purge protection on vault {rid.name}",
            NEEDS_VAULT_WRITE,
            lambda: client.vaults.update(
                rid.resource_group,
                rid.name,
                VaultPatchParameters(properties=VaultPatchProperties(enable_purge_protection=True)),
            ),
        )

    return writer.audited(
        a.remediation,
        a.vault_id,
        {
            "method": "PATCH",
            "url": f"{a.vault_id}?api-version=2026-05-15",
            "body": {"properties": {"enablePurgeProtection": True}},
        },
        before=lambda: vault_state(writer.gateway.get_vault(a.vault_id)),
        done=lambda b: "purge protection is already on" if b.get("purgeProtection") else None,
        act=act,
        after=lambda: vault_state(writer.gateway.get_vault(a.vault_id)),
    )
