"""Did a step take? Judged by the fresh diagnosis: its checks pass, or its finding is gone."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wizard.domain.actions import (
    AddAccessPolicy,
    AllowOperatorIp,
    AttachIdentityAndKey,
    CreateIdentity,
    DeleteFailedCluster,
    GrantCryptoRole,
    RecreateResourceGroup,
    RemoveOperatorIp,
)
from wizard.domain.errors import BadInput
from wizard.domain.ids import parse_key_url
from wizard.domain.models import CheckStatus
from wizard.domain.network import address_in_rules, is_operator_rule
from wizard.domain.results import VerificationStatus
from wizard.engine.steps import Step
from wizard.run.diagnose import Diagnosis


@dataclass(frozen=True)
class Verification:
    """Did the change take? verified, deferred (cannot be seen yet) or failed."""

    status: VerificationStatus
    detail: str
    checks: tuple[tuple[str, str, str], ...] = ()


def _versionless(key_url: str) -> bool:
    """A well-formed key URL without a version."""
    try:
        return parse_key_url(key_url or "").version is None
    except BadInput:
        return False


def _for_new_identity(action: object) -> bool:
    """A write for an identity the cluster does not use yet: the diagnosis cannot show it."""
    if isinstance(action, CreateIdentity):
        return True
    return isinstance(action, GrantCryptoRole | AddAccessPolicy) and action.new_identity


def _verify_operator_rule(
    action: AllowOperatorIp | RemoveOperatorIp, after: dict[str, Any], rows: tuple[tuple[str, str, str], ...]
) -> Verification:
    """A temporary rule is judged by the vault read back (and, once added, by the data plane's answer):
    the diagnosis reads the management plane only, which no firewall rule changes."""
    if after.get("unreadable"):
        return Verification(
            VerificationStatus.DEFERRED, f"the vault could not be read back: {after['unreadable']}"
        )
    present = any(is_operator_rule(str(r), action.address) for r in after.get("ipRules", []))
    if isinstance(action, RemoveOperatorIp):
        if present:
            return Verification(
                VerificationStatus.FAILED, f"{action.ip_rule} is still in the vault's rules", rows
            )
        return Verification(
            VerificationStatus.VERIFIED, f"{action.ip_rule} is gone; the other rules are as they were", rows
        )
    if not present and not address_in_rules(action.address, after.get("ipRules", [])):
        return Verification(VerificationStatus.FAILED, f"{action.ip_rule} is not in the vault's rules", rows)
    reach = str(after.get("dataPlane") or "not probed")
    if reach.startswith("reachable"):
        return Verification(VerificationStatus.VERIFIED, f"{action.ip_rule} added; data plane {reach}", rows)
    return Verification(VerificationStatus.DEFERRED, f"{action.ip_rule} added; data plane {reach}", rows)


def verify(step: Step, diagnosis: Diagnosis, after: dict[str, Any] | None = None) -> Verification:
    """Judge a step by the fresh diagnosis: its checks pass, or its finding is gone."""
    checks = {c.id: c for c in diagnosis.assessment.checks}
    rows = tuple(
        (cid, checks[cid].status.value, checks[cid].detail) for cid in step.verifies if cid in checks
    )
    codes = {f.code for f in diagnosis.findings}
    action = step.action
    if isinstance(action, DeleteFailedCluster):
        if "CLUSTER_NOT_FOUND" in codes:
            return Verification(VerificationStatus.VERIFIED, "the failed cluster no longer exists", rows)
        return Verification(VerificationStatus.FAILED, "the cluster still exists", rows)
    if _for_new_identity(action):
        readable = after is not None and not after.get("unreadable")
        return Verification(
            VerificationStatus.VERIFIED if readable else VerificationStatus.DEFERRED,
            "read back after the write; the diagnosis confirms it once the cluster uses the new identity",
            rows,
        )
    if isinstance(action, AllowOperatorIp | RemoveOperatorIp):
        return _verify_operator_rule(action, after or {}, rows)
    if isinstance(action, RecreateResourceGroup):
        # the diagnosis shows the vault, not its group: the group read back is the evidence
        if (after or {}).get("resourceGroup") == "present":
            return Verification(VerificationStatus.VERIFIED, f"resource group {action.name} exists", rows)
        return Verification(VerificationStatus.FAILED, f"resource group {action.name} is not there", rows)
    if isinstance(action, AttachIdentityAndKey):
        wanted = ["identity.attached", "identity.principal"]
        if _versionless(action.key_url):
            wanted.append("cluster.key_url")
        failing = [cid for cid in wanted if cid in checks and checks[cid].status != CheckStatus.PASS]
        if not failing:
            return Verification(
                VerificationStatus.VERIFIED, "the cluster uses the identity and key URL", rows
            )
        return Verification(
            VerificationStatus.FAILED,
            "still failing: " + ", ".join(f"{cid} ({checks[cid].detail})" for cid in failing),
            rows,
        )
    primary = checks.get(step.verifies[0]) if step.verifies else None
    still = step.finding in codes and step.finding != "CLUSTER_INACCESSIBLE"
    if primary is not None and primary.status == CheckStatus.PASS:
        return Verification(VerificationStatus.VERIFIED, f"{primary.id}: {primary.detail}", rows)
    if primary is not None and primary.status == CheckStatus.FAIL:
        # the finding may be gone while its check still fails under another code (a key just
        # recovered reads as missing for seconds): that is not the change taking
        return Verification(VerificationStatus.FAILED, f"{primary.id} still fails: {primary.detail}", rows)
    if not still and (primary is None or primary.status != CheckStatus.UNKNOWN):
        return Verification(VerificationStatus.VERIFIED, f"{step.finding} is gone", rows)
    detail = primary.detail if primary is not None else "no check to re-run"
    return Verification(VerificationStatus.DEFERRED, f"cannot confirm yet: {detail}", rows)


@dataclass(frozen=True)
class SettleWait:
    """How long a write's verification keeps reading again before it trusts a failing read."""

    timeout: float = 60.0
    first_poll: float = 5.0
    max_poll: float = 15.0


def verify_until_settled(
    step: Step,
    diagnose: Callable[[], Diagnosis],
    first: Verification,
    after: dict[str, Any] | None,
    wait: SettleWait,
    *,
    tell: Callable[[str], None],
    cancel: threading.Event | None = None,
    clock: Callable[[], float],
) -> Verification:
    """Azure's reads are eventually consistent (a key just recovered is 404 for seconds, recorded):
    a failing verification is read again, with backoff, until it passes or `wait.timeout` is
    spent; only then is it failed."""
    verification = first
    if verification.status != VerificationStatus.FAILED or wait.timeout <= 0:
        return verification
    tell(
        f"{step.remediation}: the fresh read does not show the change yet ({verification.detail}); "
        f"Azure's reads catch up within seconds, so the wizard reads again for up to {wait.timeout:g} s"
    )
    pause = cancel or threading.Event()
    deadline = clock() + wait.timeout
    delay = wait.first_poll
    while verification.status == VerificationStatus.FAILED:
        left = deadline - clock()
        if left <= 0 or pause.wait(min(delay, left)):
            return verification
        verification = verify(step, diagnose(), after)
        delay = min(delay * 2, wait.max_poll)
    return verification
