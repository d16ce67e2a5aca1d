"""Builds a plan's steps: what the diagnosis read, rendered through the catalogue, in phase order.

The per-finding rules (wizard.engine.plan_rules) decide WHICH steps; this module turns each into a
concrete Step (titles, REST call, az command, permission) and keeps them ordered and unique.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from wizard.domain.actions import ESCALATION, WAIT_FOR_READY, Action
from wizard.domain.catalog import load_catalog, render
from wizard.domain.errors import Forbidden
from wizard.domain.ids import KeyUrl
from wizard.domain.models import (
    CheckResult,
    CheckStatus,
    ClusterFacts,
    DeletedVaultFacts,
    Finding,
    IdentityFacts,
    KeyFacts,
    VaultFacts,
    VaultRef,
)
from wizard.domain.results import ConfirmKind, StepKind
from wizard.domain.times import iso
from wizard.engine.assess import Assessment
from wizard.engine.facts import deleted_vault_of, key_url_of, vault_ref_of
from wizard.engine.reads import key_read
from wizard.engine.steps import Carry, Step
from wizard.engine.tree import Read, ReadKind


class DiagnosisLike(Protocol):
    """What the planner needs from a diagnosis (wizard.run.diagnose.Diagnosis fits)."""

    @property
    def cluster_id(self) -> str: ...

    @property
    def assessment(self) -> Assessment: ...

    @property
    def known(self) -> Mapping[Read, Any]: ...


@dataclass
class _Facts:
    cluster_id: str
    assessment: Assessment
    known: Mapping[Read, Any]
    now: datetime
    cluster: ClusterFacts | None = None
    key: KeyUrl | None = None
    identity: IdentityFacts | None = None
    vault_ref: VaultRef | None = None
    vault: VaultFacts | None = None
    deleted_vault: DeletedVaultFacts | None = None
    key_facts: KeyFacts | None = None
    checks: dict[str, CheckResult] = field(default_factory=dict)

    def value(self, read: Read) -> Any:
        outcome = self.known.get(read)
        if outcome is None or getattr(outcome, "error", None) is not None:
            return None
        return getattr(outcome, "value", None)

    def forbidden(self, read: Read | None) -> str:
        """The permission the operator lacked reading this target, if they lacked one."""
        outcome = self.known.get(read) if read else None
        error = getattr(outcome, "error", None)
        return error.needs or str(error) if isinstance(error, Forbidden) else ""

    @property
    def vault_id(self) -> str:
        """The vault's id from what was read: the vault, its lookup, or its deleted record ("" if none)."""
        if self.vault:
            return self.vault.id
        if self.vault_ref:
            return self.vault_ref.id
        return self.deleted_vault.vault_id if self.deleted_vault else ""

    def status(self, check_id: str) -> CheckStatus | None:
        check = self.checks.get(check_id)
        return check.status if check else None


def _facts(diagnosis: DiagnosisLike, now: datetime) -> _Facts:
    f = _Facts(diagnosis.cluster_id, diagnosis.assessment, diagnosis.known, now)
    f.checks = {c.id: c for c in diagnosis.assessment.checks}
    cluster = f.value(Read(ReadKind.CLUSTER, (diagnosis.cluster_id,)))
    f.cluster = cluster if isinstance(cluster, ClusterFacts) else None
    if f.cluster is None:
        return f
    f.key = key_url_of(f.cluster)
    if f.cluster.key_identity_id:
        identity = f.value(Read(ReadKind.IDENTITY, (f.cluster.key_identity_id,)))
        f.identity = identity if isinstance(identity, IdentityFacts) else None
    if f.key is None:
        return f
    ref = vault_ref_of(f.cluster, f.key, f.known)
    if isinstance(ref, VaultRef):
        f.vault_ref = ref
        vault = f.value(Read(ReadKind.VAULT, (ref.id,)))
        f.vault = vault if isinstance(vault, VaultFacts) else None
        key = f.value(key_read(ref.id, f.key))
        f.key_facts = key if isinstance(key, KeyFacts) else None
    if f.vault is None:
        f.deleted_vault = deleted_vault_of(f.cluster, f.key, f.vault_ref, f.known)
    return f


