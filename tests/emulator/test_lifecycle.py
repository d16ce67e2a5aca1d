"""Creating things, and time: vault and cluster creation through the SDK, operations that run by the
emulator's clock, the data plane's lag after a key delete or recover, and the estate's `timing`."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties
from azure.mgmt.mongocluster import models as m

from tests.emulator.conftest import RG, VAULT, StartEmulator, make_clients, raw
from tests.emulator.test_routes import vault_id
from wizard.emulator import Emulator, EstateError, load_estate

API = "?api-version=2026-06-01"
KV_API = "?api-version=2025-07-01"


class Clock:
    """The emulator's clock, moved by the test (no sleeps)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_put_without_create_mode_recovers_a_soft_deleted_vault_with_the_requests_tags(
    start: StartEmulator,
) -> None:
    c = start("vault-soft-deleted")
    params = VaultCreateOrUpdateParameters(
        location="westus2",
        tags={"owner": "ops"},
        properties=VaultProperties(
            tenant_id=c.emu.connection["tenantId"], sku=Sku(family="A", name="standard")
        ),
    )
    vault = c.kv.vaults.begin_create_or_update(RG, VAULT, params, polling_interval=0).result()
    assert (vault.properties.provisioning_state, vault.tags) == ("Succeeded", {"owner": "ops"})
    assert c.kv.vaults.get(RG, VAULT).id == vault_id(c)


def test_a_new_vault_registers_its_dns_name_then_serves_its_own_data_plane(start: StartEmulator) -> None:
    c = start("healthy")
    params = VaultCreateOrUpdateParameters(
        location="westus2",
        properties=VaultProperties(
            tenant_id=c.emu.connection["tenantId"], sku=Sku(family="A", name="standard")
        ),
    )
    vault = c.kv.vaults.begin_create_or_update(RG, "kv-brand-new", params, polling_interval=0).result()
    assert vault.properties.provisioning_state == "Succeeded"
    log = [(r["method"], r["status"]) for r in c.emu.requests() if r["path"].endswith("/kv-brand-new")]
    assert log == [("PUT", 200), ("GET", 200), ("GET", 200)]
    assert vault.properties.enable_rbac_authorization is None
    created = c.keys("kv-brand-new").create_rsa_key("fresh")
    assert created.key_type == "RSA"
    assert created.properties.version is not None


def test_a_cluster_created_through_the_sdk_comes_up_when_its_operation_ends(start: StartEmulator) -> None:
    c = start("healthy")
    body = m.MongoCluster(location="westus2", tags={"made": "here"}, properties=m.MongoClusterProperties())
    poller = c.mongo.mongo_clusters.begin_create_or_update(RG, "cluster-new", body, polling_interval=0)
    created = poller.result()
    assert created.properties is not None
    assert (created.properties.provisioning_state, created.properties.cluster_status) == (
        "Succeeded",
        "Ready",
    )
    log = [(r["method"], r["status"], r["kind"]) for r in c.emu.requests()]
    assert log[0] == ("PUT", 201, "clusters")
    assert [s for _, s, kind in log if kind == "operations"] == [200, 200]
    assert c.emu.health()["clusters"][created.id]["cameUp"] is True


def test_a_cluster_update_runs_by_the_emulators_clock() -> None:
    clock = Clock()
    with Emulator("healthy", operation_seconds=60, clock=clock) as emu:
        c = make_clients(emu)
        status, headers, accepted = raw(c, "PATCH", c.cluster_id + API, {"tags": {"a": "b"}})
        assert status == 202
        assert "Retry-After" not in headers
        assert isinstance(accepted, dict)
        assert accepted["properties"]["provisioningState"] == "Updating"
        for _ in range(3):
            _, _, op = raw(c, "GET", headers["Azure-AsyncOperation"])
            assert isinstance(op, dict)
            assert op["status"] == "InProgress"
        _, _, during = raw(c, "GET", c.cluster_id + API)
        assert isinstance(during, dict)
        assert during["properties"]["clusterStatus"] == "Updating"
        clock.now += 60
        _, _, op = raw(c, "GET", headers["Azure-AsyncOperation"])
        assert isinstance(op, dict)
        assert set(op) == {"id", "name", "status", "startTime"}
        assert op["status"] == "Succeeded"
        _, _, after = raw(c, "GET", c.cluster_id + API)
        assert isinstance(after, dict)
        assert (after["properties"]["provisioningState"], after["tags"]) == ("Succeeded", {"a": "b"})


