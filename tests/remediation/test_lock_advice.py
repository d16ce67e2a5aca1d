"""What a refused write says about the management lock that refused it."""

from __future__ import annotations

from wizard.domain.errors import Conflict
from wizard.domain.results import StepKind
from wizard.engine.steps import Step
from wizard.run.advice import advice_for

SUB = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
OTHER = "5e7d3c1b-9a2f-4e6d-8c4b-1f0a2e3d4c5b"
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/rg-db/providers/Microsoft.DocumentDB/mongoClusters/c1"


def _step(remediation: str) -> Step:
    return Step(
        remediation=remediation,
        finding="X",
        kind=StepKind.WRITE,
        title="t",
        summary="s",
        change="c",
        before={},
        after={},
        action=None,
        target=CLUSTER,
    )


def _locked(verb: str, *scopes: str) -> Conflict:
    listed = ",".join(f"'{scope}'" for scope in scopes)
    return Conflict(
        f"The scope '{CLUSTER}' cannot perform {verb} operation because following scope(s) "
        f"are locked: {listed}. Please remove the lock and try again.",
        status=409,
        code="ScopeLocked",
    )


def test_a_delete_refused_by_a_can_not_delete_lock_is_not_told_to_become_can_not_delete() -> None:
    advice = advice_for(
        _locked("delete", f"/subscriptions/{SUB}/resourceGroups/rg-db"), _step("delete-failed-cluster")
    )
    assert "refuses this delete" in advice
    assert "make it CanNotDelete" not in advice
    assert f"az lock list --resource-group rg-db --subscription {SUB} --output table" in advice


def test_every_locked_scope_is_named_with_its_own_subscription() -> None:
    vault_group = f"/subscriptions/{OTHER}/resourceGroups/rg-kv"
    advice = advice_for(
        _locked("write", f"/subscriptions/{SUB}", vault_group), _step("allow-trusted-services")
    )
    assert f"/subscriptions/{SUB}, {vault_group}" in advice
    assert f"`az lock list --subscription {SUB} --output table`" in advice
    assert f"`az lock list --resource-group rg-kv --subscription {OTHER} --output table`" in advice
    assert "make it CanNotDelete" in advice
