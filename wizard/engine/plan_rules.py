"""The per-finding rules of the planner: which actions fix each finding, with what values.

Each rule reads what the diagnosis saw (through the builder's facts) and adds typed actions; the
builder renders and orders them. Words and order come from the catalogue, never from here. The
access and identity rules live in wizard.engine.plan_access.
"""

from __future__ import annotations

from datetime import timedelta

from wizard.domain.access import trusted_services_acls
from wizard.domain.actions import (
    AllowTrustedServices,
    AttachIdentityAndKey,
    ClearKeyNotBefore,
    DeleteFailedCluster,
    EnableKey,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    RecoverKey,
    RecoverVault,
    RecreateResourceGroup,
)
from wizard.domain.catalog import render
from wizard.domain.models import Finding
from wizard.domain.times import iso, utc_seconds
from wizard.engine.plan_access import (
    READY,
    access_steps,
    attach,
    healthy_now,
    identity_steps,
    key_change_blocked,
    plan_new_identity,
    replacement_reason,
)
from wizard.engine.plan_builder import PlanBuilder
from wizard.engine.reads import key_read
from wizard.engine.remedies import versionless_blocker

__all__ = ["READY", "plan_finding"]


def _key_steps(b: PlanBuilder, finding: Finding) -> None:
    """The key's own fixes: recover, enable, extend its expiry, clear its activation date."""
    f = b.f
    vault_id = f.vault.id if f.vault else ""
    key = (vault_id, f.key_url.vault_url if f.key_url else "", f.key_url.key_name if f.key_url else "")
    # the version the cluster uses, never another: the one its URL pins, else the newest as read
    version = (f.key_url.version if f.key_url else None) or (f.key.version if f.key else None)
    key_target = f"{vault_id}/keys/{key[2]}"
    doubt = f.forbidden(key_read(f.vault.id, f.key_url)) if (f.vault and f.key_url) else ""
    match finding.code:
        case "KEY_SOFT_DELETED":
            assert f.key_url is not None
            b.add(
                RecoverKey(*key, version),
                finding,
                target=f"{f.vault_id}/keys/{f.key_url.key_name}",
                before={"state": "soft-deleted", "deletedOn": finding.evidence.get("deletedOn")},
                after={"state": "recovered"},
            )
        case "KEY_DISABLED":
            b.add(
                EnableKey(*key, version),
                finding,
                target=key_target,
                before={"enabled": False},
                after={"enabled": True},
                doubt=doubt,
            )
        case "KEY_EXPIRED" | "KEY_EXPIRING_SOON":
            new = utc_seconds(b.now + timedelta(days=b.expiry_days))
            old = f.key.expires if f.key else None
            b.add(
                ExtendKeyExpiry(*key, version, new),
                finding,
                target=key_target,
                before={"expires": iso(old)},
                after={"expires": iso(new)},
                values={"new_expires": iso(new)},
                doubt=doubt,
            )
        case "KEY_NOT_YET_ACTIVE":
            now = utc_seconds(b.now)
            old = f.key.not_before if f.key else None
            b.add(
                ClearKeyNotBefore(*key, version, now),
                finding,
                target=key_target,
                before={"notBefore": iso(old)},
                after={"notBefore": iso(now)},
                values={"new_not_before": iso(now)},
                doubt=doubt,
            )


def group_of(resource_id: str) -> tuple[str, str] | None:
    """(subscription, resource group) of an ARM id, or None when it names none."""
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 4 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups":
        return parts[1], parts[3]
    return None


