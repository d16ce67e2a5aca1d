"""The planner's rules for access and identity: the grant that fits the vault, a new identity
for a deleted or recreated one, and the cluster pointed at identity and key URL together (with
the versionless URL only when that move is chosen and safe)."""

from __future__ import annotations

from datetime import UTC, datetime

from wizard.domain.access import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    key_permissions_after,
    key_permissions_of,
    missing_key_permissions,
)
from wizard.domain.actions import AddAccessPolicy, AttachIdentityAndKey, CreateIdentity, GrantCryptoRole
from wizard.domain.catalog import render
from wizard.domain.ids import parse_resource_id
from wizard.domain.models import Finding, Severity
from wizard.engine.plan_builder import PlanBuilder
from wizard.engine.remedies import VERSIONED, versionless_blocker
from wizard.engine.tree import Read, ReadKind

READY = "ready"


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


def access_steps(
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


def attach(
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


def identity_steps(b: PlanBuilder, finding: Finding) -> None:
    """The identity's fixes: replace a deleted or recreated identity, or attach the one named."""
    f = b.f
    c = f.cluster
    assert c is not None
    match finding.code:
        case "IDENTITY_DELETED":
            plan_new_identity(b, finding)
        case "IDENTITY_RECREATED":
            plan_new_identity(b, finding, replacement_reason(b))
        case "IDENTITY_NOT_ATTACHED":
            if c.key_identity_id:
                attach(
                    b, finding, c.key_identity_id, principal=f.identity.principal_id if f.identity else None
                )


def replacement_reason(b: PlanBuilder) -> str:
    """Why a recreated identity is replaced, not re-attached (the catalogue's words)."""
    entry = b.catalog.finding("IDENTITY_RECREATED")
    return render(entry.replacement, b.base_values() | {"remembered_principal_id": b.f.remembered_principal})


def plan_new_identity(b: PlanBuilder, finding: Finding, explanation: str = "") -> None:
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
    old_id = c.key_identity_id
    old = parse_resource_id(old_id)
    new = carry.new_identity
    if new is None:
        chosen = carry.replacement if carry.replacement and carry.replacement.stands_for(old_id) else None
        name = parse_resource_id(chosen.identity_id).name if chosen else new_identity_name(old.name, b.now)
        create = CreateIdentity(c.subscription_id, c.resource_group, name, c.location, replaces=old_id)
        if chosen and chosen.audit_id:
            explanation = " ".join(
                part
                for part in (
                    explanation,
                    f"The name is the one an earlier run chose for this incident (audit record "
                    f"{chosen.audit_id}); an identity of that name is reused, never made twice.",
                )
                if part
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
        access_steps(b, finding, None, provisional=True, new_identity=True)
        attach(b, finding, create.identity_id, principal=None, provisional=True)
        return
    # the reason goes with the first step still to come
    if new.principal_id.lower() not in carry.granted_principals:
        access_steps(
            b, finding, new.principal_id, provisional=False, new_identity=True, explanation=explanation
        )
        explanation = ""
    attach(b, finding, new.id, principal=new.principal_id, explanation=explanation)
