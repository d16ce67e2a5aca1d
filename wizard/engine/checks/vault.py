"""Checks on the key vault: found, or soft-deleted; its firewall, protection and placement."""

from __future__ import annotations

from typing import Any

from wizard.domain.access import lets_trusted_services_in
from wizard.domain.models import CheckStatus
from wizard.domain.times import iso
from wizard.engine.checks.gate import CheckContext
from wizard.engine.checks.registry import check
from wizard.engine.checks.verdict import Verdict, skip
from wizard.engine.reads import SUBSCRIPTIONS_READ

NEEDS_SUBSCRIPTIONS = "Reader on the subscriptions to search (Resource Graph shows only what you can read)"


@check("vault.exists", needs=("vault_lookup", "vault_search", "vault"), judges=("vault_lookup", "vault"))
def vault_exists(ctx: CheckContext) -> Verdict:
    """Not found by name in any subscription in sight, or gone when read, is this check's failure."""
    facts = ctx.facts
    lookup, ref, vault_read = facts.vault_lookup_read, facts.vault_ref, facts.vault_read
    assert lookup is not None
    if ref is None or vault_read is None:
        return Verdict(
            CheckStatus.FAIL,
            "not found in any subscription you can see",
            {"vaultName": lookup.args[0]},
            reads=[lookup],
        )
    vault = facts.vault
    if vault is None:
        return Verdict(
            CheckStatus.FAIL,
            "found by name but gone when read",
            {"vaultId": ref.id},
            reads=[lookup, vault_read],
        )
    evidence = {
        "vaultId": vault.id,
        "rbacAuthorization": vault.rbac_authorization,
        "location": vault.location,
    }
    return Verdict(
        CheckStatus.PASS, vault.id.split("/resourceGroups/")[-1], evidence, reads=[lookup, vault_read]
    )


@check("vault.deleted", needs=("vault_lookup", "subscriptions", "deleted_vault"))
def vault_deleted(ctx: CheckContext) -> Verdict:
    """A vault that is not live is soft-deleted (recoverable), or purged once every place it could
    be, live or deleted, was searched; else the question stays open."""
    facts = ctx.facts
    lookup, ref, key_url = facts.vault_lookup_read, facts.vault_ref, facts.key_url
    assert lookup is not None
    assert key_url is not None
    if ref is not None:
        vault_read = facts.vault_read
        assert vault_read is not None
        waiting = ctx.wait(vault_read)
        if waiting:
            return waiting if not waiting.status.done else skip("the vault could not be read")
        if facts.vault is not None:
            return skip("the vault is live")
    reads = facts.deleted_vault_reads
    deleted = facts.deleted_vault
    running = [v for v in map(ctx.wait, reads) if v and not v.status.done]
    if running and deleted is None:
        return Verdict(running[0].status, "waiting for Azure", reads=reads)
    if deleted is not None:
        # found in one subscription: a vault's name is global, the others need not answer
        evidence = {
            "deletionDate": iso(deleted.deletion_date, "auto"),
            "scheduledPurgeDate": iso(deleted.scheduled_purge_date, "auto"),
            "vaultId": deleted.vault_id,
            "purgeProtection": deleted.purge_protection,
        }
        values = {
            "deletion_date": iso(deleted.deletion_date, "auto"),
            "scheduled_purge_date": iso(deleted.scheduled_purge_date, "auto"),
            "vault_id": deleted.vault_id,
        }
        return Verdict(
            CheckStatus.FAIL,
            "soft-deleted: recoverable",
            evidence,
            [("VAULT_SOFT_DELETED", values | evidence)],
            reads=[lookup, *reads],
        )
    # 'gone' only when every place it could be, live or deleted, was searched
    searched = reads if ref is not None else [*facts.live_vault_searches, *reads]
    unanswered = [v for v in map(ctx.wait, searched) if v]
    if ref is None and not isinstance(facts.value(SUBSCRIPTIONS_READ), list) and not unanswered:
        unanswered = [
            Verdict(CheckStatus.UNKNOWN, "Resource Graph listed no subscriptions", needs=NEEDS_SUBSCRIPTIONS)
        ]
    if unanswered:
        first = unanswered[0]
        return Verdict(
            CheckStatus.UNKNOWN,
            f"not every subscription could be searched: {first.detail}",
            needs="; ".join(dict.fromkeys(v.needs for v in unanswered if v.needs)),
            reads=[lookup, *searched],
        )
    subscriptions = [read.args[2] for read in reads]
    where = (
        f"subscription {subscriptions[0]}"
        if ref is not None
        else "the one subscription you can see"
        if len(subscriptions) == 1
        else f"any of the {len(subscriptions)} subscriptions you can see"
    )
    evidence = {"vaultName": key_url.vault_name, "searchedSubscriptions": ", ".join(subscriptions)}
    return Verdict(
        CheckStatus.FAIL,
        "not soft-deleted either: purged, or out of your sight",
        evidence,
        [("VAULT_PURGED", evidence | {"searched": where})],
        reads=[lookup, *searched],
    )


