"""Fleet verdicts: each cluster judged by the decision tree on what the scan read, and the blast radius.

Pure: rows in (an Inventory), verdicts out. A cluster's verdict is the tree's own assessment of the
reads the scan could answer; checks whose reads the scan does not make (a missing key's deleted
state, a role the scan cannot see) are open questions for `diagnose`, never guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from wizard.domain.catalog import load_catalog
from wizard.domain.fleet import (
    BlastGroup,
    ClusterState,
    ClusterVerdict,
    FleetReport,
    GroupKind,
    Inventory,
    OpenQuestion,
)
from wizard.domain.models import CheckResult, CheckStatus, ClusterFacts, Finding, KeyFacts, Severity
from wizard.domain.times import iso
from wizard.engine.assess import assess
from wizard.engine.checks.verdict import Verdict
from wizard.engine.facts import Facts
from wizard.engine.findings import findings_of
from wizard.engine.fleet_answers import FleetAnswers
from wizard.engine.plan import plan
from wizard.engine.reads import Known, Outcome
from wizard.engine.tree import Read, load_tree

DEFAULT_EXPIRING_DAYS = 30
"""The window `diagnose` warns in (KEY_EXPIRING_SOON); the scan's `--expiring-within` may differ."""
_MAX_ROUNDS = 16
_SETTLED_BY_DIAGNOSE = {
    "deleted_key": "the key is not in its vault: soft-deleted (recoverable) or purged; diagnose reads "
    "the vault's deleted keys",
    "role_definition": "a role's permissions the scan cannot see; diagnose reads the role definition",
}
SCAN_READS = frozenset(
    {
        "cluster",
        "identity",
        "vault_lookup",
        "subscriptions",
        "vault_search",
        "vault",
        "deleted_vault",
        "key",
        "role_assignments",
    }
)
"""The kinds of read the scan answers itself: a check waiting on one is still pending, not open."""
GROUP_ACCESS = (
    "a group's role assignment may grant the identity access; Resource Graph does not say who is "
    "in a group, diagnose asks Azure"
)


def _known_for(cluster: ClusterFacts, answers: FleetAnswers) -> Known:
    """Every read the tree asks for that the scan can answer, following the tree's own plan."""
    known: dict[Read, Outcome] = {}
    for _ in range(_MAX_ROUNDS):
        fresh = False
        for read in plan(cluster.id, known):
            if read not in known:
                outcome = answers.answer(read, cluster)
                if outcome is not None:
                    known[read] = outcome
                    fresh = True
        if not fresh:
            break
    return known


def _waits_on(check: CheckResult) -> str:
    """The kind of read a pending check waits for (its first source, `kind(args)`)."""
    return check.sources[0].split("(", 1)[0] if check.sources else ""


def _expiring(
    findings: list[Finding], key: KeyFacts | None, facts: Facts, now: datetime, days: int
) -> list[Finding]:
    """KEY_EXPIRING_SOON within the scan's window instead of the tree's 30 days."""
    kept = [f for f in findings if f.code != "KEY_EXPIRING_SOON"]
    if key is None or key.expires is None or key.expires <= now or key.expires - now > timedelta(days=days):
        return kept
    if any(f.code in ("KEY_EXPIRED",) for f in kept):
        return kept
    left = (key.expires - now).days
    values = {"expires": iso(key.expires, "auto"), "key_version": key.version, "days_left": left}
    verdict = Verdict(
        CheckStatus.FAIL,
        f"expires in {left} days",
        {"expiresOn": values["expires"]},
        [("KEY_EXPIRING_SOON", values)],
    )
    return sorted(
        [*kept, *findings_of("key.dates", verdict, facts.template_values())], key=lambda f: (f.rank, f.code)
    )


def _signature(cluster: ClusterFacts, answers: FleetAnswers) -> tuple[object, ...]:
    """Everything of a cluster its verdict depends on but its id and name (and its resource group,
    which no check reads): clusters that share a key and identity in the same state share a verdict.
    The subscription counts only where the vault must be searched for (it is searched first)."""
    located = answers.key_ref(cluster) is not None
    return (
        cluster.cluster_status,
        cluster.provisioning_state,
        cluster.key_url,
        (cluster.key_identity_id or "").lower(),
        cluster.identity_type,
        tuple(
            sorted((a.resource_id.lower(), a.principal_id, a.client_id) for a in cluster.attached_identities)
        ),
        cluster.replica_role,
        cluster.location,
        "" if located else cluster.subscription_id.lower(),
    )


