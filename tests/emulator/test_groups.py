"""Resource groups exist (estate `resourceGroups`, some deleted): a vault cannot be recovered into a
deleted group (404 ResourceGroupNotFound) until the group is created again. Through the real SDK
(azure-mgmt-resource's ResourceManagementClient)."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup

from tests.emulator.conftest import VAULT, FakeCredential, StartEmulator
from wizard.emulator import EstateError, load_estate

GROUP = "rg-keys"


def test_a_vault_is_recovered_into_its_deleted_group_only_once_the_group_is_back(
    start: StartEmulator,
) -> None:
    c = start("vault-group-deleted")
    groups = ResourceManagementClient(
        FakeCredential(c.emu.token), c.sub, base_url=c.emu.arm_endpoint, connection_verify=c.emu.ca_path
    ).resource_groups
    with pytest.raises(ResourceNotFoundError):
        groups.get(GROUP)
    recover = VaultCreateOrUpdateParameters(
        location="westus2",
        properties=VaultProperties(
            tenant_id=c.emu.connection["tenantId"],
            sku=Sku(family="A", name="standard"),
            create_mode="recover",
        ),
    )
    with pytest.raises(HttpResponseError) as err:
        c.kv.vaults.begin_create_or_update(GROUP, VAULT, recover, polling_interval=0).result()
    assert err.value.status_code == 404
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"
    assert c.kv.vaults.get_deleted(VAULT, "westus2").name == VAULT
    created = groups.create_or_update(GROUP, ResourceGroup(location="westus2"))
    assert (created.name, created.location) == (GROUP, "westus2")
    assert created.properties is not None
    assert created.properties.provisioning_state == "Succeeded"
    assert groups.get(GROUP).id == f"/subscriptions/{c.sub}/resourceGroups/{GROUP}"
    statuses = [r["status"] for r in c.emu.requests() if r["kind"] == "resource-groups"]
    assert statuses == [404, 201, 200]
    vault = c.kv.vaults.begin_create_or_update(GROUP, VAULT, recover, polling_interval=0).result()
    assert vault.properties.provisioning_state == "Succeeded"
    assert c.reasons() == ["no-key-permission"]


def test_nothing_live_may_sit_in_a_deleted_group(tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(
        "name: x\nresourceGroups: [{name: rg-gone, deleted: true}]\n"
        "identities: [{name: id-a, resourceGroup: rg-gone}]\n",
        encoding="utf-8",
    )
    with pytest.raises(EstateError) as err:
        load_estate(str(path))
    assert "'rg-gone' is deleted but 'id-a' lives in it" in str(err.value)
    assert "\n" not in str(err.value)
