"""The pure remediation planner: from a diagnosis, an ordered plan of concrete steps.

No I/O. The executor (wizard.run.fix) applies the first step, diagnoses again and asks for
a fresh plan, so a later step may be `provisional` (its inputs are only known after an earlier
one: the principal of an identity not created yet, the permission model of a vault not yet
recovered). The ordering rules, all enforced here:

- recover the vault before anything that lives in it; recovery drops RBAC assignments, so the
  role is granted again afterwards;
- fix the key (recover, enable, extend expiry, activation date) before access and the cluster;
- create an identity, then grant it access, then attach it to the cluster (identity AND key URL);
- the seed page's rule: after extending an expired key's expiry, no key rotation and no change
  of the cluster's key until the cluster is Ready again (CLUSTER_KEY_URL_VERSIONED is deferred);
- a fix never makes a cluster worse: a key URL changes only on a healthy cluster, only when
  CLUSTER_KEY_URL_VERSIONED was chosen, and only to a newest version its identity can use; a key
  write touches only the version the cluster uses;
- every fix (scope None) is what fixes the critical findings: a warning's remedy is planned only
  when the warning is named (`fix --finding CODE`, or chosen in the wizard);
- fix every cause before deleting a failed cluster; wait for Ready last;
- unrecoverable findings become `escalate` steps that explain and write nothing;
- a critical check the operator cannot look at (unknown) is named in the plan's notes: a cause
  there cannot be planned for (the executor stops when one goes unknown in a re-plan);
- a data-plane step the vault's firewall will refuse is warned about, and, when the operator's
  address is known and an IP rule helps, wrapped in a temporary rule (wizard.engine.plan_network):
  added before it, removed after it; a rule still open after a failure or an earlier run is
  removed before anything else.

The rules live in wizard.engine.plan_rules (access and identity: plan_access), the step building
in wizard.engine.plan_builder, what applies to this estate in wizard.engine.remedies, and the
phases, follow-ups and escalation texts in the catalogue (wizard/domain/catalog.toml).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from wizard.domain.catalog import load_catalog
from wizard.domain.models import CheckResult, CheckStatus, Finding, Severity
from wizard.domain.results import StepKind
from wizard.engine.assess import unseen_critical
from wizard.engine.plan_builder import DiagnosisLike, PlanBuilder
from wizard.engine.plan_network import closing_plan, plan_operator_network
from wizard.engine.plan_rules import READY, plan_finding
from wizard.engine.steps import Carry, Plan

DEFAULT_EXPIRY_DAYS = 365


def scope_of(codes: Collection[str] | None, findings: tuple[Finding, ...]) -> set[str] | None:
    """The finding codes a fix covers: the chosen ones, their follow-ups, and the symptom."""
    if codes is None:
        return None
    catalog = load_catalog()
    scope = set(codes) | {"CLUSTER_INACCESSIBLE"}
    for code in list(scope):
        entry = catalog.findings.get(code)
        scope |= set(entry.follow_ups if entry else ())
    if "CLUSTER_PROVISIONING_FAILED" in scope:
        scope |= {x.code for x in findings if x.severity == Severity.CRITICAL}
    present = {x.code for x in findings}
    if "IDENTITY_RECREATED" in present and scope & {"RBAC_ROLE_MISSING", "ACCESS_POLICY_MISSING"}:
        # the access judged is the recreated principal's: its fix is the replacement identity
        scope.add("IDENTITY_RECREATED")
    return scope


UNSEEN_PART = {"cluster": "the cluster", "identity": "the identity", "vault": "the vault", "key": "the key"}


def what_is_unseen(check: CheckResult) -> str:
    """`access`, `the key`...: the part of the estate an unknown check leaves in the dark."""
    family = check.id.split(".", 1)[0]
    return UNSEEN_PART.get(family, family)


def unseen_note(check: CheckResult) -> str:
    """The plan's warning for a critical check the operator cannot look at."""
    why = f"needs {check.needs}" if check.needs else check.detail
    return (
        f"cannot see {what_is_unseen(check)}: {check.id} is unknown ({why}); a step it would call "
        "for cannot be planned, so this plan may miss one and the wait for Ready may not end"
    )