def _as_member(verdict: ClusterVerdict, cluster: ClusterFacts) -> ClusterVerdict:
    """A verdict judged for one cluster, given to another of the same signature: only the
    cluster's id and name differ in what it says."""
    model = verdict.cluster
    name = re.compile(rf"(?<![\w-]){re.escape(model.name)}(?![\w-])")

    def said(text: str) -> str:
        return name.sub(cluster.name, text.replace(model.id, cluster.id))

    findings = tuple(replace(f, summary=said(f.summary)) for f in verdict.findings)
    return replace(verdict, cluster=cluster, findings=findings)


def judge(cluster: ClusterFacts, answers: FleetAnswers, now: datetime, expiring_days: int) -> ClusterVerdict:
    """One cluster's verdict from the scan's answers (judged once per signature)."""
    signature = (_signature(cluster, answers), now, expiring_days)
    judged = answers.memo.get(signature)
    if judged is None:
        judged = answers.memo[signature] = _judge(cluster, answers, now, expiring_days)
    return judged if judged.cluster is cluster else _as_member(judged, cluster)


def _judge(cluster: ClusterFacts, answers: FleetAnswers, now: datetime, expiring_days: int) -> ClusterVerdict:
    """One cluster's verdict from the scan's answers."""
    key_ref = answers.key_ref(cluster)
    vault_name = key_ref.vault_name if key_ref else _vault_name(cluster)
    identity_id = cluster.key_identity_id or ""
    if not cluster.is_cmk:
        return ClusterVerdict(cluster, ClusterState.NOT_CMK, vault_name=vault_name, identity_id=identity_id)
    known = _known_for(cluster, answers)
    assessment = assess(cluster.id, known, set(), now)
    facts = Facts.from_known(cluster.id, known)
    findings = _expiring(list(assessment.findings), facts.key, facts, now, expiring_days)
    critical_checks = {spec.id for spec in load_tree() if spec.critical}
    questions: list[OpenQuestion] = []
    key_pending = False
    for check in assessment.checks:
        if check.status in (CheckStatus.PENDING, CheckStatus.RUNNING):
            kind = _waits_on(check)
            if kind in SCAN_READS:
                key_pending = True
                continue
            if kind in _SETTLED_BY_DIAGNOSE:
                questions.append(OpenQuestion(check.id, _SETTLED_BY_DIAGNOSE[kind], diagnose_settles=True))
            # A check on a kind of read the scan knows nothing of (a new node of the tree) is outside
            # what the scan covers: not a question about this cluster, so it does not hold it open.
        elif check.status == CheckStatus.UNKNOWN and check.id in critical_checks:
            questions.append(OpenQuestion(check.id, check.detail, check.needs))
    key_scope = (
        f"{facts.vault_ref.id}/keys/{facts.key_url.key_name}" if facts.vault_ref and facts.key_url else ""
    )
    if any(f.code == "RBAC_ROLE_MISSING" for f in findings) and answers.groups_covering(key_scope):
        findings = [f for f in findings if f.code != "RBAC_ROLE_MISSING"]
        questions.append(OpenQuestion("access.rbac", GROUP_ACCESS, diagnose_settles=True))
    findings = [f for f in findings if f.code != "CLUSTER_NOT_CMK"]
    state = _state(findings, questions, key_pending, critical_checks)
    expires = facts.key.expires if facts.key else None
    return ClusterVerdict(
        cluster,
        state,
        tuple(findings),
        tuple(questions),
        key=key_ref,
        key_expires=expires,
        vault_name=vault_name,
        identity_id=identity_id,
    )


def _vault_name(cluster: ClusterFacts) -> str:
    url = cluster.key_url or ""
    return url.split("//", 1)[-1].split(".", 1)[0] if "//" in url else ""


