"""Checks on the cluster itself: it exists and uses a customer-managed key, its state, what Resource
Health says of it, its key URL."""

from __future__ import annotations

from typing import Any

from wizard.domain.models import RUNNING_STATUSES, CheckStatus, ResourceHealthFacts
from wizard.domain.times import iso
from wizard.engine.checks.gate import CheckContext
from wizard.engine.checks.registry import check
from wizard.engine.checks.verdict import Verdict


@check("cluster.load", needs=("cluster",), judges=("cluster",))
def cluster_load(ctx: CheckContext) -> Verdict:
    """No such cluster is this check's finding; a service-managed key is an info finding."""
    facts = ctx.facts
    c = facts.cluster
    if c is None:
        return Verdict(
            CheckStatus.FAIL,
            "no such cluster",
            findings=[("CLUSTER_NOT_FOUND", {})],
            reads=[facts.cluster_read],
        )
    evidence = {
        "location": c.location,
        "keyUrl": c.key_url,
        "identityId": c.key_identity_id,
        "replicaRole": c.replica_role,
    }
    if not c.is_cmk:
        return Verdict(
            CheckStatus.PASS,
            "service-managed key",
            evidence,
            [("CLUSTER_NOT_CMK", {})],
            reads=[facts.cluster_read],
        )
    return Verdict(CheckStatus.PASS, f"CMK cluster in {c.location}", evidence, reads=[facts.cluster_read])


def health_evidence(health: ResourceHealthFacts | None) -> dict[str, Any]:
    """Resource Health's answer as evidence: state, reason type, summary and when it last changed."""
    if health is None:
        return {}
    return {
        "availabilityState": health.availability_state,
        "reasonType": health.reason_type,
        "healthSummary": health.summary,
        "occurredTime": iso(health.occurred_time),
    }


@check("cluster.state", needs=("cluster", "resource_health"), optional=("resource_health",))
def cluster_state(ctx: CheckContext) -> Verdict:
    """Never came up (the only deletable cluster), last operation failed (a warning: it runs and
    may hold data), or Inaccessible as clusterStatus says; open strings, compared case-insensitively."""
    facts = ctx.facts
    c = facts.cluster
    assert c is not None
    reads = [facts.cluster_read]
    if facts.resource_health is not None and facts.resource_health_read is not None:
        reads.append(facts.resource_health_read)
    evidence = {"clusterStatus": c.cluster_status, "provisioningState": c.provisioning_state}
    evidence |= health_evidence(facts.resource_health)
    if c.never_came_up:
        return Verdict(
            CheckStatus.FAIL,
            f"never came up: clusterStatus {c.cluster_status or '-'}, "
            f"provisioningState {c.provisioning_state}",
            evidence,
            [("CLUSTER_PROVISIONING_FAILED", evidence)],
            reads=reads,
        )
    findings: list[tuple[str, dict[str, Any]]] = []
    if c.last_operation_failed:
        findings.append(("CLUSTER_LAST_OPERATION_FAILED", evidence))
    last = "; its last operation failed (provisioningState Failed)" if findings else ""
    if c.cluster_status.lower() == "inaccessible":
        findings.append(("CLUSTER_INACCESSIBLE", evidence))
        return Verdict(
            CheckStatus.FAIL, f"Inaccessible: denies all connections{last}", evidence, findings, reads=reads
        )
    if c.cluster_status.lower() not in RUNNING_STATUSES:
        # Provisioning or Dropping while an operation runs, or a value the open enum added: not judged.
        detail = f"clusterStatus {c.cluster_status or '-'} (provisioningState {c.provisioning_state})"
        detail += ": not a state the wizard can judge; nothing is offered for deletion"
        return Verdict(CheckStatus.UNKNOWN, detail, evidence, findings, reads=reads)
    if findings:
        return Verdict(
            CheckStatus.FAIL, f"{c.cluster_status}: it runs{last}", evidence, findings, reads=reads
        )
    return Verdict(CheckStatus.PASS, c.cluster_status, evidence, reads=reads)


@check("cluster.health", needs=("cluster", "resource_health"), after_causes=True)
def cluster_health(ctx: CheckContext) -> Verdict:
    """Resource Health's view, the symptom's evidence whatever clusterStatus says: down there while a
    cause is found is CLUSTER_INACCESSIBLE (unless clusterStatus already said so); down with no
    cause found leaves the verdict undecided (assess.verdict_of).

    UNVERIFIED: the state, reason type and summary Resource Health gives a mongoCluster that lost its
    key, and how soon (a GET of availabilityStatuses/current on such a cluster, with timestamps)."""
    facts = ctx.facts
    c, health = facts.cluster, facts.resource_health
    assert c is not None
    assert health is not None
    assert facts.resource_health_read is not None
    reads = [facts.resource_health_read]
    evidence = health_evidence(health)
    since = f" since {iso(health.occurred_time)}" if health.occurred_time else ""
    if c.never_came_up:
        return Verdict(CheckStatus.SKIPPED, "the cluster never came up", evidence, reads=reads)
    if c.cluster_status.lower() == "stopped":
        return Verdict(CheckStatus.SKIPPED, "the cluster is Stopped: start it first", evidence, reads=reads)
    if health.available:
        return Verdict(CheckStatus.PASS, f"Available{since}", evidence, reads=reads)
    if not health.down:
        detail = f"Resource Health does not know ({health.availability_state}{since})"
        return Verdict(CheckStatus.UNKNOWN, detail, evidence, reads=reads)
    detail = f"{health.availability_state}{since}: {health.summary}".rstrip(": ")
    if not ctx.causes:
        detail += "; no cause found in the key's dependency chain (still revalidating, or not the key)"
        return Verdict(CheckStatus.FAIL, detail, evidence, reads=reads)
    findings: list[tuple[str, dict[str, Any]]] = []
    if c.cluster_status.lower() != "inaccessible":
        shown = f"{health.availability_state} in Resource Health (clusterStatus {c.cluster_status})"
        findings.append(("CLUSTER_INACCESSIBLE", evidence | {"cluster_status": shown}))
    return Verdict(CheckStatus.FAIL, detail, evidence, findings, reads=reads)


@check("cluster.key_url", needs=("cluster",))
def cluster_key_url(ctx: CheckContext) -> Verdict:
    """A versioned key URL pins one key version: a warning, since rotation then needs a cluster update."""
    c, key_url = ctx.facts.cluster, ctx.facts.key_url
    assert c is not None
    reads = [ctx.facts.cluster_read]
    evidence = {"keyEncryptionKeyUrl": c.key_url}
    if key_url is None:
        return Verdict(CheckStatus.UNKNOWN, f"key URL cannot be parsed: {c.key_url!r}", evidence, reads=reads)
    if key_url.version:
        evidence["versionless"] = key_url.versionless
        return Verdict(
            CheckStatus.FAIL,
            f"versioned ({key_url.version})",
            evidence,
            [("CLUSTER_KEY_URL_VERSIONED", evidence)],
            reads=reads,
        )
    return Verdict(CheckStatus.PASS, "versionless", evidence, reads=reads)