@check("vault.network", needs=("vault",))
def vault_network(ctx: CheckContext) -> Verdict:
    """Key Vault's firewall must be open, or let trusted Microsoft services bypass it; a vault that
    names no bypass (no networkAcls at all, public access Disabled included) bypasses for them, the
    spec's default. UNVERIFIED: that an explicit bypass None keeps them out with public access
    Disabled (a CMK cluster on such a vault turning Inaccessible would settle it)."""
    v, read = ctx.facts.vault, ctx.facts.vault_read
    assert v is not None
    assert read is not None
    evidence = {
        "publicNetworkAccess": v.public_network_access,
        "defaultAction": v.network_default_action,
        "bypass": v.network_bypass,
        "ipRules": list(v.ip_rules),
        "virtualNetworkRules": list(v.virtual_network_rules),
    }
    public_open = (v.public_network_access or "Enabled").lower() != "disabled" and (
        v.network_default_action is None or v.network_default_action.lower() == "allow"
    )
    if public_open:
        return Verdict(CheckStatus.PASS, "public access from all networks", evidence, reads=[read])
    if lets_trusted_services_in(v):
        detail = "trusted Microsoft services may bypass the firewall"
        if v.network_bypass is None:
            detail += " (no bypass set: Azure's default is AzureServices)"
        return Verdict(CheckStatus.PASS, detail, evidence, reads=[read])
    values = {
        "public_network_access": v.public_network_access,
        "default_action": v.network_default_action,
        "bypass": v.network_bypass,
    }
    return Verdict(
        CheckStatus.FAIL,
        "closed to trusted Microsoft services",
        evidence,
        [("VAULT_FIREWALL_BLOCKS_SERVICE", values | evidence)],
        reads=[read],
    )


@check("vault.protection", needs=("vault",))
def vault_protection(ctx: CheckContext) -> Verdict:
    """Without purge protection a deleted vault, and every key in it, can be lost for good."""
    v, read = ctx.facts.vault, ctx.facts.vault_read
    assert v is not None
    assert read is not None
    evidence = {"softDelete": v.soft_delete, "purgeProtection": v.purge_protection}
    if v.soft_delete is not False and v.purge_protection:
        return Verdict(CheckStatus.PASS, "soft delete and purge protection on", evidence, reads=[read])
    values = {"soft_delete": v.soft_delete is not False, "purge_protection": bool(v.purge_protection)}
    return Verdict(
        CheckStatus.FAIL,
        "purge protection off",
        evidence,
        [("VAULT_PURGE_PROTECTION_OFF", values)],
        reads=[read],
    )


def _region(name: str) -> str:
    return name.replace(" ", "").lower()


@check("vault.placement", needs=("vault", "identity"), optional=("identity",))
def vault_placement(ctx: CheckContext) -> Verdict:
    """The vault belongs in the cluster's tenant and region; the identity's tenant counts once known."""
    facts = ctx.facts
    v, c, identity = facts.vault, facts.cluster, facts.identity
    assert v is not None
    assert c is not None
    evidence = {
        "vaultLocation": v.location,
        "clusterLocation": c.location,
        "vaultTenant": v.tenant_id,
        "identityTenant": identity.tenant_id if identity else None,
    }
    findings: list[tuple[str, dict[str, Any]]] = []
    if identity and identity.tenant_id.lower() != v.tenant_id.lower():
        findings.append(("VAULT_TENANT_MISMATCH", {"identity_tenant": identity.tenant_id}))
    if _region(v.location) != _region(c.location):
        findings.append(("VAULT_REGION_MISMATCH", {}))
    reads = [r for r in (facts.vault_read, facts.identity_read) if r]
    if findings:
        return Verdict(
            CheckStatus.FAIL, "placement differs from the cluster's", evidence, findings, reads=reads
        )
    return Verdict(CheckStatus.PASS, f"{v.location}, same tenant", evidence, reads=reads)
