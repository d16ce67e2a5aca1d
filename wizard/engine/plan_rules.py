"""The per-finding rules of the planner: which actions fix each finding, with what values.

Each rule reads what the diagnosis saw (through the builder's facts) and adds typed actions; the
builder renders and orders them. Words and order come from the catalogue, never from here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wizard.domain.access import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    key_permissions_after,
    key_permissions_of,
    missing_key_permissions,
    trusted_services_acls,
)
from wizard.domain.actions import (
    AddAccessPolicy,
    AllowTrustedServices,
    AttachIdentityAndKey,
    ClearKeyNotBefore,
    CreateIdentity,
    DeleteFailedCluster,
    EnableKey,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    GrantCryptoRole,
    RecoverKey,
    RecoverVault,
)
from wizard.domain.catalog import render
from wizard.domain.ids import parse_resource_id
from wizard.domain.models import Finding, Severity
from wizard.domain.times import iso, utc_seconds
from wizard.engine.plan_builder import PlanBuilder
from wizard.engine.reads import key_read
from wizard.engine.remedies import VERSIONED, versionless_blocker
from wizard.engine.tree import Read, ReadKind

READY = "ready"
ACCESS_FINDINGS = ("RBAC_ROLE_MISSING", "ACCESS_POLICY_MISSING")


def new_identity_name(old_name: str, now: datetime) -> str:
    """`<old>-<yyyymmddHHMM>`: a fresh name (a same-name identity would not recover anything)."""
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M")
    return f"{old_name[: 128 - len(stamp) - 1]}-{stamp}"


def key_change_blocked(b: PlanBuilder) -> bool:
    """The seed page: after an expiry extension, no key change until the cluster is Ready."""
    f = b.f
    codes = {x.code for x in b.assessment.findings}
    ready = bool(f.cluster and f.cluster.cluster_status.lower() == READY)
    return "KEY_EXPIRED" in codes or (b.carry.expiry_extended and not ready)


def healthy_now(b: PlanBuilder) -> bool:
    """Ready and no critical finding: the only state in which a key URL may change at all."""
    c = b.f.cluster
    ready = bool(c and c.cluster_status.lower() == READY)
    return ready and not any(x.severity == Severity.CRITICAL for x in b.assessment.findings)


def may_go_versionless(b: PlanBuilder) -> bool:
    """The versionless URL only when CLUSTER_KEY_URL_VERSIONED was chosen, the cluster is healthy,
    and the newest version is usable by its identity: else the move itself could take it down."""
    return (
        VERSIONED in b.chosen
        and not key_change_blocked(b)
        and healthy_now(b)
        and not versionless_blocker(b.f, b.checks)
    )


def _grant_doubt(b: PlanBuilder, principal: str | None) -> str:
    """The permission the operator lacked reading role assignments at the vault (for this
    principal; for one not created yet, for any principal)."""
    f = b.f
    if principal:
        return f.forbidden(Read(ReadKind.ROLE_ASSIGNMENTS, (f.vault_id, principal)))
    return next(
        (
            doubt
            for read in f.known
            if read.kind == ReadKind.ROLE_ASSIGNMENTS and read.args[0] == f.vault_id
            for doubt in [f.forbidden(read)]
            if doubt
        ),
        "",
    )


def _access_steps(
    b: PlanBuilder,
    finding: Finding,
    principal: str | None,
    *,
    provisional: bool,
    missing: list[str] | None = None,
    new_identity: bool = False,
    explanation: str = "",
) -> None:
    """The grant that fits the vault: the role on an RBAC vault, else the missing key permissions."""
    f = b.f
    vault_id = f.vault_id
    shown = principal or "<principal of the new identity>"
    rbac = f.vault.rbac_authorization if f.vault else True
    if rbac:
        b.add(
            GrantCryptoRole(vault_id, principal, new_identity),
            finding,
            target=vault_id,
            before={"roleAssignments": []},
            after={
                "roleAssignments": [
                    {
                        "role": CRYPTO_SERVICE_ENCRYPTION_USER,
                        "scope": vault_id,
                        "principalType": GrantCryptoRole.principal_type,
                    }
                ]
            },
            values={"principal_id": shown},
            provisional=provisional or principal is None,
            doubt=_grant_doubt(b, principal),
            explanation=explanation,
        )
        return
    assert f.vault is not None
    granted = key_permissions_of(f.vault, principal) if principal else set()
    wanted = missing if missing is not None else missing_key_permissions(granted)
    b.add(
        AddAccessPolicy(vault_id, principal, new_identity, f.vault.tenant_id, tuple(wanted)),
        finding,
        target=f.vault.id,
        before={"keyPermissions": sorted(granted)},
        after={"keyPermissions": sorted(granted | {p.lower() for p in wanted})},
        values={
            "principal_id": shown,
            "missing": ", ".join(wanted),
            "missing_space": " ".join(wanted),
            "key_permissions_after": " ".join(key_permissions_after(granted, wanted)),
        },
        provisional=provisional or principal is None,
        explanation=explanation,
    )


def _attach(
    b: PlanBuilder,
    finding: Finding,
    identity_id: str,
    *,
    principal: str | None,
    provisional: bool = False,
    explanation: str = "",
) -> None:
    """Point the cluster at the identity and its key URL, sent together: the URL it has, or the
    versionless one when that move was chosen and is safe (may_go_versionless)."""
    f = b.f
    c = f.cluster
    assert c is not None
    key_url = c.key_url or ""
    if f.key_url and may_go_versionless(b):
        key_url = f.key_url.versionless
    b.add(
        AttachIdentityAndKey(c.id, identity_id, key_url, principal),
        finding,
        target=c.id,
        before={
            "keyIdentity": c.key_identity_id,
            "keyUrl": c.key_url,
            "identities": [a.resource_id for a in c.attached_identities],
        },
        after={"keyIdentity": identity_id, "keyUrl": key_url},
        values={"identity_id": identity_id, "key_url": key_url},
        provisional=provisional,
        doubt=f.forbidden(Read(ReadKind.CLUSTER, (c.id,))),
        explanation=explanation,
    )


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


def _vault_steps(b: PlanBuilder, finding: Finding) -> None:
    """The vault's fixes: recover it (then grant again), open its firewall, protect it from purge."""
    f = b.f
    match finding.code:
        case "VAULT_SOFT_DELETED":
            d = f.deleted_vault
            assert d is not None
            assert f.key_url is not None
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
            _access_steps(b, finding, principal, provisional=True)
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


