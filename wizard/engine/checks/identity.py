"""Checks on the key identity: attached to the cluster, still there, still the same principal."""

from __future__ import annotations

from wizard.domain.models import CheckStatus
from wizard.engine.checks.gate import CheckContext
from wizard.engine.checks.registry import check
from wizard.engine.checks.verdict import Verdict


@check("identity.attached", needs=("cluster",))
def identity_attached(ctx: CheckContext) -> Verdict:
    """The key identity must be in the cluster's own identity list, or the service cannot use it."""
    c = ctx.facts.cluster
    assert c is not None
    reads = [ctx.facts.cluster_read]
    attached = [a.resource_id for a in c.attached_identities]
    evidence = {"keyIdentity": c.key_identity_id, "attached": attached}
    if c.key_identity_id and c.attached(c.key_identity_id):
        return Verdict(CheckStatus.PASS, "attached", evidence, reads=reads)
    return Verdict(
        CheckStatus.FAIL,
        "not in the cluster's identity list",
        evidence,
        [("IDENTITY_NOT_ATTACHED", evidence)],
        reads=reads,
    )


@check("identity.exists", needs=("identity",), judges=("identity",))
def identity_exists(ctx: CheckContext) -> Verdict:
    """A 404 on the identity is this check's finding: a deleted identity cannot be undeleted."""
    facts = ctx.facts
    read = facts.identity_read
    assert read is not None
    if facts.identity_deleted:
        return Verdict(
            CheckStatus.FAIL,
            "404: the identity was deleted",
            {"identityId": read.args[0]},
            [("IDENTITY_DELETED", {})],
            reads=[read],
        )
    identity = facts.identity
    assert identity is not None
    evidence = {
        "principalId": identity.principal_id,
        "clientId": identity.client_id,
        "location": identity.location,
    }
    return Verdict(CheckStatus.PASS, f"principal {identity.principal_id}", evidence, reads=[read])


@check("identity.principal", needs=("identity",))
def identity_principal(ctx: CheckContext) -> Verdict:
    """A same-name identity created again has a new principal, which holds none of the old access."""
    facts = ctx.facts
    read, identity = facts.identity_read, facts.identity
    assert read is not None
    assert identity is not None
    remembered = facts.remembered_principal
    evidence = {"principalId": identity.principal_id, "rememberedPrincipalId": remembered}
    if remembered is None:
        return Verdict(
            CheckStatus.PASS, "the cluster reports no principal to compare", evidence, reads=[read]
        )
    if facts.identity_recreated:
        values = {"principal_id": identity.principal_id, "remembered_principal_id": remembered}
        return Verdict(
            CheckStatus.FAIL,
            "recreated: the principal changed",
            evidence,
            [("IDENTITY_RECREATED", values)],
            reads=[read],
        )
    return Verdict(CheckStatus.PASS, "same principal", evidence, reads=[read])
