"""Checks on the identity's access to the key: an RBAC role, or an access policy, as the vault uses."""

from __future__ import annotations

from typing import Any

from wizard.domain.access import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    KEY_PERMISSION_NAMES,
    REQUIRED_KEY_PERMISSIONS,
)
from wizard.domain.models import CheckStatus
from wizard.engine.checks.gate import CheckContext
from wizard.engine.checks.registry import check
from wizard.engine.checks.verdict import Verdict, skip
from wizard.engine.roles import (
    KNOWN_INSUFFICIENT_ROLES,
    KNOWN_SUFFICIENT_ROLES,
    covers_key_use,
    missing_data_actions,
)

NEEDS_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader)"


def _principal(ctx: CheckContext, rbac: bool) -> Verdict | str:
    """The principal whose access to judge, or why there is none to judge yet."""
    facts = ctx.facts
    vault = facts.vault
    assert vault is not None
    if vault.rbac_authorization != rbac:
        return skip("the vault uses " + ("RBAC" if vault.rbac_authorization else "access policies"))
    identity_read = facts.identity_read
    if identity_read is None:
        return skip("the cluster names no key identity")
    if facts.identity_deleted:
        return skip("the identity was deleted; a new one must be granted")
    if facts.outcome(identity_read) is None and facts.remembered_principal is None:
        waiting = ctx.wait(identity_read)
        assert waiting is not None
        return Verdict(waiting.status, "waiting for the identity", reads=[identity_read])
    principal = facts.access_principal
    if principal is None:
        return Verdict(
            CheckStatus.UNKNOWN, "no principal to check: the identity could not be read", needs=NEEDS_IDENTITY
        )
    return principal


def _with_current_principal(verdict: Verdict, ctx: CheckContext) -> Verdict:
    """Access judged on the principal the cluster remembers is not an answer when the identity
    could not be read: it may have been recreated with a new principal."""
    if not ctx.facts.identity_unreadable or verdict.status not in (CheckStatus.PASS, CheckStatus.FAIL):
        return verdict
    return Verdict(
        CheckStatus.UNKNOWN,
        f"for the principal the cluster remembers: {verdict.detail}; whether that is still "
        "the identity's principal is unknown",
        verdict.evidence,
        needs="Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader on the identity)",
        reads=verdict.reads,
    )


@check("access.rbac", needs=("vault", "role_assignments", "role_definitions", "role_definition"))
def access_rbac(ctx: CheckContext) -> Verdict:
    """The identity needs a role whose data actions allow keys read, wrap and unwrap at a scope
    covering the key; custom roles are read to find out."""
    principal = _principal(ctx, rbac=True)
    if isinstance(principal, Verdict):
        return principal
    return _with_current_principal(_rbac_verdict(ctx, principal), ctx)


def _rbac_verdict(ctx: CheckContext, principal: str) -> Verdict:
    facts = ctx.facts
    read = facts.role_assignments_read(principal)
    assert read is not None
    waiting = ctx.wait(read)
    if waiting:
        return waiting
    covering = facts.assignments_covering_key(principal) or []
    evidence: dict[str, Any] = {
        "principalId": principal,
        "assignments": [{"role": a.role_guid, "scope": a.scope} for a in covering],
    }
    reads = [read]
    for a in covering:
        if a.role_guid in KNOWN_SUFFICIENT_ROLES:
            documented = a.role_guid == CRYPTO_SERVICE_ENCRYPTION_USER
            name = KNOWN_SUFFICIENT_ROLES[a.role_guid]
            detail = f"{name} at {a.scope}" + ("" if documented else " (not the documented role)")
            return Verdict(CheckStatus.PASS, detail, evidence, reads=reads)
    undecided = []
    insufficient = []
    for a in covering:
        if a.role_guid in KNOWN_INSUFFICIENT_ROLES:
            insufficient.append(KNOWN_INSUFFICIENT_ROLES[a.role_guid])
            continue
        role_reads = facts.role_reads(a.role_definition_id)
        reads += role_reads
        waiting = ctx.wait(role_reads[-1])
        if waiting:
            if not waiting.status.done:
                return Verdict(waiting.status, "reading a custom role", evidence, reads=reads)
            undecided.append(a.role_definition_id)
            continue
        role = facts.role_definition(a.role_definition_id)
        if role is not None:
            if covers_key_use(role):
                return Verdict(
                    CheckStatus.PASS, f"custom role {role.role_name} at {a.scope}", evidence, reads=reads
                )
            insufficient.append(f"{role.role_name} (lacks {', '.join(missing_data_actions(role))})")
    evidence["insufficientRoles"] = insufficient
    if undecided:
        return Verdict(
            CheckStatus.UNKNOWN,
            "some role definitions could not be read",
            evidence,
            needs="Microsoft.Authorization/roleDefinitions/read (Reader)",
            reads=reads,
        )
    return Verdict(
        CheckStatus.FAIL,
        "no role allows keys read, wrap and unwrap",
        evidence,
        [("RBAC_ROLE_MISSING", {"principal_id": principal})],
        reads=reads,
    )


@check("access.policy", needs=("vault",))
def access_policy(ctx: CheckContext) -> Verdict:
    """The identity's access policy must grant get, list, wrapKey and unwrapKey (or all)."""
    principal = _principal(ctx, rbac=False)
    if isinstance(principal, Verdict):
        return principal
    return _with_current_principal(_policy_verdict(ctx, principal), ctx)


def _policy_verdict(ctx: CheckContext, principal: str) -> Verdict:
    facts = ctx.facts
    read = facts.vault_read
    assert read is not None
    granted = facts.principal_key_permissions(principal)
    missing = [p for p in REQUIRED_KEY_PERMISSIONS if "all" not in granted and p not in granted]
    evidence = {
        "principalId": principal,
        "keyPermissions": sorted(granted),
        "missing": [KEY_PERMISSION_NAMES[m] for m in missing],
    }
    if not missing:
        return Verdict(CheckStatus.PASS, "get, list, wrapKey, unwrapKey granted", evidence, reads=[read])
    names = [KEY_PERMISSION_NAMES[m] for m in missing]
    values = {"principal_id": principal, "missing": ", ".join(names), "missing_space": " ".join(names)}
    return Verdict(
        CheckStatus.FAIL,
        f"missing {', '.join(names)}",
        evidence,
        [("ACCESS_POLICY_MISSING", values)],
        reads=[read],
    )