def test_the_data_plane_lags_a_key_delete_and_recover_when_asked() -> None:
    clock = Clock()
    with Emulator("healthy", key_lag_seconds=5, clock=clock) as emu:
        c = make_clients(emu)
        vault = emu.vault_endpoint(VAULT)
        assert raw(c, "DELETE", f"{vault}/keys/cmk{KV_API}")[0] == 200
        status, _, missing = raw(c, "GET", f"{vault}/deletedkeys/cmk{KV_API}")
        assert (status, missing) == (
            404,
            {"error": {"code": "KeyNotFound", "message": "Deleted Key not found: cmk"}},
        )
        clock.now += 5
        assert raw(c, "GET", f"{vault}/deletedkeys/cmk{KV_API}")[0] == 200
        assert raw(c, "POST", f"{vault}/deletedkeys/cmk/recover{KV_API}")[0] == 200
        assert raw(c, "GET", f"{vault}/keys/cmk/{KV_API}")[0] == 404
        clock.now += 5
        assert raw(c, "GET", f"{vault}/keys/cmk/{KV_API}")[0] == 200


def test_without_a_lag_the_sdk_pollers_finish_at_once(start: StartEmulator) -> None:
    c = start("healthy")
    keys = c.keys()
    keys.begin_delete_key("cmk", _polling_interval=0).result()
    assert keys.get_deleted_key("cmk").name == "cmk"
    keys.begin_recover_deleted_key("cmk", _polling_interval=0).result()
    assert keys.get_key("cmk").name == "cmk"


ESTATE = """name: timed
timing: {operationSeconds: 30, keyLagSeconds: 2.5}
resourceGroups: [rg-empty, {name: rg-other, subscriptionId: 5e7d3c1b-9a2f-4e6d-8c4b-1f0a2e3d4c5b}]
identities: [{name: id-a}]
"""


def test_timing_and_empty_resource_groups_come_from_the_estate(tmp_path: Path) -> None:
    path = tmp_path / "timed.yaml"
    path.write_text(ESTATE, encoding="utf-8")
    state = load_estate(str(path)).build(0.0)
    assert (state.operation_seconds, state.key_lag_seconds) == (30.0, 2.5)
    assert "5e7d3c1b-9a2f-4e6d-8c4b-1f0a2e3d4c5b" in state.known_subscriptions()
    with Emulator(str(path), operation_seconds=0) as emu:
        assert emu.mutate(lambda s: s.operation_seconds) == 0.0
        c = make_clients(emu)
        missing = (
            f"/subscriptions/{c.sub}/resourceGroups/rg-empty/providers/Microsoft.DocumentDB/mongoClusters/x"
        )
        status, headers, error = raw(c, "GET", missing + API)
        assert (status, headers.get("x-ms-failure-cause")) == (404, "gateway")
        assert isinstance(error, dict)
        assert error["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("timing: {operationSeconds: -1}", "operationSeconds"),
        ("timing: {keyLagSeconds: soon}", "keyLagSeconds"),
        ("timing: {later: 1}", "later"),
        ("resourceGroups: [{name: 'bad name'}]", "resourceGroups[0].name"),
    ],
)
def test_bad_timing_or_groups_are_one_line_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\n{text}\n", encoding="utf-8")
    with pytest.raises(EstateError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_estate(str(path))


def test_negative_timing_in_the_constructor_is_refused() -> None:
    with pytest.raises(ValueError, match="key_lag_seconds"):
        Emulator("healthy", key_lag_seconds=-1)


def test_identity_delete_is_200_with_an_empty_body_and_vault_delete_200(start: StartEmulator) -> None:
    c = start("healthy")
    group = f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers"
    identity = f"{group}/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk-demo"
    status, headers, body = raw(c, "DELETE", identity + "?api-version=2024-11-30")
    assert (status, body) == (200, None)
    assert "Azure-AsyncOperation" not in headers
    vault = f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-cmk-demo"
    status, headers, body = raw(c, "DELETE", vault + "?api-version=2026-05-15")
    assert (status, body) == (200, None)
    assert "Location" not in headers
