"""Management locks (estate `locks`): ReadOnly refuses every ARM write at or below its scope,
CanNotDelete only deletes; role assignments and the Key Vault data plane pass. Through the real SDK."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    NetworkRuleSet,
    Permissions,
    Sku,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultPatchProperties,
    VaultProperties,
)
from azure.mgmt.mongocluster import models as m
from azure.mgmt.msi.models import Identity

from tests.emulator.conftest import RG, VAULT, StartEmulator, admin
from tests.emulator.test_routes import CRYPTO_ROLE, principal, vault_id
from wizard.emulator import Estate, EstateError, load_estate

TRUSTED = VaultPatchParameters(
    properties=VaultPatchProperties(
        network_acls=NetworkRuleSet(bypass="AzureServices", default_action="Deny")
    )
)


def locked(scenario: str, *locks: dict[str, str]) -> Estate:
    """A built-in scenario with these `locks:` entries added."""
    base = load_estate(scenario)
    return Estate.from_data({**base.spec, "locks": list(locks)}, f"{scenario}+locks")


def refused(call: Callable[[], Any]) -> HttpResponseError:
    """The SDK error of a write a lock refuses: 409 ScopeLocked."""
    with pytest.raises(HttpResponseError) as err:
        call()
    assert err.value.status_code == 409
    assert err.value.error is not None
    assert err.value.error.code == "ScopeLocked"
    return err.value


def test_read_only_on_a_vault_refuses_its_writes_and_leaves_it_unchanged(
    start: StartEmulator,
) -> None:
    c = start(locked("firewall-blocked", {"scope": f"vault:{VAULT}", "level": "ReadOnly"}))
    reasons = c.reasons()
    before = len(c.emu.requests())
    error = refused(lambda: c.kv.vaults.update(RG, VAULT, TRUSTED))
    assert error.error is not None
    assert error.error.message == (
        f"The scope '{vault_id(c)}' cannot perform write operation because following scope(s) are "
        f"locked: '{vault_id(c)}'. Please remove the lock and try again."
    )
    entry = c.emu.requests(since=before)[-1]
    assert (entry["method"], entry["status"], entry["write"], entry["kind"]) == ("PATCH", 409, True, "vaults")
    policy = VaultAccessPolicyParameters(
        properties=VaultAccessPolicyProperties(
            access_policies=[
                AccessPolicyEntry(
                    tenant_id=c.emu.connection["tenantId"],
                    object_id=principal(c),
                    permissions=Permissions(keys_property=["get"]),
                )
            ]
        )
    )
    refused(lambda: c.kv.vaults.update_access_policy(RG, VAULT, "add", policy))
    delete_refused = refused(lambda: c.kv.vaults.delete(RG, VAULT))
    assert delete_refused.error is not None
    assert delete_refused.error.message is not None
    assert "delete operation" in delete_refused.error.message
    vault = c.kv.vaults.get(RG, VAULT)
    assert vault.properties.network_acls is not None
    assert vault.properties.network_acls.bypass == "None"
    assert vault.properties.network_acls.ip_rules is not None
    assert [r.value for r in vault.properties.network_acls.ip_rules] == ["203.0.113.0/24"]
    assert vault.properties.access_policies == []
    assert c.reasons() == reasons == ["vault-network-closed"], "health ignores locks"


def test_read_only_on_the_resource_group_refuses_cluster_patch_and_identity_create(
    start: StartEmulator,
) -> None:
    c = start(locked("healthy", {"scope": f"resourceGroup:{RG}", "level": "ReadOnly"}))
    error = refused(
        lambda: c.mongo.mongo_clusters.begin_update(
            RG, c.cluster_name, m.MongoClusterUpdate(tags={"owner": "me"}), polling_interval=0
        )
    )
    assert f"following scope(s) are locked: '/subscriptions/{c.sub}/resourceGroups/{RG}'" in str(error)
    assert c.mongo.mongo_clusters.get(RG, c.cluster_name).tags == {}
    new = Identity(location="westus2")
    refused(lambda: c.msi.user_assigned_identities.create_or_update(RG, "id-new", new))
    with pytest.raises(ResourceNotFoundError):
        c.msi.user_assigned_identities.get(RG, "id-new")
    writes = [(r["method"], r["status"]) for r in c.emu.requests() if r["write"]]
    assert writes == [("PATCH", 409), ("PUT", 409)]


def test_can_not_delete_allows_a_patch_but_refuses_the_delete(start: StartEmulator) -> None:
    c = start(locked("healthy", {"scope": "cluster:cluster-healthy", "level": "CanNotDelete"}))
    updated = c.mongo.mongo_clusters.begin_update(
        RG, c.cluster_name, m.MongoClusterUpdate(tags={"owner": "me"}), polling_interval=0
    ).result()
    assert updated.tags == {"owner": "me"}
    error = refused(lambda: c.mongo.mongo_clusters.begin_delete(RG, c.cluster_name, polling_interval=0))
    assert error.error is not None
    assert error.error.message is not None
    assert f"The scope '{c.cluster_id}' cannot perform delete operation" in error.error.message
    assert c.mongo.mongo_clusters.get(RG, c.cluster_name).id == c.cluster_id


def test_recovering_a_vault_into_a_read_only_group_is_refused(start: StartEmulator) -> None:
    c = start(locked("vault-soft-deleted", {"scope": "resourceGroup", "level": "ReadOnly"}))
    recover = VaultCreateOrUpdateParameters(
        location="westus2",
        properties=VaultProperties(
            tenant_id=c.emu.connection["tenantId"],
            sku=Sku(family="A", name="standard"),
            create_mode="recover",
        ),
    )
    refused(lambda: c.kv.vaults.begin_create_or_update(RG, VAULT, recover, polling_interval=0).result())
    assert c.kv.vaults.get_deleted(VAULT, "westus2").name == VAULT


def _grant(c: Any) -> Any:
    role_id = f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_ROLE}"
    return c.authz.role_assignments.create(
        vault_id(c),
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=role_id, principal_id=principal(c), principal_type="ServicePrincipal"
        ),
    )


def test_a_read_only_lock_above_the_vault_refuses_a_role_assignment_but_not_the_data_plane(
    start: StartEmulator,
) -> None:
    """Role assignments are extension resources: they inherit the locks above their scope."""
    c = start(locked("rbac-role-missing", {"scope": "subscription", "level": "ReadOnly"}))
    error = refused(lambda: _grant(c))
    assert error.error is not None
    assert error.error.message is not None
    assert f"The scope '{vault_id(c)}/providers/Microsoft.Authorization/roleAssignments/" in (
        error.error.message
    )
    assert f"following scope(s) are locked: '/subscriptions/{c.sub}'" in error.error.message
    assert c.reasons() == ["no-key-permission"]
    assert c.authz.role_assignments.list_for_scope(vault_id(c), filter=f"assignedTo('{principal(c)}')")
    key = c.keys().update_key_properties("cmk", tags={"owner": "me"})
    assert key.properties.tags == {"owner": "me"}
    assert [r["status"] for r in c.emu.requests() if r["write"] and not r["anonymous"]] == [409, 200]


def test_can_not_delete_on_the_vault_lets_a_grant_in_and_refuses_its_removal(start: StartEmulator) -> None:
    c = start(locked("rbac-role-missing", {"scope": f"vault:{VAULT}", "level": "CanNotDelete"}))
    created = _grant(c)
    assert created.scope == vault_id(c)
    assert c.reasons() == []
    error = refused(lambda: c.authz.role_assignments.delete(vault_id(c), str(created.name)))
    assert error.error is not None
    assert error.error.message is not None
    assert "cannot perform delete operation" in error.error.message
    assert c.reasons() == []


def test_locks_are_read_through_the_management_lock_client_at_every_level(start: StartEmulator) -> None:
    c = start(
        locked(
            "healthy",
            {"scope": f"vault:{VAULT}", "level": "CanNotDelete", "name": "keep"},
            {"scope": "subscription", "level": "ReadOnly", "name": "freeze"},
        )
    )
    client = c.locks
    at_vault = {(x.name, x.level) for x in client.management_locks.list_by_scope(vault_id(c))}
    assert at_vault == {("keep", "CanNotDelete"), ("freeze", "ReadOnly")}
    in_group = client.management_locks.list_at_resource_group_level(RG)
    assert {x.name for x in in_group} == {"keep", "freeze"}
    whole = client.management_locks.list_at_subscription_level()
    assert {x.id for x in whole} == {
        f"{vault_id(c)}/providers/Microsoft.Authorization/locks/keep",
        f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/locks/freeze",
    }
    assert client.management_locks.get_at_subscription_level("freeze").level == "ReadOnly"
    with pytest.raises(ResourceNotFoundError):
        client.management_locks.get_at_subscription_level("keep")
    assert all(not r["write"] for r in c.emu.requests())


def test_removing_the_lock_lets_the_same_write_through(start: StartEmulator) -> None:
    c = start(locked("firewall-blocked", {"scope": f"vault:{VAULT}", "level": "ReadOnly", "name": "freeze"}))
    assert c.emu.locks() == [
        {
            "name": "freeze",
            "scope": vault_id(c),
            "level": "ReadOnly",
            "id": f"{vault_id(c)}/providers/Microsoft.Authorization/locks/freeze",
        }
    ]
    refused(lambda: c.kv.vaults.update(RG, VAULT, TRUSTED))
    assert c.emu.remove_lock("freeze") == []
    acls = c.kv.vaults.update(RG, VAULT, TRUSTED).properties.network_acls
    assert acls is not None
    assert acls.bypass == "AzureServices"
    assert c.reasons() == []
    with pytest.raises(KeyError, match="no lock named or at 'freeze'"):
        c.emu.remove_lock("freeze")


def test_locks_are_listed_and_removed_by_scope_through_the_admin_endpoint(
    start: StartEmulator,
) -> None:
    c = start(
        locked(
            "healthy",
            {"scope": "identity:id-cmk-demo", "level": "CanNotDelete"},
            {"scope": "subscription", "level": "ReadOnly", "name": "sub-freeze"},
        )
    )
    status, listed = admin(c.emu, "/_emulator/locks")
    assert status == 200
    assert [(x["name"], x["level"]) for x in listed["locks"]] == [
        ("lock-0", "CanNotDelete"),
        ("sub-freeze", "ReadOnly"),
    ]
    refused(lambda: c.kv.vaults.update(RG, VAULT, TRUSTED))
    status, left = admin(c.emu, "/_emulator/locks", {"remove": f"/subscriptions/{c.sub}"})
    assert status == 200
    assert [x["name"] for x in left["locks"]] == ["lock-0"]
    c.kv.vaults.update(RG, VAULT, TRUSTED)
    refused(lambda: c.msi.user_assigned_identities.delete(RG, "id-cmk-demo"))
    status, error = admin(c.emu, "/_emulator/locks", {"remove": "nope"})
    assert (status, error["error"]["code"]) == (404, "LockNotFound")
    status, error = admin(c.emu, "/_emulator/locks", {"lock": "lock-0"})
    assert status == 400
    assert len(c.emu.locks()) == 1


def test_a_vault_soft_deleted_by_a_trainer_takes_its_lock_with_it(start: StartEmulator) -> None:
    c = start(locked("healthy", {"scope": f"key:{VAULT}/cmk", "level": "ReadOnly"}))
    c.emu.mutate(lambda s: s.soft_delete_vault(VAULT, 0))
    assert c.emu.locks() == []


def _one_line_error(tmp_path: Path, locks: str) -> str:
    path = tmp_path / "estate.yaml"
    path.write_text(
        f"name: x\nidentities: [{{name: id-a}}]\nvaults: [{{name: kv-a}}, {{name: kv-gone, deleted: -1d}}]\n"
        f"locks: {locks}\n",
        encoding="utf-8",
    )
    with pytest.raises(EstateError) as err:
        load_estate(str(path))
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize(
    ("locks", "needle"),
    [
        (
            "[{scope: vault:kv-a, level: Frozen}]",
            "locks[0].level: 'Frozen' is not one of ReadOnly, CanNotDelete",
        ),
        ("[{scope: vault:kv-a}]", "locks[0].level: required"),
        ("[{scope: vault:kv-none, level: ReadOnly}]", "locks[0].scope: no vault named 'kv-none'"),
        ("[{scope: cluster:c-none, level: ReadOnly}]", "locks[0].scope: no cluster named 'c-none'"),
        ("[{scope: 'resourceGroup:rg-none', level: ReadOnly}]", "is not the subscription, a resource group"),
        ("[{scope: vault:kv-gone, level: ReadOnly}]", "locks[0].scope: vault 'kv-gone' is soft-deleted"),
        ("[{scope: everything, level: ReadOnly}]", "locks[0].scope: 'everything' is not a scope"),
        ("[{scope: subscription, level: ReadOnly, why: x}]", "locks[0].why: unknown field"),
        (
            "[{scope: subscription, level: ReadOnly, name: a}, "
            "{scope: identity:id-a, level: ReadOnly, name: a}]",
            "locks: 'a' is defined twice",
        ),
    ],
)
def test_a_bad_lock_is_a_one_line_estate_error(tmp_path: Path, locks: str, needle: str) -> None:
    assert needle in _one_line_error(tmp_path, locks)
