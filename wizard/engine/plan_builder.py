"""Builds a plan's steps: what the diagnosis read, rendered through the catalogue, in phase order.

The per-finding rules (wizard.engine.plan_rules) decide WHICH steps; this module turns each into a
concrete Step (titles, REST call, az command, permission) and keeps them ordered and unique.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from wizard.domain.actions import ESCALATION, WAIT_FOR_READY, Action
from wizard.domain.catalog import load_catalog, render
from wizard.domain.models import (
    Finding,
)
from wizard.domain.results import ConfirmKind, StepKind
from wizard.domain.times import iso
from wizard.engine.assess import Assessment
from wizard.engine.facts import Facts
from wizard.engine.steps import Carry, Step


class DiagnosisLike(Protocol):
    """What the planner needs from a diagnosis (wizard.run.diagnose.Diagnosis fits)."""

    @property
    def cluster_id(self) -> str: ...

    @property
    def assessment(self) -> Assessment: ...

    @property
    def facts(self) -> Facts: ...


class PlanBuilder:
    """Collects the steps of one plan: each rendered from the catalogue, one per key, in phase order."""

    def __init__(self, diagnosis: DiagnosisLike, now: datetime, carry: Carry, expiry_days: int) -> None:
        self.f = diagnosis.facts
        self.assessment = diagnosis.assessment
        self.checks = {c.id: c for c in diagnosis.assessment.checks}
        self.now = now
        self.carry = carry
        self.expiry_days = expiry_days
        self.catalog = load_catalog()
        self.steps: list[tuple[int, int, Step]] = []
        self.notes: list[str] = []
        self.keys: dict[str, int] = {}
        self.chosen: frozenset[str] = frozenset()
        """The codes of the findings this plan fixes (a rule may act only on what was chosen)."""

    def base_values(self) -> dict[str, Any]:
        """What every catalogue template may name: the finding values, plus what a step changes from."""
        f = self.f
        values = f.template_values()
        if f.cluster:
            values.update(old_identity_id=f.cluster.key_identity_id, old_key_url=f.cluster.key_url)
        if f.vault_id:
            values["vault_id"] = f.vault_id
        if f.key:
            values.update(
                key_version=f.key.version,
                expires=iso(f.key.expires),
                not_before=iso(f.key.not_before),
            )
        return values

    def add(
        self,
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
        """A write step for `action` (None: the wait for Ready, which only reads); the same step
        planned for another finding is named once."""
        remediation, kind = (
            (action.remediation, StepKind.WRITE) if action is not None else (WAIT_FOR_READY, StepKind.WAIT)
        )
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

    def wait(
        self, finding: Finding | str, *, target: str, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """The wait for Ready: it only reads."""
        self.add(None, finding, target=target, before=before, after=after)

    def escalate(self, finding: Finding, explanation: str, *, verb: str = "Escalate") -> None:
        """A finding nothing here can (or may) fix: explain it, write nothing."""
        self._explained(
            ESCALATION,
            StepKind.ESCALATE,
            finding,
            f"{verb}: {self.catalog.finding(finding.code).title}",
            "nothing: this tool writes nothing for this finding",
            explanation,
            self.catalog.order.escalate[finding.severity],
        )

    def defer(self, finding: Finding, remediation: str, explanation: str) -> None:
        """A fix that must wait (the seed page's rules): named now, applied on a later run."""
        spec = self.catalog.remediations[remediation]
        self._explained(
            remediation,
            StepKind.DEFERRED,
            finding,
            f"Later: {spec.title}",
            "nothing now",
            explanation,
            self.catalog.order.deferred,
            verifies=spec.verifies,
        )

    def _explained(
        self,
        remediation: str,
        kind: StepKind,
        finding: Finding,
        title: str,
        change: str,
        explanation: str,
        phase: int,
        verifies: tuple[str, ...] = (),
    ) -> None:
        """A step that writes nothing, only explains (an escalation, or a fix for later)."""
        step = Step(
            remediation=remediation,
            finding=finding.code,
            kind=kind,
            title=title,
            summary=finding.summary,
            change=change,
            before={},
            after={},
            action=None,
            target=self.f.cluster_id,
            explanation=explanation,
            confirm=ConfirmKind.NONE,
            verifies=verifies,
        )
        self.steps.append((phase, len(self.steps), step))

    def amend(self, key: str, **changes: Any) -> None:
        """Change a planned step in place (by its key), e.g. to warn about the vault's network."""
        index = self.keys[key]
        phase, order, step = self.steps[index]
        self.steps[index] = (phase, order, replace(step, **changes))

    def ordered(self) -> tuple[Step, ...]:
        """The steps by phase, then in the order they were planned."""
        return tuple(step for _, _, step in sorted(self.steps, key=lambda t: (t[0], t[1])))