def _state(
    findings: list[Finding], questions: list[OpenQuestion], key_pending: bool, critical: set[str]
) -> ClusterState:
    if any(f.severity == Severity.CRITICAL for f in findings):
        return ClusterState.CRITICAL
    if key_pending:
        return ClusterState.PENDING
    if any(q.diagnose_settles and q.check_id in critical for q in questions):
        return ClusterState.UNSETTLED
    if any(not q.diagnose_settles for q in questions):
        return ClusterState.INCOMPLETE
    if findings:
        return ClusterState.WARNING
    return ClusterState.HEALTHY


def triage_key(verdict: ClusterVerdict) -> tuple[int, float, str]:
    """Critical first, then the rest by state; within a state, the key that expires soonest."""
    expires = verdict.key_expires.timestamp() if verdict.key_expires else float("inf")
    return (verdict.state.order, expires, verdict.cluster.name.lower())


def _ranked(findings: Iterable[Finding]) -> tuple[str, ...]:
    """Codes by how many clusters they hit, the Inaccessible symptom after every cause."""
    counts = Counter(f.code for f in findings)
    catalog = load_catalog()
    symptoms = {code for code in counts if catalog.finding(code).symptom}
    return tuple(
        sorted(counts, key=lambda code: (code in symptoms, -counts[code], catalog.finding(code).rank, code))
    )


def _group(kind: GroupKind, name: str, members: list[ClusterVerdict]) -> BlastGroup:
    found = [f for v in members for f in v.findings]
    expiries = [v.key_expires for v in members if v.key_expires is not None]
    return BlastGroup(
        kind=kind,
        name=name,
        cluster_ids=tuple(v.cluster.id for v in members),
        subscriptions=len({v.cluster.subscription_id.lower() for v in members}),
        critical=sum(1 for v in members if v.state == ClusterState.CRITICAL),
        warnings=sum(1 for v in members if v.state == ClusterState.WARNING),
        causes=_ranked(f for f in found if f.severity == Severity.CRITICAL),
        warning_causes=_ranked(f for f in found if f.severity == Severity.WARNING),
        expires=min(expiries) if kind == GroupKind.KEY and expiries else None,
    )


def blast_radius(verdicts: Iterable[ClusterVerdict]) -> tuple[BlastGroup, ...]:
    """Clusters grouped by key, vault and identity; the groups with the most at stake first."""
    by: dict[tuple[GroupKind, str], list[ClusterVerdict]] = {}
    for v in verdicts:
        if v.state == ClusterState.NOT_CMK:
            continue
        if v.key is not None:
            by.setdefault((GroupKind.KEY, v.key.label), []).append(v)
        if v.vault_name:
            by.setdefault((GroupKind.VAULT, v.vault_name.lower()), []).append(v)
        if v.identity_id:
            by.setdefault((GroupKind.IDENTITY, v.identity_id.rsplit("/", 1)[-1]), []).append(v)
    groups = [_group(kind, name, members) for (kind, name), members in by.items()]
    breadth = {GroupKind.VAULT: 0, GroupKind.KEY: 1, GroupKind.IDENTITY: 2}
    return tuple(sorted(groups, key=lambda g: (-g.critical, -g.warnings, -g.size, breadth[g.kind], g.name)))


def report(
    inventory: Inventory,
    verdicts: Iterable[ClusterVerdict],
    *,
    expiring_days: int,
    complete: bool,
    duration_ms: int = 0,
) -> FleetReport:
    """The fleet's verdicts in triage order, with the blast radius and what could not be read."""
    ordered = tuple(sorted(verdicts, key=triage_key))
    return FleetReport(
        scope=inventory.scope,
        verdicts=ordered,
        groups=blast_radius(ordered),
        unreadable=inventory.unreadable,
        subscriptions=inventory.in_scope,
        expiring_within_days=expiring_days,
        complete=complete,
        duration_ms=duration_ms,
    )


def judge_fleet(
    inventory: Inventory, now: datetime, *, expiring_days: int = DEFAULT_EXPIRING_DAYS, complete: bool = True
) -> FleetReport:
    """Every cluster of the inventory judged at once (the driver re-judges only what changed)."""
    answers = FleetAnswers(inventory)
    verdicts = [judge(c, answers, now, expiring_days) for c in inventory.clusters]
    return report(inventory, verdicts, expiring_days=expiring_days, complete=complete)