def named_only(finding: Finding) -> bool:
    """A warning whose remedy changes Azure: applied only when named, never as part of every fix
    (one that only explains, or has no remedy, is explained as ever)."""
    entry = load_catalog().finding(finding.code)
    return finding.severity == Severity.WARNING and bool(entry.remediations) and not entry.escalation


def _wait_due(b: PlanBuilder, cluster_status: str, carry: Carry) -> bool:
    """Azure shows the outage (clusterStatus not Ready, Resource Health down, the symptom found), or
    this session fixed a cause and has not waited since: clusterStatus alone may say Ready all along.
    A Stopped cluster is not waited on unless a fix is to be confirmed (the wait then says: start it)."""
    health = b.checks.get("cluster.health")
    outage = (
        cluster_status.lower() not in (READY, "stopped")
        or (health is not None and health.status == CheckStatus.FAIL)
        or any(x.code == "CLUSTER_INACCESSIBLE" for x in b.assessment.findings)
    )
    return outage or (carry.access_restored and not carry.waited)


def plan_fixes(
    diagnosis: DiagnosisLike,
    *,
    scope: Collection[str] | None = None,
    carry: Carry | None = None,
    now: datetime | None = None,
    expiry_days: int = DEFAULT_EXPIRY_DAYS,
) -> Plan:
    """An ordered plan for the findings in `scope` (None: every finding)."""
    b = PlanBuilder(diagnosis, now or datetime.now(UTC), carry or Carry(), expiry_days)
    if closing_plan(b):
        return Plan(b.f.cluster_id, b.ordered(), tuple(b.notes))
    findings = diagnosis.assessment.findings
    wanted = scope_of(scope, findings)
    chosen = [x for x in findings if wanted is None or x.code in wanted]
    if wanted is None:
        held = [x for x in chosen if named_only(x)]
        chosen = [x for x in chosen if x not in held]
        if held:
            b.notes.append(
                "warnings are fixed only when you name one (fix --finding CODE, or x on it in "
                "Findings): " + ", ".join(x.code for x in held)
            )
    b.chosen = frozenset(x.code for x in chosen)
    b.notes += [unseen_note(check) for check in unseen_critical(diagnosis.assessment)]
    for finding in chosen:
        plan_finding(b, finding)
    plan_operator_network(b)
    c = b.f.cluster
    failed = any(x.code == "CLUSTER_PROVISIONING_FAILED" for x in chosen)
    if c is not None and c.is_cmk and not failed and _wait_due(b, c.cluster_status, b.carry):
        causes = [
            x for x in findings if x.severity == Severity.CRITICAL and not b.catalog.finding(x.code).symptom
        ]
        writes = [s for _, _, s in b.steps if s.kind == StepKind.WRITE]
        covered = {s.finding for s in writes} | {code for s in writes for code in s.also_fixes}
        uncovered = [x.code for x in causes if x.code not in covered]
        if uncovered:
            b.notes.append(
                "no wait for Ready yet: the cluster cannot use its key (clusterStatus "
                f"{c.cluster_status}) until these causes are fixed too: " + ", ".join(uncovered)
            )
        else:
            symptom = next((x for x in findings if x.code == "CLUSTER_INACCESSIBLE"), None)
            b.wait(
                symptom or "CLUSTER_INACCESSIBLE",
                target=c.id,
                before={"clusterStatus": c.cluster_status},
                after={"clusterStatus": "Ready"},
            )
    if wanted is not None:
        missing = set(scope or ()) - {x.code for x in findings}
        if missing:
            b.notes.append("not found in this diagnosis: " + ", ".join(sorted(missing)))
    return Plan(b.f.cluster_id, b.ordered(), tuple(b.notes))