def _vault_steps(b: PlanBuilder, finding: Finding) -> None:
    """The vault's fixes: recover it (then grant again), open its firewall, protect it from purge."""
    f = b.f
    match finding.code:
        case "VAULT_SOFT_DELETED":
            d = f.deleted_vault
            assert d is not None
            assert f.key_url is not None
            group = group_of(d.vault_id)
            if d.group_exists is False and group is not None:
                b.add(
                    RecreateResourceGroup(group[0], group[1], d.location),
                    finding,
                    target=f"/subscriptions/{group[0]}/resourceGroups/{group[1]}",
                    before={"resourceGroup": "deleted"},
                    after={"resourceGroup": "created", "location": d.location},
                    values={
                        "subscription_id": group[0],
                        "group_name": group[1],
                        "location": d.location,
                    },
                )
            b.add(
                RecoverVault(d.vault_id, d.name, d.location, f.identity.tenant_id if f.identity else ""),
                finding,
                target=d.vault_id,
                before={
                    "state": "soft-deleted",
                    "deletionDate": iso(d.deletion_date),
                    "scheduledPurgeDate": iso(d.scheduled_purge_date),
                },
                after={"state": "recovered"},
                values={"vault_id": d.vault_id, "location": d.location},
            )
            principal = f.identity.principal_id if f.identity else None
            access_steps(b, finding, principal, provisional=True)
        case "VAULT_FIREWALL_BLOCKS_SERVICE":
            v = f.vault
            assert v is not None
            acls = trusted_services_acls(v.network_default_action, v.ip_rules, v.virtual_network_rules)
            b.add(
                AllowTrustedServices(v.id),
                finding,
                target=v.id,
                before={
                    "bypass": v.network_bypass,
                    "defaultAction": v.network_default_action,
                    "publicNetworkAccess": v.public_network_access,
                    "ipRules": list(v.ip_rules),
                    "virtualNetworkRules": list(v.virtual_network_rules),
                },
                after={
                    "bypass": acls.bypass,
                    "defaultAction": acls.default_action,
                    "publicNetworkAccess": v.public_network_access,
                    "ipRules": list(acls.ip_rules),
                    "virtualNetworkRules": list(acls.virtual_network_rules),
                },
                values={"bypass": v.network_bypass},
            )
        case "VAULT_PURGE_PROTECTION_OFF":
            v = f.vault
            assert v is not None
            b.add(
                EnablePurgeProtection(v.id),
                finding,
                target=v.id,
                before={"enablePurgeProtection": v.purge_protection},
                after={"enablePurgeProtection": True},
                values={"purge_protection": v.purge_protection},
                confirm_text=v.name,
            )


def plan_finding(b: PlanBuilder, finding: Finding) -> None:
    """The steps that fix one finding (or explain why nothing here can)."""
    f = b.f
    code = finding.code
    c = f.cluster
    entry = b.catalog.finding(code)
    if entry.escalation:
        b.escalate(finding, entry.escalation)
        return
    if c is None or code in ("CLUSTER_NOT_CMK", "CLUSTER_INACCESSIBLE"):
        return
    match code:
        case "KEY_SOFT_DELETED" | "KEY_DISABLED" | "KEY_EXPIRED" | "KEY_EXPIRING_SOON" | "KEY_NOT_YET_ACTIVE":
            _key_steps(b, finding)
        case "VAULT_SOFT_DELETED" | "VAULT_FIREWALL_BLOCKS_SERVICE" | "VAULT_PURGE_PROTECTION_OFF":
            _vault_steps(b, finding)
        case "IDENTITY_DELETED" | "IDENTITY_RECREATED" | "IDENTITY_NOT_ATTACHED":
            identity_steps(b, finding)
        case "RBAC_ROLE_MISSING" | "ACCESS_POLICY_MISSING":
            if f.identity_recreated:
                # the principal judged is the recreated one, which the cluster is about to stop
                # using: the new identity's grant (and its attach) fix this finding too
                plan_new_identity(b, finding, replacement_reason(b))
                return
            principal = str(finding.evidence.get("principalId") or "") or None
            missing = finding.evidence.get("missing") if code == "ACCESS_POLICY_MISSING" else None
            access_steps(
                b,
                finding,
                principal,
                provisional=False,
                missing=list(missing) if isinstance(missing, list) else None,
            )
        case "CLUSTER_KEY_URL_VERSIONED":
            reason = versionless_blocker(f, b.checks)
            if reason:
                b.escalate(finding, render(entry.not_offered, {"reason": reason}), verb="Left as it is")
            elif key_change_blocked(b) or not healthy_now(b):
                b.defer(finding, AttachIdentityAndKey.remediation, entry.deferral)
            elif c.key_identity_id:
                attach(
                    b, finding, c.key_identity_id, principal=f.identity.principal_id if f.identity else None
                )
        case "CLUSTER_PROVISIONING_FAILED":
            b.add(
                DeleteFailedCluster(c.id, confirm_name=c.name),
                finding,
                target=c.id,
                before={"clusterStatus": c.cluster_status, "provisioningState": c.provisioning_state},
                after={"cluster": "deleted"},
                confirm_text=c.name,
            )
        case _:
            if not entry.remediations:
                b.escalate(finding, entry.explanation)
