"""Grants take time to be honoured (`timing.grantPropagationSeconds`): until then health counts the
grant as missing and a cluster PATCH that needs it fails asynchronously with the key-access message.
Through the real SDK, the emulator's clock moved by the test (no sleeps)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
)

from tests.emulator.conftest import RG, VAULT, make_clients
from tests.emulator.test_cluster_operations import KEY_URL, grant, identity_id, update
from tests.emulator.test_lifecycle import Clock
from wizard.emulator import Emulator, Estate, load_estate


def reasons(emu: Emulator, cluster_id: str) -> list[str]:
    return [r["code"] for r in emu.health()["clusters"][cluster_id]["reasons"]]


def test_a_role_assignment_is_missing_to_the_service_until_it_has_propagated() -> None:
    clock = Clock()
    with Emulator("rbac-role-missing", grant_propagation_seconds=120, clock=clock) as emu:
        c = make_clients(emu)
        principal = c.msi.user_assigned_identities.get(RG, "id-cmk-demo").principal_id
        grant(c, str(principal))
        assert reasons(emu, c.cluster_id) == ["no-key-permission"]
        attach = update(kek=identity_id(c), url=KEY_URL)
        poller = c.mongo.mongo_clusters.begin_update(RG, c.cluster_name, attach, polling_interval=0)
        with pytest.raises(HttpResponseError) as err:
            poller.result()
        assert poller.status() == "Failed"
        assert err.value.error is not None
        assert err.value.error.code == "KeyEncryptionKeyAccessFailed"
        assert str(err.value.error.message).startswith(f"Couldn't get access to the key '{KEY_URL}'")
        clock.now += 119
        assert reasons(emu, c.cluster_id) == ["no-key-permission"]
        clock.now += 1
        assert reasons(emu, c.cluster_id) == []
        done = c.mongo.mongo_clusters.begin_update(RG, c.cluster_name, attach, polling_interval=0).result()
        assert done.properties is not None
        assert done.properties.provisioning_state == "Succeeded"


def test_an_access_policy_propagates_too_and_the_estate_can_say_so() -> None:
    base = load_estate("access-policy-revoked")
    estate = Estate.from_data({**base.spec, "timing": {"grantPropagationSeconds": 30}}, "slow-policies")
    clock = Clock()
    with Emulator(estate, clock=clock) as emu:
        c = make_clients(emu)
        principal = str(c.msi.user_assigned_identities.get(RG, "id-cmk-demo").principal_id)
        entry = AccessPolicyEntry(
            tenant_id=emu.connection["tenantId"],
            object_id=principal,
            permissions=Permissions(keys_property=["get", "wrapKey", "unwrapKey"]),
        )
        c.kv.vaults.update_access_policy(
            RG,
            VAULT,
            "add",
            VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[entry])),
        )
        assert reasons(emu, c.cluster_id) == ["no-key-permission"]
        clock.now += 30
        assert reasons(emu, c.cluster_id) == []


def test_by_default_a_grant_counts_at_once() -> None:
    with Emulator("rbac-role-missing") as emu:
        c = make_clients(emu)
        grant(c, str(c.msi.user_assigned_identities.get(RG, "id-cmk-demo").principal_id))
        assert reasons(emu, c.cluster_id) == []
