"""The pure engine and the runner, over our own dataclasses: every branch of the tree."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest

from tests.engine.fake_reader import (
    CLUSTER_ID,
    IDENTITY_ID,
    NOW,
    PRINCIPAL,
    SUB,
    VAULT_ID,
    EstateChanges,
    FakeEstate,
    FakeReader,
    policy,
    role_id,
)
from wizard.domain.errors import Forbidden, GatewayError, NotFound, Throttled
from wizard.domain.models import (
    AttachedIdentity,
    CheckStatus,
    DeletedKeyFacts,
    DeletedVaultFacts,
    KeyFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
)
from wizard.engine.assess import Assessment, critical_causes
from wizard.run.diagnose import Diagnosis, diagnose

HEALTHY = FakeEstate()


def run(estate: FakeEstate) -> tuple[Diagnosis, FakeReader]:
    reader = FakeReader(estate)
    return diagnose(reader, CLUSTER_ID), reader


def status(result: Diagnosis, check_id: str) -> CheckStatus:
    return next(c.status for c in result.assessment.checks if c.id == check_id)


def codes(result: Diagnosis) -> set[str]:
    return {f.code for f in result.findings}


def test_healthy_estate_has_no_findings_and_exits_zero() -> None:
    result, reader = run(HEALTHY)
    assert codes(result) == set()
    assert result.verdict == "healthy"
    assert result.exit_code == 0
    assert status(result, "access.policy") == CheckStatus.SKIPPED
    assert reader.calls.count("get_cluster") == 1
    assert "get_deleted_key" not in reader.calls
    assert "get_role_definition" not in reader.calls


def test_healthy_critical_path_is_three_round_trips() -> None:
    result, _ = run(HEALTHY)
    assert result.depth == 3


def test_missing_cluster_is_cluster_not_found() -> None:
    result, reader = run(HEALTHY.replace(cluster=None))
    assert codes(result) == {"CLUSTER_NOT_FOUND"}
    assert reader.calls == ["get_cluster"]
    assert status(result, "key.exists") == CheckStatus.SKIPPED


def test_service_managed_cluster_is_info_only() -> None:
    assert HEALTHY.cluster is not None
    cluster = HEALTHY.cluster.__class__(**{**HEALTHY.cluster.__dict__, "key_url": None})
    result, reader = run(HEALTHY.replace(cluster=cluster))
    assert codes(result) == {"CLUSTER_NOT_CMK"}
    assert result.verdict == "healthy"
    assert reader.calls == ["get_cluster"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"key": None, "deleted_key": DeletedKeyFacts("cmk", NOW, NOW + timedelta(days=90), "rid")},
            {"KEY_SOFT_DELETED"},
        ),
        ({"key": None}, {"KEY_PURGED"}),
        ({"identity": None}, {"IDENTITY_DELETED"}),
        ({"assignments": []}, {"RBAC_ROLE_MISSING"}),
    ],
)
def test_single_faults_name_their_cause(change: EstateChanges, expected: set[str]) -> None:
    result, _ = run(HEALTHY.replace(**change))
    assert critical_causes(result.findings) == expected
    assert result.exit_code == 1


def _key(**changes: object) -> KeyFacts:
    assert HEALTHY.key is not None
    return HEALTHY.key.__class__(**{**HEALTHY.key.__dict__, **changes})


def _vault(**changes: object) -> VaultFacts:
    assert HEALTHY.vault is not None
    return HEALTHY.vault.__class__(**{**HEALTHY.vault.__dict__, **changes})


def test_expired_key() -> None:
    result, _ = run(HEALTHY.replace(key=_key(expires=NOW - timedelta(days=2))))
    assert critical_causes(result.findings) == {"KEY_EXPIRED"}
    finding = next(f for f in result.findings if f.code == "KEY_EXPIRED")
    assert finding.remediations[0] == "extend-key-expiry"
    assert "expired on" in finding.summary


def test_disabled_and_not_yet_active_key() -> None:
    result, _ = run(HEALTHY.replace(key=_key(enabled=False, not_before=NOW + timedelta(days=1))))
    assert critical_causes(result.findings) == {"KEY_DISABLED", "KEY_NOT_YET_ACTIVE"}


def test_key_expiring_soon_is_a_warning_not_a_cause() -> None:
    result, _ = run(HEALTHY.replace(key=_key(expires=NOW + timedelta(days=10))))
    assert codes(result) == {"KEY_EXPIRING_SOON"}
    assert result.verdict == "healthy"


def test_unsupported_key_type_of_the_key_in_use_is_a_cause() -> None:
    result, _ = run(HEALTHY.replace(key=_key(kty="EC", key_size=None)))
    assert critical_causes(result.findings) == {"KEY_TYPE_UNSUPPORTED"}
    assert result.verdict == "unhealthy"
    finding = next(f for f in result.findings if f.code == "KEY_TYPE_UNSUPPORTED")
    assert finding.remediations == ()


def test_soft_deleted_vault_skips_what_depends_on_it() -> None:
    deleted = DeletedVaultFacts("kv1", "westus2", VAULT_ID, NOW, NOW + timedelta(days=90), True)
    result, reader = run(HEALTHY.replace(vault=None, deleted_vault=deleted))
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    for check in ("vault.network", "access.rbac", "key.exists", "key.dates"):
        assert status(result, check) == CheckStatus.SKIPPED
    assert "get_key" not in reader.calls


def test_vault_neither_live_nor_deleted_is_purged() -> None:
    result, _ = run(HEALTHY.replace(vault=None))
    assert critical_causes(result.findings) == {"VAULT_PURGED"}


OTHER_SUB = "00000000-0000-0000-0000-00000000beef"


def test_a_deleted_vault_is_looked_for_in_every_subscription_in_sight() -> None:
    deleted = DeletedVaultFacts("kv1", "westus2", VAULT_ID, NOW, NOW + timedelta(days=90), True)
    result, reader = run(HEALTHY.replace(vault=None, deleted_vault=deleted, subscriptions=(SUB, OTHER_SUB)))
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    assert reader.calls.count("get_deleted_vault") == 2


def test_a_subscription_that_cannot_be_searched_is_not_taken_for_purged() -> None:
    result, _ = run(
        HEALTHY.replace(vault=None, subscriptions=(SUB, OTHER_SUB), unlistable=frozenset({OTHER_SUB}))
    )
    assert "VAULT_PURGED" not in critical_causes(result.findings)
    check = next(c for c in result.assessment.checks if c.id == "vault.deleted")
    assert check.status == CheckStatus.UNKNOWN
    assert OTHER_SUB in check.needs


def test_found_in_one_subscription_wins_over_another_that_cannot_be_searched() -> None:
    deleted = DeletedVaultFacts("kv1", "westus2", VAULT_ID, NOW, NOW + timedelta(days=90), True)
    result, _ = run(
        HEALTHY.replace(
            vault=None, deleted_vault=deleted, subscriptions=(SUB, OTHER_SUB), unlistable=frozenset({SUB})
        )
    )
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}


def test_purged_means_searched_everywhere_in_sight() -> None:
    result, _ = run(HEALTHY.replace(vault=None, subscriptions=(SUB, OTHER_SUB)))
    purged = next(f for f in result.findings if f.code == "VAULT_PURGED")
    assert "any of the 2 subscriptions you can see" in purged.summary
    assert purged.evidence["searchedSubscriptions"] == f"{SUB}, {OTHER_SUB}"


def test_a_live_vault_in_another_subscription_is_found_while_resource_graph_lags() -> None:
    """Resource Graph misses it (e.g. just recovered); the ARM search of every subscription in
    sight finds it, so it is judged, never called purged."""
    assert HEALTHY.vault is not None
    vault = dataclasses.replace(HEALTHY.vault, subscription_id=OTHER_SUB)
    result, reader = run(HEALTHY.replace(vault=vault, graph_misses=True, subscriptions=(SUB, OTHER_SUB)))
    assert result.verdict == "healthy", [f.code for f in result.findings]
    assert reader.calls.count("search_vault") == 2


@pytest.mark.parametrize("error", [Throttled("busy", status=429), NotFound("none", status=404)])
def test_without_the_list_of_subscriptions_the_cluster_subscription_is_still_searched(
    error: GatewayError,
) -> None:
    deleted = DeletedVaultFacts("kv1", "westus2", VAULT_ID, NOW, NOW + timedelta(days=90), True)
    found, _ = run(HEALTHY.replace(vault=None, deleted_vault=deleted, errors={"list_subscriptions": error}))
    assert critical_causes(found.findings) == {"VAULT_SOFT_DELETED"}
    gone, _ = run(HEALTHY.replace(vault=None, errors={"list_subscriptions": error}))
    assert "VAULT_PURGED" not in critical_causes(gone.findings)
    assert status(gone, "vault.deleted") == CheckStatus.UNKNOWN


@pytest.mark.parametrize(
    ("pna", "default", "bypass", "blocked"),
    [
        ("Enabled", None, None, False),
        ("Enabled", "Allow", "None", False),
        ("Enabled", "Deny", "AzureServices", False),
        ("Disabled", "Deny", "AzureServices", False),
        ("Disabled", None, "None", True),
        ("Enabled", "Deny", "None", True),
        # no networkAcls, or none naming a bypass: the spec's default bypass is AzureServices
        ("Disabled", None, None, False),
        ("Disabled", "Deny", None, False),
        ("Enabled", "Deny", None, False),
    ],
)
def test_network_rules(pna: str, default: str | None, bypass: str | None, blocked: bool) -> None:
    vault = _vault(public_network_access=pna, network_default_action=default, network_bypass=bypass)
    result, _ = run(HEALTHY.replace(vault=vault))
    assert ("VAULT_FIREWALL_BLOCKS_SERVICE" in codes(result)) is blocked


def test_recreated_identity_and_its_new_principals_missing_access_are_both_named() -> None:
    """The new principal exists and lacks access: that is a finding of its own, not only a
    failing check; and the recreated identity lists only the grant that fits an RBAC vault."""
    assert HEALTHY.identity is not None
    identity = HEALTHY.identity.__class__(**{**HEALTHY.identity.__dict__, "principal_id": "new-principal"})
    result, reader = run(HEALTHY.replace(identity=identity))
    assert critical_causes(result.findings) == {"IDENTITY_RECREATED", "RBAC_ROLE_MISSING"}
    assert status(result, "access.rbac") == CheckStatus.FAIL
    assert "list_role_assignments" in reader.calls
    missing = next(f for f in result.findings if f.code == "RBAC_ROLE_MISSING")
    assert "new-principal" in missing.summary
    recreated = next(f for f in result.findings if f.code == "IDENTITY_RECREATED")
    assert recreated.remediations == ("create-identity", "grant-crypto-role", "attach-identity-and-key")


def test_identity_not_attached() -> None:
    assert HEALTHY.cluster is not None
    cluster = HEALTHY.cluster.__class__(**{**HEALTHY.cluster.__dict__, "attached_identities": ()})
    result, _ = run(HEALTHY.replace(cluster=cluster))
    assert "IDENTITY_NOT_ATTACHED" in critical_causes(result.findings)


def test_versioned_key_url_is_a_warning() -> None:
    assert HEALTHY.cluster is not None
    cluster = HEALTHY.cluster.__class__(
        **{**HEALTHY.cluster.__dict__, "key_url": "https://kv1.vault.azure.net/keys/cmk/abc123"}
    )
    result, _ = run(HEALTHY.replace(cluster=cluster, key_versions={"abc123": _key(version="abc123")}))
    assert codes(result) == {"CLUSTER_KEY_URL_VERSIONED"}


def test_inaccessible_cluster_is_a_symptom_ranked_after_its_cause() -> None:
    assert HEALTHY.cluster is not None
    cluster = HEALTHY.cluster.__class__(**{**HEALTHY.cluster.__dict__, "cluster_status": "INACCESSIBLE"})
    result, _ = run(HEALTHY.replace(cluster=cluster, assignments=[]))
    assert [f.code for f in result.findings] == ["RBAC_ROLE_MISSING", "CLUSTER_INACCESSIBLE"]
    assert critical_causes(result.findings) == {"RBAC_ROLE_MISSING"}


def test_failed_provisioning() -> None:
    assert HEALTHY.cluster is not None
    cluster = HEALTHY.cluster.__class__(
        **{**HEALTHY.cluster.__dict__, "cluster_status": "Failed", "provisioning_state": "Failed"}
    )
    result, _ = run(HEALTHY.replace(cluster=cluster))
    assert critical_causes(result.findings) == {"CLUSTER_PROVISIONING_FAILED"}


def _assignment(guid: str, scope: str = VAULT_ID) -> RoleAssignmentFacts:
    return RoleAssignmentFacts("ra", scope, role_id(guid), PRINCIPAL, "ServicePrincipal")


def test_other_builtin_roles_pass_without_extra_reads() -> None:
    result, reader = run(HEALTHY.replace(assignments=[_assignment("14b46e9e-c2b7-41b4-b07b-48a6ebf60603")]))
    assert status(result, "access.rbac") == CheckStatus.PASS
    assert "get_role_definition" not in reader.calls


def test_inherited_subscription_assignment_counts() -> None:
    result, _ = run(
        HEALTHY.replace(
            assignments=[_assignment("e147488a-f6f5-4113-8e2d-b22465e65bf6", f"/subscriptions/{SUB}")]
        )
    )
    assert status(result, "access.rbac") == CheckStatus.PASS


def test_assignment_on_another_key_does_not_count() -> None:
    scope = f"{VAULT_ID}/keys/other"
    result, _ = run(HEALTHY.replace(assignments=[_assignment("e147488a-f6f5-4113-8e2d-b22465e65bf6", scope)]))
    assert critical_causes(result.findings) == {"RBAC_ROLE_MISSING"}


@pytest.mark.parametrize(
    ("actions", "denied", "passes"),
    [
        (("Microsoft.KeyVault/vaults/keys/*",), (), True),
        (("Microsoft.KeyVault/*",), (), True),
        (("Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action"), (), False),
        (("Microsoft.KeyVault/vaults/keys/*",), ("Microsoft.KeyVault/vaults/keys/unwrap/action",), False),
    ],
)
def test_custom_roles_are_judged_by_data_actions(
    actions: tuple[str, ...], denied: tuple[str, ...], passes: bool
) -> None:
    guid = "99999999-0000-0000-0000-000000000001"
    role = RoleDefinitionFacts(role_id(guid), "custom", actions, denied)
    estate = HEALTHY.replace(assignments=[_assignment(guid)], role_definitions={role_id(guid): role})
    result, reader = run(estate)
    assert reader.calls.count("list_custom_roles") == 1
    assert "get_role_definition" not in reader.calls
    assert (status(result, "access.rbac") == CheckStatus.PASS) is passes
    assert ("RBAC_ROLE_MISSING" in codes(result)) is not passes


def _many_custom_roles(n: int, granting: int | None) -> FakeEstate:
    """N custom-role assignments at the vault; only the role at index `granting` covers key use."""
    weak = ("Microsoft.KeyVault/vaults/keys/read",)
    strong = ("Microsoft.KeyVault/vaults/keys/*",)
    guids = [f"99999999-0000-0000-0000-{i:012d}" for i in range(n)]
    roles = {
        role_id(g): RoleDefinitionFacts(role_id(g), f"custom {i}", strong if i == granting else weak)
        for i, g in enumerate(guids)
    }
    return HEALTHY.replace(assignments=[_assignment(g) for g in guids], role_definitions=roles)


@pytest.mark.parametrize("n", [1, 10, 1000])
def test_custom_role_assignments_cost_one_list_however_many(n: int) -> None:
    result, reader = run(_many_custom_roles(n, granting=n - 1))
    assert status(result, "access.rbac") == CheckStatus.PASS
    assert reader.calls.count("list_custom_roles") == 1
    assert "get_role_definition" not in reader.calls
    assert len(reader.calls) == 8  # cluster, health, identity, lookup, vault, key, assignments, roles


def test_a_role_the_list_leaves_out_is_read_by_id() -> None:
    estate = _many_custom_roles(3, granting=2)
    estate = estate.replace(unlisted_roles=frozenset({role_id("99999999-0000-0000-0000-000000000002")}))
    result, reader = run(estate)
    assert status(result, "access.rbac") == CheckStatus.PASS
    assert reader.calls.count("list_custom_roles") == 1
    assert reader.calls.count("get_role_definition") == 1


def test_an_unreadable_role_list_falls_back_to_reads_by_id() -> None:
    estate = _many_custom_roles(2, granting=None)
    estate = estate.replace(errors={"list_custom_roles": Forbidden("no", status=403)})
    result, reader = run(estate)
    assert status(result, "access.rbac") == CheckStatus.FAIL
    assert reader.calls.count("get_role_definition") == 2


def test_access_policy_vault_names_the_missing_permissions() -> None:
    vault = _vault(rbac_authorization=False, access_policies=(policy(PRINCIPAL, "get", "list"),))
    result, _ = run(HEALTHY.replace(vault=vault, assignments=[]))
    assert critical_causes(result.findings) == {"ACCESS_POLICY_MISSING"}
    finding = next(f for f in result.findings if f.code == "ACCESS_POLICY_MISSING")
    assert finding.evidence["missing"] == ["wrapKey", "unwrapKey"]
    assert status(result, "access.rbac") == CheckStatus.SKIPPED


def test_access_policy_all_covers_everything() -> None:
    vault = _vault(rbac_authorization=False, access_policies=(policy(PRINCIPAL, "all"),))
    result, _ = run(HEALTHY.replace(vault=vault))
    assert codes(result) == set()


def test_operator_cannot_read_role_assignments_is_unknown_not_a_cause() -> None:
    denied = Forbidden("403", needs="Microsoft.Authorization/roleAssignments/read (Reader on the vault)")
    result, _ = run(HEALTHY.replace(errors={"list_role_assignments": denied}))
    check = next(c for c in result.assessment.checks if c.id == "access.rbac")
    assert check.status == CheckStatus.UNKNOWN
    assert "roleAssignments/read" in check.needs
    assert codes(result) == set()
    assert result.verdict == "incomplete"
    assert result.exit_code == 3


def test_throttled_cluster_read_leaves_everything_undecided() -> None:
    result, _ = run(HEALTHY.replace(errors={"get_cluster": Throttled("429 after retries", status=429)}))
    assert status(result, "cluster.load") == CheckStatus.UNKNOWN
    assert status(result, "key.exists") == CheckStatus.SKIPPED
    assert result.exit_code == 3


def test_deleted_key_read_blocked_by_firewall_is_unknown() -> None:
    blocked = Forbidden("403 ForbiddenByFirewall", needs="network access to the vault")
    result, _ = run(HEALTHY.replace(key=None, errors={"get_deleted_key": blocked}))
    assert status(result, "key.exists") == CheckStatus.UNKNOWN
    assert result.verdict == "incomplete"


def test_multi_fault_finds_every_cause_in_order() -> None:
    vault = _vault(public_network_access="Disabled", network_bypass="None")
    result, _ = run(HEALTHY.replace(vault=vault, assignments=[], key=_key(expires=NOW - timedelta(hours=1))))
    assert [f.code for f in result.findings if f.severity.value == "critical"] == [
        "VAULT_FIREWALL_BLOCKS_SERVICE",
        "RBAC_ROLE_MISSING",
        "KEY_EXPIRED",
    ]


def test_cluster_remembering_no_principal_waits_for_identity() -> None:
    assert HEALTHY.cluster is not None
    cluster = HEALTHY.cluster.__class__(
        **{**HEALTHY.cluster.__dict__, "attached_identities": (AttachedIdentity(IDENTITY_ID, None, None),)}
    )
    result, _ = run(HEALTHY.replace(cluster=cluster))
    assert status(result, "access.rbac") == CheckStatus.PASS


def test_updates_arrive_while_reads_are_in_flight() -> None:
    seen: list[dict[str, CheckStatus]] = []
    gate = threading.Event()

    class SlowReader(FakeReader):
        def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
            gate.wait(5)
            return super().get_key(vault_id, key_name, version)

    def on_update(assessment: Assessment) -> None:
        seen.append({c.id: c.status for c in assessment.checks})
        if seen[-1]["key.exists"] == CheckStatus.RUNNING:
            gate.set()

    result = diagnose(SlowReader(HEALTHY), CLUSTER_ID, on_update=on_update)
    assert any(s["key.exists"] == CheckStatus.RUNNING for s in seen)
    assert status(result, "key.exists") == CheckStatus.PASS


def test_a_pinned_key_version_is_the_one_judged() -> None:
    assert HEALTHY.cluster is not None
    pinned = HEALTHY.cluster.__class__(
        **{**HEALTHY.cluster.__dict__, "key_url": "https://kv1.vault.azure.net/keys/cmk/v0"}
    )
    healthy_v0 = _key(version="v0", enabled=True)
    disabled_v0 = _key(version="v0", enabled=False)
    latest_disabled = _key(enabled=False)
    result, _ = run(HEALTHY.replace(cluster=pinned, key=latest_disabled, key_versions={"v0": healthy_v0}))
    assert critical_causes(result.findings) == set()
    assert codes(result) == {"CLUSTER_KEY_URL_VERSIONED"}
    result, _ = run(HEALTHY.replace(cluster=pinned, key_versions={"v0": disabled_v0}))
    assert critical_causes(result.findings) == {"KEY_DISABLED"}


def test_resource_graph_still_listing_a_deleted_vault_is_not_a_live_vault() -> None:
    deleted = DeletedVaultFacts("kv1", "westus2", VAULT_ID, NOW, NOW + timedelta(days=90), True)
    result, reader = run(HEALTHY.replace(vault=None, deleted_vault=deleted, graph_lags=True))
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    assert "get_deleted_vault" in reader.calls
    assert status(result, "vault.exists") == CheckStatus.FAIL


def _group_assignment(scope: str) -> RoleAssignmentFacts:
    return RoleAssignmentFacts(
        "ra", scope, role_id("e147488a-f6f5-4113-8e2d-b22465e65bf6"), "group-principal", "Group"
    )


@pytest.mark.parametrize("scope", [VAULT_ID, "/providers/Microsoft.Management/managementGroups/mg1"])
def test_a_role_held_through_a_group_or_a_management_group_counts(scope: str) -> None:
    result, _ = run(HEALTHY.replace(assignments=[_group_assignment(scope)]))
    assert status(result, "access.rbac") == CheckStatus.PASS
    assert codes(result) == set()


def test_a_vault_resource_graph_has_not_indexed_yet_is_found_through_arm() -> None:
    result, reader = run(HEALTHY.replace(graph_misses=True))
    assert codes(result) == set()
    assert status(result, "vault.exists") == CheckStatus.PASS
    assert status(result, "vault.deleted") == CheckStatus.SKIPPED
    assert "search_vault" in reader.calls