class PlanBuilder:
    """Collects the steps of one plan: each rendered from the catalogue, one per key, in phase order."""

    def __init__(self, diagnosis: DiagnosisLike, now: datetime, carry: Carry, expiry_days: int) -> None:
        self.f = _facts(diagnosis, now)
        self.carry = carry
        self.expiry_days = expiry_days
        self.catalog = load_catalog()
        self.steps: list[tuple[int, int, Step]] = []
        self.notes: list[str] = []
        self.keys: dict[str, int] = {}

    def base_values(self) -> dict[str, Any]:
        """What every catalogue template may name: the cluster, its key and vault as read."""
        f = self.f
        values: dict[str, Any] = {"cluster_id": f.cluster_id}
        c = f.cluster
        if c:
            values.update(
                cluster_name=c.name,
                location=c.location,
                resource_group=c.resource_group,
                subscription_id=c.subscription_id,
                identity_id=c.key_identity_id,
                key_url=c.key_url,
                old_identity_id=c.key_identity_id,
                old_key_url=c.key_url,
            )
        if f.key:
            values.update(vault_name=f.key.vault_name, key_name=f.key.key_name, vault_url=f.key.vault_url)
        vault_id = f.vault_id
        if vault_id:
            values["vault_id"] = vault_id
        if f.key_facts:
            values.update(
                key_version=f.key_facts.version,
                expires=iso(f.key_facts.expires),
                not_before=iso(f.key_facts.not_before),
            )
        return values

    def add(
        self,
        action: Action,
        finding: Finding | str,
        *,
        target: str,
        before: dict[str, Any],
        after: dict[str, Any],
        values: dict[str, Any] | None = None,
        provisional: bool = False,
        doubt: str = "",
        confirm_text: str = "",
        explanation: str = "",
    ) -> None:
        """A write step for `action`; the same write planned for another finding is named once."""
        self._planned(
            action.remediation,
            StepKind.WRITE,
            action,
            finding,
            target=target,
            before=before,
            after=after,
            values=values,
            provisional=provisional,
            doubt=doubt,
            confirm_text=confirm_text,
            explanation=explanation,
        )

    def wait(
        self, finding: Finding | str, *, target: str, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """The wait for Ready: it only reads."""
        self._planned(WAIT_FOR_READY, StepKind.WAIT, None, finding, target=target, before=before, after=after)

    def _planned(
        self,
        remediation: str,
        kind: StepKind,
        action: Action | None,
        finding: Finding | str,
        *,
        target: str,
        before: dict[str, Any],
        after: dict[str, Any],
        values: dict[str, Any] | None = None,
        provisional: bool = False,
        doubt: str = "",
        confirm_text: str = "",
        explanation: str = "",
    ) -> None:
        spec = self.catalog.remediations[remediation]
        code = finding.code if isinstance(finding, Finding) else finding
        merged = self.base_values() | (values or {})
        step = Step(
            remediation=remediation,
            finding=code,
            kind=kind,
            title=spec.title,
            summary=render(spec.summary, merged),
            change=render(spec.change, merged),
            before=before,
            after=after,
            action=action,
            target=target,
            rest=render(spec.rest, merged),
            az=render(spec.az, merged),
            permission=spec.permission,
            reversible=spec.reversible,
            confirm=spec.confirm,
            confirm_text=confirm_text if spec.confirm == ConfirmKind.TYPED else "",
            verifies=spec.verifies,
            provisional=provisional,
            permission_doubt=doubt,
            explanation=explanation,
        )
        if step.key in self.keys:
            index = self.keys[step.key]
            phase, order, existing = self.steps[index]
            if code != existing.finding and code not in existing.also_fixes:
                existing = replace(existing, also_fixes=(*existing.also_fixes, code))
            self.steps[index] = (phase, order, existing)
            return
        self.keys[step.key] = len(self.steps)
        self.steps.append((spec.phase, len(self.steps), step))

    def escalate(self, finding: Finding, explanation: str) -> None:
        """A finding nothing here can fix: explain it, write nothing."""
        entry = self.catalog.finding(finding.code)
        step = Step(
            remediation=ESCALATION,
            finding=finding.code,
            kind=StepKind.ESCALATE,
            title=f"Escalate: {entry.title}",
            summary=finding.summary,
            change="nothing: this tool writes nothing for this finding",
            before={},
            after={},
            action=None,
            target=self.f.cluster_id,
            explanation=explanation,
            reversible=True,
            confirm=ConfirmKind.NONE,
        )
        self.steps.append((self.catalog.order.escalate[finding.severity], len(self.steps), step))

    def defer(self, finding: Finding, remediation: str, explanation: str) -> None:
        """A fix that must wait (the seed page's rules): named now, applied on a later run."""
        spec = self.catalog.remediations[remediation]
        step = Step(
            remediation=remediation,
            finding=finding.code,
            kind=StepKind.DEFERRED,
            title=f"Later: {spec.title}",
            summary=finding.summary,
            change="nothing now",
            before={},
            after={},
            action=None,
            target=self.f.cluster_id,
            explanation=explanation,
            confirm=ConfirmKind.NONE,
            verifies=spec.verifies,
        )
        self.steps.append((self.catalog.order.deferred, len(self.steps), step))

    def ordered(self) -> tuple[Step, ...]:
        """The steps by phase, then in the order they were planned."""
        return tuple(step for _, _, step in sorted(self.steps, key=lambda t: (t[0], t[1])))