def _identity_steps(b: PlanBuilder, finding: Finding) -> None:
    """The identity's fixes: replace a deleted or recreated identity, or attach the one named."""
    f = b.f
    c = f.cluster
    assert c is not None
    match finding.code:
        case "IDENTITY_DELETED":
            _plan_new_identity(b, finding)
        case "IDENTITY_RECREATED":
            _plan_new_identity(b, finding, _replacement_reason(b))
        case "IDENTITY_NOT_ATTACHED":
            if c.key_identity_id:
                _attach(
                    b, finding, c.key_identity_id, principal=f.identity.principal_id if f.identity else None
                )


def _replacement_reason(b: PlanBuilder) -> str:
    """Why a recreated identity is replaced, not re-attached (the catalogue's words)."""
    entry = b.catalog.finding("IDENTITY_RECREATED")
    return render(entry.replacement, b.base_values() | {"remembered_principal_id": b.f.remembered_principal})


def _plan_new_identity(b: PlanBuilder, finding: Finding, explanation: str = "") -> None:
    """A new identity (`<old>-<stamp>`), then access for it, then the cluster pointed at it.

    For a deleted identity and for a same-name recreated one alike: re-attaching the same id does
    not make the cluster take up a new principal. UNVERIFIED on a live mongoCluster (the emulator
    models it on VM/VMSS user-assigned identities): a same-id PATCH after re-creating the
    identity, then a GET of identity.userAssignedIdentities, would settle it; a new identity is
    right either way."""
    f, carry = b.f, b.carry
    c = f.cluster
    assert c is not None
    assert c.key_identity_id
    old = parse_resource_id(c.key_identity_id)
    new = carry.new_identity
    if new is None:
        create = CreateIdentity(
            c.subscription_id, c.resource_group, new_identity_name(old.name, b.now), c.location
        )
        b.add(
            create,
            finding,
            target=create.identity_id,
            before={"identity": None},
            after={"identity": create.identity_id, "location": c.location},
            values={"new_identity_name": create.name},
            explanation=explanation,
        )
        _access_steps(b, finding, None, provisional=True, new_identity=True)
        _attach(b, finding, create.identity_id, principal=None, provisional=True)
        return
    # the reason goes with the first step still to come
    if new.principal_id.lower() not in carry.granted_principals:
        _access_steps(
            b, finding, new.principal_id, provisional=False, new_identity=True, explanation=explanation
        )
        explanation = ""
    _attach(b, finding, new.id, principal=new.principal_id, explanation=explanation)


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
            _identity_steps(b, finding)
        case "RBAC_ROLE_MISSING" | "ACCESS_POLICY_MISSING":
            if f.identity_recreated:
                # the principal judged is the recreated one, which the cluster is about to stop
                # using: the new identity's grant (and its attach) fix this finding too
                _plan_new_identity(b, finding, _replacement_reason(b))
                return
            principal = str(finding.evidence.get("principalId") or "") or None
            missing = finding.evidence.get("missing") if code == "ACCESS_POLICY_MISSING" else None
            _access_steps(
                b,
                finding,
                principal,
                provisional=False,
                missing=list(missing) if isinstance(missing, list) else None,
            )
        case "CLUSTER_KEY_URL_VERSIONED":
            reason = versionless_blocker(f, b.checks)
            if reason:
                b.escalate(finding, render(entry.not_offered, {"reason": reason}))
            elif key_change_blocked(b) or not healthy_now(b):
                b.defer(finding, AttachIdentityAndKey.remediation, entry.deferral)
            elif c.key_identity_id:
                _attach(
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
