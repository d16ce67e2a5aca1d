"""What the planner produces: a Plan of concrete Steps, and what a session Carries between plans."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from wizard.domain.actions import Action, AddAccessPolicy, CreateIdentity, ExtendKeyExpiry, GrantCryptoRole
from wizard.domain.models import IdentityFacts
from wizard.domain.results import ConfirmKind, StepKind


@dataclass(frozen=True)
class OpenRule:
    """An IP rule the wizard added for the operator and has not removed yet.

    `audit_id`: the allow-operator-ip intent record; `earlier`: left by an earlier, interrupted run."""

    vault_id: str
    address: str
    audit_id: str = ""
    finding: str = ""
    earlier: bool = False


@dataclass(frozen=True)
class Replacement:
    """The identity named to replace a cluster's lost one, once per incident.

    `replaces`: the lost identity's ID; `audit_id`: the intent that named it (an earlier run's, or
    "" for this session's own plan). The name is in the intent before the PUT, so a run killed
    after it is followed by one that reuses the identity instead of making a second."""

    replaces: str
    identity_id: str
    audit_id: str = ""

    def stands_for(self, identity_id: str | None) -> bool:
        """It replaces this (lost) identity."""
        return bool(identity_id) and self.replaces.lower() == (identity_id or "").lower()


@dataclass(frozen=True)
class Carry:
    """What earlier steps of this session did, which a fresh diagnosis cannot show yet.

    `operator_ip`: the operator's public address (--my-ip, or the one a firewall 403 named);
    `open_rules`: the temporary IP rules still to remove; `close_rules_first`: remove them before
    anything else (a step failed while they were open); `replacement`: the name a new identity
    takes (fixed once per incident)."""

    new_identity: IdentityFacts | None = None
    replacement: Replacement | None = None
    granted_principals: frozenset[str] = frozenset()
    expiry_extended: bool = False
    access_restored: bool = False
    """A write for a critical cause landed: the service must revalidate the key, so a wait is due
    (whatever clusterStatus says) until one has run."""
    waited: bool = False
    """A wait for Ready ran after the last such write."""
    operator_ip: str | None = None
    open_rules: tuple[OpenRule, ...] = ()
    close_rules_first: bool = False

    def with_rule(self, rule: OpenRule) -> Carry:
        """A rule was (or may have been) added: it must be removed later."""
        kept = tuple(r for r in self.open_rules if not _same_rule(r, rule.vault_id, rule.address))
        return replace(self, open_rules=(*kept, rule))

    def without_rule(self, vault_id: str, address: str) -> Carry:
        """A rule is gone again; once none is left, nothing needs closing first."""
        kept = tuple(r for r in self.open_rules if not _same_rule(r, vault_id, address))
        return replace(self, open_rules=kept, close_rules_first=self.close_rules_first and bool(kept))

    def after(self, action: Action, created: IdentityFacts | None = None) -> Carry:
        """What the next plan must know once `action` was written (`created`: the identity it made)."""
        carry = self
        if isinstance(action, CreateIdentity) and created is not None:
            carry = replace(carry, new_identity=created)
        if isinstance(action, GrantCryptoRole | AddAccessPolicy) and action.principal_id:
            carry = replace(
                carry, granted_principals=carry.granted_principals | {action.principal_id.lower()}
            )
        if isinstance(action, ExtendKeyExpiry):
            carry = replace(carry, expiry_extended=True)
        return carry

    def after_cause_fixed(self) -> Carry:
        """A write for a critical cause landed: wait for the service to revalidate the key."""
        return replace(self, access_restored=True, waited=False)

    def after_wait(self) -> Carry:
        """The wait ran: the next plan does not ask for it again unless Azure still shows the outage."""
        return replace(self, waited=True)


def _same_rule(rule: OpenRule, vault_id: str, address: str) -> bool:
    return rule.vault_id.lower() == vault_id.lower() and rule.address == address


@dataclass(frozen=True)
class Step:
    """One remediation, concrete: what it changes, how, who may, and how we will know.

    `action` is the write a `write` step makes; the other kinds write nothing and carry None.
    `network`: why the vault's network rules will (or may) refuse this step's data-plane call;
    `lock`: which management lock will refuse it, and what to do (the fix's lock preflight)."""

    remediation: str
    finding: str
    kind: StepKind
    title: str
    summary: str
    change: str
    before: dict[str, Any]
    after: dict[str, Any]
    action: Action | None
    target: str
    rest: str = ""
    az: str = ""
    permission: str = ""
    reversible: bool = True
    confirm: ConfirmKind = ConfirmKind.NONE
    confirm_text: str = ""
    verifies: tuple[str, ...] = ()
    provisional: bool = False
    explanation: str = ""
    permission_doubt: str = ""
    also_fixes: tuple[str, ...] = ()
    network: str = ""
    lock: str = ""

    @property
    def writes(self) -> bool:
        """True when applying the step changes Azure."""
        return self.kind == StepKind.WRITE

    @property
    def key(self) -> str:
        """Identifies the step across re-plans: the remediation, its target and whom it is for."""
        who = self.action.subject if self.action is not None else ""
        return f"{self.remediation}|{self.target.lower()}|{who.lower()}"

    @property
    def params(self) -> dict[str, Any]:
        """The action's parameters as plain data (the wait names its cluster), for JSON and reports."""
        if self.action is not None:
            return self.action.to_json()
        return {"cluster_id": self.target} if self.kind == StepKind.WAIT else {}

    def to_json(self) -> dict[str, Any]:
        """The step as plain data (for JSON output, audit and reports)."""
        return {
            "remediation": self.remediation,
            "finding": self.finding,
            "kind": str(self.kind),
            "title": self.title,
            "summary": self.summary,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "params": self.params,
            "target": self.target,
            "rest": self.rest,
            "az": self.az,
            "permission": self.permission,
            "reversible": self.reversible,
            "confirm": str(self.confirm),
            "confirmText": self.confirm_text,
            "verifies": list(self.verifies),
            "provisional": self.provisional,
            "explanation": self.explanation,
            "permissionDoubt": self.permission_doubt,
            "alsoFixes": list(self.also_fixes),
            "network": self.network,
            "lock": self.lock,
        }


@dataclass(frozen=True)
class Plan:
    """Ordered steps for one cluster; `next_step` is what the executor applies next."""

    cluster_id: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    @property
    def writes(self) -> tuple[Step, ...]:
        """Steps that change Azure."""
        return tuple(s for s in self.steps if s.writes)

    @property
    def next_step(self) -> Step | None:
        """The first step that does something (a write or the wait)."""
        return next((s for s in self.steps if s.kind in (StepKind.WRITE, StepKind.WAIT)), None)

    @property
    def escalations(self) -> tuple[Step, ...]:
        """Steps that only explain: nothing here can fix them."""
        return tuple(s for s in self.steps if s.kind == StepKind.ESCALATE)
