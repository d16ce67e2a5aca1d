"""The pure planner over our own dataclasses (no SDK, no network): ordering and safety rules."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Unpack

import pytest

from tests.engine.fake_reader import (
    CLUSTER_ID,
    IDENTITY_ID,
    NOW,
    PRINCIPAL,
    VAULT_ID,
    EstateChanges,
    FakeEstate,
    FakeReader,
    policy,
)
from wizard.domain.models import (
    AttachedIdentity,
    ClusterFacts,
    DeletedKeyFacts,
    DeletedVaultFacts,
    IdentityFacts,
    KeyFacts,
    VaultFacts,
)
from wizard.domain.results import StepKind
from wizard.engine.fix_plan import plan_fixes
from wizard.engine.plan_access import new_identity_name
from wizard.engine.steps import Carry, Plan
from wizard.run.diagnose import Diagnosis, diagnose

HEALTHY = FakeEstate()
assert HEALTHY.cluster is not None
assert HEALTHY.key is not None
assert HEALTHY.vault is not None
assert HEALTHY.identity is not None
# The asserts narrow HEALTHY's fields here only, not inside the tests: name the healthy facts.
CLUSTER: ClusterFacts = HEALTHY.cluster
KEY: KeyFacts = HEALTHY.key
VAULT: VaultFacts = HEALTHY.vault
IDENTITY: IdentityFacts = HEALTHY.identity
INACCESSIBLE = dataclasses.replace(CLUSTER, cluster_status="Inaccessible")


def diag(**changes: Unpack[EstateChanges]) -> Diagnosis:
    changes.setdefault("cluster", INACCESSIBLE)
    return diagnose(FakeReader(HEALTHY.replace(**changes)), CLUSTER_ID)


def ids(plan: Plan) -> list[str]:
    return [s.remediation for s in plan.steps]


def expired_key() -> KeyFacts:
    return dataclasses.replace(KEY, expires=NOW - timedelta(days=1))


def test_healthy_plan_is_empty() -> None:
    plan = plan_fixes(diagnose(FakeReader(HEALTHY), CLUSTER_ID))
    assert plan.steps == ()
    assert plan.next_step is None


def test_expired_key_extends_then_waits() -> None:
    plan = plan_fixes(diag(key=expired_key()), now=NOW, expiry_days=100)
    assert ids(plan) == ["extend-key-expiry", "wait-for-ready"]
    step = plan.steps[0]
    assert step.kind == StepKind.WRITE
    assert step.finding == "KEY_EXPIRED"
    assert step.params["key_name"] == "cmk"
    assert step.params["version"] == "v1"
    assert step.params["expires_on"].startswith((NOW + timedelta(days=100)).strftime("%Y-%m-%d"))
    assert " -> " in step.change
    assert step.rest.startswith("PATCH https://kv1.vault.azure.net/keys/cmk/v1")
    assert "az keyvault key set-attributes" in step.az
    assert step.verifies == ("key.dates",)
    assert step.confirm == "yes"
    assert plan.steps[1].kind == StepKind.WAIT


def test_no_key_change_while_an_expiry_fix_is_pending() -> None:
    versioned = dataclasses.replace(INACCESSIBLE, key_url="https://kv1.vault.azure.net/keys/cmk/v1")
    named = {"KEY_EXPIRED", "CLUSTER_KEY_URL_VERSIONED"}
    plan = plan_fixes(diag(cluster=versioned, key=expired_key()), scope=named)
    assert "attach-identity-and-key" not in [s.remediation for s in plan.steps if s.kind == StepKind.WRITE]
    deferred = [s for s in plan.steps if s.kind == StepKind.DEFERRED]
    assert [s.finding for s in deferred] == ["CLUSTER_KEY_URL_VERSIONED"]
    assert "Ready" in deferred[0].explanation
    assert plan.steps[-1].kind == StepKind.DEFERRED
    # Extended in this session but the cluster is not Ready yet: still no key change.
    plan = plan_fixes(diag(cluster=versioned), scope=named, carry=Carry(expiry_extended=True))
    assert [s.kind for s in plan.steps if s.remediation == "attach-identity-and-key"] == [StepKind.DEFERRED]
    # Once Ready, the versioned URL may be fixed (identity and versionless URL together).
    ready = dataclasses.replace(versioned, cluster_status="Ready")
    plan = plan_fixes(diag(cluster=ready), scope=named, carry=Carry(expiry_extended=True))
    attach = plan.steps[0]
    assert (attach.remediation, attach.kind) == ("attach-identity-and-key", StepKind.WRITE)
    assert attach.params["key_url"] == "https://kv1.vault.azure.net/keys/cmk"
    assert attach.params["identity_id"] == IDENTITY_ID


def test_recover_vault_then_grant_the_role_it_lost() -> None:
    deleted = DeletedVaultFacts("kv1", "westus2", VAULT_ID, NOW, NOW + timedelta(days=90), True)
    plan = plan_fixes(diag(vault=None, deleted_vault=deleted))
    assert ids(plan) == ["recover-vault", "grant-crypto-role", "wait-for-ready"]
    recover, grant = plan.steps[0], plan.steps[1]
    assert recover.params["vault_id"] == VAULT_ID
    assert recover.params["location"] == "westus2"
    assert recover.params["tenant_id"]
    assert grant.provisional
    assert grant.params["principal_id"] == PRINCIPAL
    assert plan.next_step == recover


def test_soft_deleted_key_recovered_first() -> None:
    deleted = DeletedKeyFacts(
        "cmk", NOW, NOW + timedelta(days=90), "https://kv1.vault.azure.net/deletedkeys/cmk"
    )
    plan = plan_fixes(diag(key=None, deleted_key=deleted))
    assert ids(plan) == ["recover-key", "wait-for-ready"]
    assert plan.steps[0].params["vault_url"] == "https://kv1.vault.azure.net"


def test_deleted_identity_create_grant_attach_in_order() -> None:
    plan = plan_fixes(diag(identity=None), now=NOW)
    assert ids(plan) == ["create-identity", "grant-crypto-role", "attach-identity-and-key", "wait-for-ready"]
    create, grant, attach = plan.steps[:3]
    assert create.params["name"] == new_identity_name("id1", NOW)
    assert create.params["location"] == INACCESSIBLE.location
    assert create.params["resource_group"] == INACCESSIBLE.resource_group
    assert grant.provisional
    assert attach.provisional
    assert attach.params["identity_id"] == create.params["identity_id"]
    # After the identity exists (carried from the executor), grant its principal, then attach.
    new = IdentityFacts(
        create.params["identity_id"],
        create.params["name"],
        "p-new",
        "c-new",
        IDENTITY.tenant_id,
        "westus2",
    )
    plan = plan_fixes(diag(identity=None), carry=Carry(new_identity=new))
    assert ids(plan) == ["grant-crypto-role", "attach-identity-and-key", "wait-for-ready"]
    assert plan.steps[0].params["principal_id"] == "p-new"
    assert not plan.steps[0].provisional
    assert plan.steps[1].params["identity_id"] == new.id
    carry = Carry(new_identity=new, granted_principals=frozenset({"p-new"}))
    plan = plan_fixes(diag(identity=None), carry=carry)
    assert ids(plan) == ["attach-identity-and-key", "wait-for-ready"]


def test_new_identity_name_is_fresh_and_bounded() -> None:
    assert new_identity_name("uami", NOW) == f"uami-{NOW.strftime('%Y%m%d%H%M')}"
    assert len(new_identity_name("x" * 200, NOW)) <= 128


def test_recreated_identity_is_replaced_like_a_deleted_one() -> None:
    """A same-name recreated identity is a new principal the cluster does not take up by being
    re-attached: a new identity (distinct name), its grant, then identity and key URL together."""
    identity = dataclasses.replace(IDENTITY, principal_id="p-recreated")
    result = diag(identity=identity)
    assert {"IDENTITY_RECREATED", "RBAC_ROLE_MISSING"} <= {f.code for f in result.findings}
    plan = plan_fixes(result, now=NOW)
    assert ids(plan) == ["create-identity", "grant-crypto-role", "attach-identity-and-key", "wait-for-ready"]
    create, grant, attach = plan.steps[:3]
    assert create.params["name"] == new_identity_name("id1", NOW) != "id1"
    assert "same name" in create.explanation
    assert grant.provisional
    assert grant.params["principal_id"] is None
    assert attach.params["identity_id"] == create.params["identity_id"] != IDENTITY_ID
    # the recreated principal's missing role is fixed by the replacement, not by granting it
    assert all(s.also_fixes == ("RBAC_ROLE_MISSING",) for s in plan.steps[:3])
    assert "p-recreated" not in str([s.params for s in plan.steps])
    new = IdentityFacts(
        create.params["identity_id"], create.params["name"], "p-new", "c", IDENTITY.tenant_id, "w"
    )
    plan = plan_fixes(result, carry=Carry(new_identity=new))
    assert ids(plan) == ["grant-crypto-role", "attach-identity-and-key", "wait-for-ready"]
    assert plan.steps[0].params["principal_id"] == "p-new"
    assert (plan.steps[1].params["identity_id"], plan.steps[1].params["principal_id"]) == (new.id, "p-new")


def test_recreated_identity_on_an_access_policy_vault_adds_a_policy_for_the_new_one() -> None:
    vault = dataclasses.replace(VAULT, rbac_authorization=False, access_policies=(policy(PRINCIPAL, "all"),))
    result = diag(identity=dataclasses.replace(IDENTITY, principal_id="p-recreated"), vault=vault)
    assert {"IDENTITY_RECREATED", "ACCESS_POLICY_MISSING"} <= {f.code for f in result.findings}
    recreated = next(f for f in result.findings if f.code == "IDENTITY_RECREATED")
    assert recreated.remediations == ("create-identity", "add-access-policy", "attach-identity-and-key")
    assert ids(plan_fixes(result))[:3] == ["create-identity", "add-access-policy", "attach-identity-and-key"]


def test_access_policy_vault_adds_only_missing_permissions() -> None:
    vault = dataclasses.replace(
        VAULT, rbac_authorization=False, access_policies=(policy(PRINCIPAL, "get", "list"),)
    )
    plan = plan_fixes(diag(vault=vault, assignments=[]))
    assert ids(plan) == ["add-access-policy", "wait-for-ready"]
    step = plan.steps[0]
    assert step.params["permissions"] == ["wrapKey", "unwrapKey"]
    assert step.params["principal_id"] == PRINCIPAL
    assert "replace" not in step.rest
    assert "/accessPolicies/add" in step.rest


def test_access_policy_az_names_every_permission_it_leaves_in_place() -> None:
    """`az keyvault set-policy --key-permissions` replaces the list: naming only the missing ones
    would take get, list (and sign) away."""
    vault = dataclasses.replace(
        VAULT, rbac_authorization=False, access_policies=(policy(PRINCIPAL, "get", "list", "sign"),)
    )
    result = diag(vault=vault, assignments=[])
    step = plan_fixes(result).steps[0]
    wanted = "--key-permissions get list sign unwrapKey wrapKey"
    assert step.az.endswith(wanted), step.az


def test_deleted_identity_on_access_policy_vault_uses_a_policy() -> None:
    vault = dataclasses.replace(
        VAULT,
        rbac_authorization=False,
        access_policies=(policy(PRINCIPAL, "get", "list", "wrapkey", "unwrapkey"),),
    )
    plan = plan_fixes(diag(vault=vault, identity=None))
    assert ids(plan)[:3] == ["create-identity", "add-access-policy", "attach-identity-and-key"]
    assert plan.steps[1].params["permissions"] == ["get", "list", "wrapKey", "unwrapKey"]


def test_multi_fault_order_key_then_network_then_access_then_wait() -> None:
    vault = dataclasses.replace(
        VAULT,
        public_network_access="Disabled",
        network_default_action="Deny",
        network_bypass="None",
        ip_rules=("1.2.3.4/32",),
    )
    plan = plan_fixes(diag(vault=vault, assignments=[], key=expired_key()))
    assert ids(plan) == ["extend-key-expiry", "allow-trusted-services", "grant-crypto-role", "wait-for-ready"]
    firewall = plan.steps[1]
    assert firewall.after["ipRules"] == ["1.2.3.4/32"]
    assert firewall.after["defaultAction"] == "Deny"
    assert firewall.after["bypass"] == "AzureServices"


def test_failed_provisioning_fixes_causes_first_then_deletes_and_never_waits() -> None:
    failed = dataclasses.replace(CLUSTER, cluster_status="Failed", provisioning_state="Failed")
    plan = plan_fixes(diag(cluster=failed, assignments=[]))
    assert ids(plan) == ["grant-crypto-role", "delete-failed-cluster"]
    delete = plan.steps[-1]
    assert delete.confirm == "typed"
    assert delete.confirm_text == "c1"
    assert not delete.reversible
    # `--finding CLUSTER_PROVISIONING_FAILED` brings the other critical causes along.
    plan = plan_fixes(diag(cluster=failed, assignments=[]), scope={"CLUSTER_PROVISIONING_FAILED"})
    assert ids(plan) == ["grant-crypto-role", "delete-failed-cluster"]


@pytest.mark.parametrize(
    "change",
    [
        {"vault": None},
        {"key": None},
    ],
)
def test_unrecoverable_findings_escalate_and_write_nothing(change: EstateChanges) -> None:
    plan = plan_fixes(diag(**change))
    assert plan.writes == ()
    assert plan.next_step is None
    assert [s.kind for s in plan.steps] == [StepKind.ESCALATE]
    assert plan.steps[0].finding in ("VAULT_PURGED", "KEY_PURGED")
    assert "support" in plan.steps[0].explanation
    assert any("no wait" in n for n in plan.notes)


def test_an_unsupported_key_escalates_first_and_blocks_the_wait() -> None:
    key = dataclasses.replace(KEY, kty="EC", key_size=None)
    plan = plan_fixes(diag(key=key, assignments=[]))
    assert ids(plan) == ["escalate", "grant-crypto-role"]
    assert plan.steps[0].finding == "KEY_TYPE_UNSUPPORTED"
    assert "new RSA" in plan.steps[0].explanation
    assert any("KEY_TYPE_UNSUPPORTED" in n for n in plan.notes)


def test_purge_protection_is_a_typed_confirmation_only_when_named() -> None:
    vault = dataclasses.replace(VAULT, purge_protection=False)
    result = diagnose(FakeReader(HEALTHY.replace(vault=vault)), CLUSTER_ID)
    every = plan_fixes(result)
    assert every.steps == ()
    assert any("VAULT_PURGE_PROTECTION_OFF" in n and "--finding" in n for n in every.notes)
    plan = plan_fixes(result, scope={"VAULT_PURGE_PROTECTION_OFF"})
    assert ids(plan) == ["enable-purge-protection"]
    assert plan.steps[0].confirm == "typed"
    assert plan.steps[0].confirm_text == "kv1"


def test_scope_limits_the_plan_and_waits_only_when_every_cause_is_covered() -> None:
    vault = dataclasses.replace(
        VAULT, public_network_access="Disabled", network_default_action="Deny", network_bypass="None"
    )
    result = diag(vault=vault, assignments=[])
    plan = plan_fixes(result, scope={"RBAC_ROLE_MISSING"})
    assert ids(plan) == ["grant-crypto-role"]
    assert any("VAULT_FIREWALL_BLOCKS_SERVICE" in n for n in plan.notes)
    plan = plan_fixes(result, scope={"KEY_DISABLED"})
    assert plan.steps == ()
    assert any("KEY_DISABLED" in n for n in plan.notes)


def test_an_attach_for_a_cause_keeps_the_pinned_version() -> None:
    """IDENTITY_NOT_ATTACHED is fixed on its own: the warning's versionless move is not folded in."""
    cluster = dataclasses.replace(
        INACCESSIBLE, key_url="https://kv1.vault.azure.net/keys/cmk/v1", attached_identities=()
    )
    plan = plan_fixes(diag(cluster=cluster))
    attaches = [s for s in plan.steps if s.remediation == "attach-identity-and-key"]
    assert len(attaches) == 1
    assert attaches[0].finding == "IDENTITY_NOT_ATTACHED"
    assert attaches[0].also_fixes == ()
    assert attaches[0].params["key_url"] == "https://kv1.vault.azure.net/keys/cmk/v1"
    assert any("CLUSTER_KEY_URL_VERSIONED" in n for n in plan.notes)


def test_forbidden_target_read_flags_a_permission_doubt() -> None:
    from wizard.domain.errors import Forbidden

    denied = Forbidden("403", needs="Microsoft.Authorization/roleAssignments/read (Reader on the vault)")
    identity = dataclasses.replace(IDENTITY, principal_id="p2")
    result = diag(identity=identity, errors={"list_role_assignments": denied})
    plan = plan_fixes(result)
    grant = next(s for s in plan.steps if s.remediation == "grant-crypto-role")
    assert "roleAssignments/read" in grant.permission_doubt


def test_a_recreated_identity_is_never_re_attached_under_its_own_id() -> None:
    # Re-sending the same identity id does not refresh the principal the cluster remembers.
    cluster = dataclasses.replace(
        INACCESSIBLE, attached_identities=(AttachedIdentity(IDENTITY_ID, "old-principal", "c"),)
    )
    plan = plan_fixes(diag(cluster=cluster))
    attach = next(s for s in plan.steps if s.remediation == "attach-identity-and-key")
    assert attach.params["identity_id"] != IDENTITY_ID
