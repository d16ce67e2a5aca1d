"""Which of a finding's catalogue remediations apply to THIS estate: the vault's permission model,
and whether a versionless key URL would still work. The planner asks the same questions here, so
a finding never lists a fix the plan would not make."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from wizard.domain.actions import AddAccessPolicy, GrantCryptoRole
from wizard.domain.catalog import load_catalog
from wizard.domain.models import CheckResult, CheckStatus, Finding
from wizard.engine.facts import Facts

VERSIONED = "CLUSTER_KEY_URL_VERSIONED"


def fits_vault(remediation: str, facts: Facts) -> bool:
    """A role grant fits an RBAC vault, an access policy the other model; both while the vault is unread."""
    if facts.vault is None:
        return True
    if remediation == GrantCryptoRole.remediation:
        return facts.vault.rbac_authorization
    if remediation == AddAccessPolicy.remediation:
        return not facts.vault.rbac_authorization
    return True


def access_check_id(facts: Facts) -> str:
    """The access check that judges the cluster's identity on this vault."""
    policies = facts.vault is not None and not facts.vault.rbac_authorization
    return "access.policy" if policies else "access.rbac"


def versionless_blocker(facts: Facts, checks: Mapping[str, CheckResult]) -> str:
    """Why the cluster must not move to its versionless key URL ("": it may).

    The move points the cluster at the newest version, so that version must be usable (key.newest)
    and the identity must be able to use the key (its access check passes: access is per key, the
    same for every version). Anything unread or unknown blocks it: the move is never a guess.

    UNVERIFIED: what a live mongoCluster does with a PATCH to a key version it cannot use (the
    emulator fails the operation with KeyEncryptionKeyAccessFailed; an operator reported an outage
    of up to an hour each way). The move is never sent then, so either is safe; such a PATCH on a
    test cluster, then its operation status and a GET, would settle it."""
    if facts.key_url is None:
        return "the key URL cannot be parsed"
    if not facts.key_url.version:
        return ""
    newest = checks.get("key.newest")
    if newest is None:
        return "the newest key version was not judged"
    if newest.status == CheckStatus.FAIL:
        return f"the {newest.detail}: moving there would make the cluster Inaccessible"
    if newest.status != CheckStatus.PASS:
        return f"the newest key version could not be judged ({newest.detail or newest.status})"
    access = checks.get(access_check_id(facts))
    if access is None or access.status != CheckStatus.PASS:
        detail = f"{access.id}: {access.detail or access.status}" if access else "not checked"
        return f"the identity's access to the key is not confirmed ({detail})"
    return ""


def refine(findings: Iterable[Finding], facts: Facts, checks: Mapping[str, CheckResult]) -> list[Finding]:
    """Each finding with only the remediations that apply here; a fix not offered says why."""
    catalog = load_catalog()
    refined = []
    for finding in findings:
        remediations = tuple(r for r in finding.remediations if fits_vault(r, facts))
        recreated = catalog.finding(finding.code).when_recreated
        if recreated and facts.identity_recreated:
            finding = replace(finding, summary=f"{finding.summary} {recreated}")
        if finding.code == VERSIONED:
            reason = versionless_blocker(facts, checks)
            if reason:
                finding = replace(
                    finding,
                    summary=f"{finding.summary} No fix is offered: {reason}.",
                    evidence={**finding.evidence, "versionlessNotOffered": reason},
                )
                remediations = ()
        refined.append(replace(finding, remediations=remediations))
    return refined
