"""Checks on the cluster itself: it exists and uses a customer-managed key, its state, its key URL."""

from __future__ import annotations

from wizard.domain.models import CheckStatus
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


# A cluster in one of these states came up and holds data: provisioningState Failed then means only
# that its LAST operation failed (the mongoCluster spec), never that it may be deleted.
RUNNING_STATUSES = frozenset({"ready", "stopped", "starting", "stopping", "updating", "inaccessible"})


@check("cluster.state", needs=("cluster",))
def cluster_state(ctx: CheckContext) -> Verdict:
    """Failed provisioning or an Inaccessible cluster, compared case-insensitively (an open string)."""
    c = ctx.facts.cluster
    assert c is not None
    reads = [ctx.facts.cluster_read]
    evidence = {"clusterStatus": c.cluster_status, "provisioningState": c.provisioning_state}
    status, prov = c.cluster_status.lower(), c.provisioning_state.lower()
    if status == "failed" or (prov == "failed" and status not in RUNNING_STATUSES):
        return Verdict(
            CheckStatus.FAIL,
            f"clusterStatus {c.cluster_status}, provisioningState {c.provisioning_state}",
            evidence,
            [("CLUSTER_PROVISIONING_FAILED", evidence)],
            reads=reads,
        )
    findings: list[tuple[str, dict[str, str]]] = []
    if prov == "failed":
        findings.append(("CLUSTER_LAST_OPERATION_FAILED", evidence))
    if status == "inaccessible":
        findings.append(("CLUSTER_INACCESSIBLE", evidence))
    if findings:
        detail = "Inaccessible: denies all connections" if status == "inaccessible" else ""
        detail = detail or f"running ({c.cluster_status}); its last operation failed"
        return Verdict(CheckStatus.FAIL, detail, evidence, findings, reads=reads)
    return Verdict(CheckStatus.PASS, c.cluster_status, evidence, reads=reads)


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
