"""A key vault in another subscription than its cluster: deleted, it is looked for in every
subscription in sight, and what cannot be searched is said, never taken for 'purged'."""

from __future__ import annotations

from tests.conftest import BackendFactory
from wizard.domain.models import CheckResult, CheckStatus
from wizard.engine.assess import critical_causes
from wizard.run.diagnose import diagnose

ELSEWHERE = "5e7d3c1b-9a2f-4e6d-8c4b-1f0a2e3d4c5b"


def _deleted_check(backend: BackendFactory, *restrictions: str) -> tuple[set[str], CheckResult]:
    b = backend("vault-soft-deleted-elsewhere")
    b.emulator.set_faults(restrictions=list(restrictions))
    result = diagnose(b.connect(), b.default_cluster_id() or "")
    check = next(c for c in result.assessment.checks if c.id == "vault.deleted")
    return critical_causes(result.findings), check


def test_the_soft_deleted_vault_is_found_in_the_other_subscription(emulator_backend: BackendFactory) -> None:
    causes, check = _deleted_check(emulator_backend)
    assert causes == {"VAULT_SOFT_DELETED"}
    assert ELSEWHERE in check.evidence["vaultId"]


def test_a_subscription_out_of_sight_is_named_in_the_purged_finding(emulator_backend: BackendFactory) -> None:
    """The operator cannot see the vault's subscription at all: every subscription in sight was
    searched, and the finding says that is what 'gone' means here."""
    b = emulator_backend("vault-soft-deleted-elsewhere")
    b.emulator.set_faults(restrictions=[f"hide-subscription:{ELSEWHERE}"])
    result = diagnose(b.connect(), b.default_cluster_id() or "")
    assert critical_causes(result.findings) == {"VAULT_PURGED"}
    purged = next(f for f in result.findings if f.code == "VAULT_PURGED")
    assert "the one subscription you can see" in purged.summary
    assert b.emulator.health()["clusters"][b.default_cluster_id()]["status"] == "Inaccessible"


def test_a_subscription_whose_deleted_vaults_cannot_be_listed_leaves_the_question_open(
    emulator_backend: BackendFactory,
) -> None:
    causes, check = _deleted_check(emulator_backend, "deny:deleted-vaults")
    assert "VAULT_PURGED" not in causes
    assert check.status == CheckStatus.UNKNOWN
    assert "deletedVaults/read" in check.needs
    assert ELSEWHERE in check.needs


def test_a_subscription_with_resource_group_roles_only_is_listed_through_arm(
    emulator_backend: BackendFactory,
) -> None:
    """Before: the subscriptions came from Resource Graph, which (as modelled) lists no subscription
    where the operator holds resource-group roles only, so the deleted vault there read as purged.
    ARM's subscription list has every subscription with any role."""
    causes, check = _deleted_check(emulator_backend, f"group-roles-only:{ELSEWHERE}")
    assert causes == {"VAULT_SOFT_DELETED"}
    assert ELSEWHERE in check.evidence["vaultId"]


def test_without_arms_list_the_subscriptions_come_from_resource_graph(
    emulator_backend: BackendFactory,
) -> None:
    causes, check = _deleted_check(emulator_backend, "deny:subscriptions")
    assert causes == {"VAULT_SOFT_DELETED"}
    assert ELSEWHERE in check.evidence["vaultId"]
