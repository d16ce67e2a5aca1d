"""Resources in more than one subscription, through the real SDK: every route answers for the
subscription in its path only, Resource Graph rows carry their own, the subscriptions query lists
what the operator can see, and `hide-subscription:` models a subscription out of sight."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    Permissions,
    Sku,
    VaultAccessPolicyParameters,
    VaultAccessPolicyProperties,
    VaultCreateOrUpdateParameters,
    VaultPatchParameters,
    VaultPatchProperties,
    VaultProperties,
)
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from tests.conftest import until
from tests.emulator.conftest import RG, VAULT, Clients, FakeCredential, StartEmulator
from tests.emulator.test_scenarios import CRYPTO_ROLE
from wizard.emulator import Emulator, EstateError, load_estate

AWAY = "5e7d3c1b-9a2f-4e6d-8c4b-1f0a2e3d4c5b"
HOME = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
SUBSCRIPTIONS_QUERY = (
    "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId"
)

TWO_SUBSCRIPTIONS = f"""
name: two-subscriptions
identities:
  - name: id-cmk-demo
  - name: id-away
    subscriptionId: {AWAY}
vaults:
  - name: kv-home
    keys: [{{name: cmk, size: 2048}}]
  - name: kv-away
    subscriptionId: {AWAY}
    keys: [{{name: cmk, size: 2048, olderVersions: 1}}]
  - name: kv-away-gone
    subscriptionId: {AWAY}
    deleted: -1d
    keys: [{{name: cmk, size: 2048}}]
  - name: kv-home-gone
    deleted: -2d
clusters:
  - name: cluster-two-subscriptions
    identities: [id-cmk-demo]
    encryption: {{identity: id-cmk-demo, vault: kv-away, key: cmk}}
  - name: cluster-away-identity
    identities: [id-away]
    encryption: {{identity: id-away, vault: kv-home, key: cmk}}
roleAssignments:
  - {{principal: id-cmk-demo, role: Key Vault Crypto Service Encryption User, scope: vault:kv-away}}
  - {{principal: id-away, role: Key Vault Crypto Service Encryption User, scope: vault:kv-home}}
"""


def _two(tmp_path: Path, start: StartEmulator) -> Clients:
    path = tmp_path / "two-subscriptions.yaml"
    path.write_text(TWO_SUBSCRIPTIONS, encoding="utf-8")
    return start(str(path))


def _arm_kwargs(emu: Emulator) -> dict[str, Any]:
    """What conftest.make_clients passes every ARM client."""
    return {
        "base_url": emu.arm_endpoint,
        "connection_verify": emu.ca_path,
        "polling_interval": 0,
        "retry_total": 0,
    }


def _kv(emu: Emulator, sub: str) -> KeyVaultManagementClient:
    """A Key Vault management client for one subscription, built as make_clients builds its own."""
    return KeyVaultManagementClient(FakeCredential(emu.token), sub, **_arm_kwargs(emu))


def _msi(emu: Emulator, sub: str) -> ManagedServiceIdentityClient:
    """An MSI client for one subscription."""
    return ManagedServiceIdentityClient(FakeCredential(emu.token), sub, **_arm_kwargs(emu))


def _authz(emu: Emulator, sub: str) -> AuthorizationManagementClient:
    """An authorization client for one subscription."""
    return AuthorizationManagementClient(FakeCredential(emu.token), sub, **_arm_kwargs(emu))


def _vault_id(sub: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{name}"


def _query(c: Clients, query: str, subscriptions: list[str] | None = None) -> list[dict[str, Any]]:
    response = c.graph.resources(
        QueryRequest(
            query=query,
            subscriptions=subscriptions,
            options=QueryRequestOptions(result_format="objectArray"),
        )
    )
    # The SDK types `data` as one JSON object; with result_format="objectArray" it is a list of rows.
    return list(cast("list[dict[str, Any]]", response.data))


def _status(c: Clients, cluster_name: str) -> str | None:
    properties = c.mongo.mongo_clusters.get(RG, cluster_name).properties
    assert properties is not None
    return properties.cluster_status


# -- ARM routes answer for the subscription in the path -------------------------------------------


def test_a_vault_of_another_subscription_is_found_under_it_and_not_found_under_the_default(
    tmp_path: Path, start: StartEmulator
) -> None:
    c = _two(tmp_path, start)
    assert c.sub == HOME
    home, away = _kv(c.emu, HOME), _kv(c.emu, AWAY)
    assert away.vaults.get(RG, "kv-away").id == _vault_id(AWAY, "kv-away")
    assert home.vaults.get(RG, "kv-home").id == _vault_id(HOME, "kv-home")
    for kv, name in ((home, "kv-away"), (away, "kv-home")):
        with pytest.raises(ResourceNotFoundError):
            kv.vaults.get(RG, name)
        with pytest.raises(ResourceNotFoundError):
            kv.vaults.update(
                RG,
                name,
                VaultPatchParameters(properties=VaultPatchProperties(public_network_access="Disabled")),
            )
        with pytest.raises(ResourceNotFoundError):
            kv.vaults.update_access_policy(
                RG,
                name,
                "add",
                VaultAccessPolicyParameters(
                    properties=VaultAccessPolicyProperties(
                        access_policies=[
                            AccessPolicyEntry(
                                tenant_id=c.emu.connection["tenantId"],
                                object_id=str(uuid.uuid4()),
                                permissions=Permissions(keys_property=["get"]),
                            )
                        ]
                    )
                ),
            )
        with pytest.raises(ResourceNotFoundError):
            kv.keys.get(RG, name, "cmk")
        with pytest.raises(ResourceNotFoundError):
            list(kv.keys.list(RG, name))
        with pytest.raises(ResourceNotFoundError):
            list(kv.keys.list_versions(RG, name, "cmk"))
    assert c.reasons() == [], "nothing above changed a vault"
    key = away.keys.get(RG, "kv-away", "cmk")
    assert key.id == f"{_vault_id(AWAY, 'kv-away')}/keys/cmk"
    assert len(list(away.keys.list_versions(RG, "kv-away", "cmk"))) == 2
    assert [k.name for k in away.keys.list(RG, "kv-away")] == ["cmk"]
    assert [v.name for v in home.vaults.list_by_subscription()] == ["kv-home"]
    assert [v.name for v in away.vaults.list_by_subscription()] == ["kv-away"]
    assert [v.name for v in away.vaults.list_by_resource_group(RG)] == ["kv-away"]
    assert [v.id for v in away.vaults.list()] == [_vault_id(AWAY, "kv-away")]
    assert [v.id for v in home.vaults.list()] == [_vault_id(HOME, "kv-home")]
    with pytest.raises(ResourceNotFoundError) as unknown:
        list(_kv(c.emu, str(uuid.uuid4())).vaults.list_by_subscription())
    assert unknown.value.error is not None
    assert unknown.value.error.code == "SubscriptionNotFound"
    with pytest.raises(ResourceExistsError) as taken:
        home.vaults.begin_create_or_update(
            RG,
            "kv-away",
            VaultCreateOrUpdateParameters(
                location="westus2",
                properties=VaultProperties(
                    tenant_id=c.emu.connection["tenantId"], sku=Sku(family="A", name="standard")
                ),
            ),
        ).result()
    assert taken.value.error is not None
    assert taken.value.error.code == "VaultAlreadyExists"


def test_role_assignments_at_a_vault_of_another_subscription_count_for_health(
    tmp_path: Path, start: StartEmulator
) -> None:
    c = _two(tmp_path, start)
    scope = _vault_id(AWAY, "kv-away")
    listed = list(_authz(c.emu, AWAY).role_assignments.list_for_scope(scope))
    assert [(a.scope, a.role_definition_id) for a in listed] == [
        (scope, f"/subscriptions/{AWAY}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_ROLE}")
    ]
    under_home = c.authz.role_assignments.list_for_scope(f"/subscriptions/{HOME}")
    assert [a.scope for a in under_home] == [_vault_id(HOME, "kv-home")]
    assert c.reasons() == []
    assert _status(c, "cluster-two-subscriptions") == "Ready"
    _authz(c.emu, AWAY).role_assignments.delete(scope, str(listed[0].name))
    assert c.reasons() == ["no-key-permission"]
    assert _status(c, "cluster-two-subscriptions") == "Inaccessible"


def test_an_identity_of_another_subscription_is_referenced_by_name(
    tmp_path: Path, start: StartEmulator
) -> None:
    c = _two(tmp_path, start)
    provider = "Microsoft.ManagedIdentity/userAssignedIdentities"
    identity_id = f"/subscriptions/{AWAY}/resourceGroups/{RG}/providers/{provider}/id-away"
    assert _msi(c.emu, AWAY).user_assigned_identities.get(RG, "id-away").id == identity_id
    with pytest.raises(ResourceNotFoundError):
        c.msi.user_assigned_identities.get(RG, "id-away")
    cluster = c.mongo.mongo_clusters.get(RG, "cluster-away-identity")
    assert cluster.identity is not None
    assert cluster.identity.user_assigned_identities is not None
    assert list(cluster.identity.user_assigned_identities) == [identity_id]
    assert _status(c, "cluster-away-identity") == "Ready"


def test_list_deleted_lists_only_the_deleted_vaults_of_the_path_subscription(
    tmp_path: Path, start: StartEmulator
) -> None:
    c = _two(tmp_path, start)
    home, away = _kv(c.emu, HOME), _kv(c.emu, AWAY)
    assert [d.name for d in home.vaults.list_deleted()] == ["kv-home-gone"]
    assert [d.name for d in away.vaults.list_deleted()] == ["kv-away-gone"]
    deleted = away.vaults.get_deleted("kv-away-gone", "westus2")
    assert (
        deleted.id
        == f"/subscriptions/{AWAY}/providers/Microsoft.KeyVault/locations/westus2/deletedVaults/kv-away-gone"
    )
    assert deleted.properties is not None
    assert deleted.properties.vault_id == _vault_id(AWAY, "kv-away-gone")
    with pytest.raises(ResourceNotFoundError):
        home.vaults.get_deleted("kv-away-gone", "westus2")
    with pytest.raises(ResourceNotFoundError):
        away.vaults.get_deleted("kv-home-gone", "westus2")


# -- Resource Graph -------------------------------------------------------------------------------


def test_resource_graph_rows_carry_their_own_subscription(tmp_path: Path, start: StartEmulator) -> None:
    c = _two(tmp_path, start)
    vaults = _query(c, "resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ 'kv-away'")
    assert [(r["id"], r["subscriptionId"]) for r in vaults] == [(_vault_id(AWAY, "kv-away"), AWAY)]
    clusters = _query(
        c,
        "resources | where type =~ 'microsoft.documentdb/mongoclusters' "
        "| where isnotempty(properties.encryption.customerManagedKeyEncryption)",
    )
    assert {r["subscriptionId"] for r in clusters} == {HOME}
    assert (
        _query(c, "resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ 'kv-away'", [HOME])
        == []
    )


def test_the_subscriptions_query_lists_every_subscription_with_a_resource(
    tmp_path: Path, start: StartEmulator
) -> None:
    c = _two(tmp_path, start)
    assert _query(c, SUBSCRIPTIONS_QUERY) == [{"subscriptionId": AWAY}, {"subscriptionId": HOME}]
    spelled = (
        "ResourceContainers\n|  where type =~ 'Microsoft.Resources/subscriptions'\n| PROJECT  subscriptionId "
    )
    assert _query(c, spelled) == [{"subscriptionId": AWAY}, {"subscriptionId": HOME}]
    single = start("healthy")
    assert _query(single, SUBSCRIPTIONS_QUERY) == [{"subscriptionId": HOME}]


def test_a_hidden_subscription_is_out_of_sight_and_out_of_reach(tmp_path: Path, start: StartEmulator) -> None:
    c = _two(tmp_path, start)
    c.emu.set_faults(restrictions=[f"hide-subscription:{AWAY.upper()}"])
    assert _query(c, SUBSCRIPTIONS_QUERY) == [{"subscriptionId": HOME}]
    assert _query(c, "resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ 'kv-away'") == []
    assert (
        len(_query(c, "resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ 'kv-home'")) == 1
    )
    away = _kv(c.emu, AWAY)
    calls: list[Callable[[], Any]] = [
        lambda: away.vaults.get(RG, "kv-away"),
        lambda: list(away.vaults.list_deleted()),
        lambda: list(away.vaults.list_by_subscription()),
        lambda: away.keys.get(RG, "kv-away", "cmk"),
        lambda: list(_authz(c.emu, AWAY).role_assignments.list_for_scope(_vault_id(AWAY, "kv-away"))),
    ]
    for call in calls:
        with pytest.raises(HttpResponseError) as denied:
            call()
        assert denied.value.status_code == 403
        assert denied.value.error is not None
        assert denied.value.error.code == "AuthorizationFailed"
        assert denied.value.error.message is not None
        assert f"over scope '/subscriptions/{AWAY}/" in denied.value.error.message
    assert [v.name for v in _kv(c.emu, HOME).vaults.list_by_subscription()] == ["kv-home"]
    assert c.reasons() == [], "what the operator cannot see never changes a cluster's verdict"
    c.emu.set_faults(restrictions=[])
    assert away.vaults.get(RG, "kv-away").name == "kv-away"


def test_hide_subscription_is_validated_like_the_other_restrictions(tmp_path: Path) -> None:
    path = tmp_path / "hidden.yaml"
    path.write_text(
        TWO_SUBSCRIPTIONS + f"operator:\n  restrictions: ['hide-subscription:{AWAY}']\n", encoding="utf-8"
    )
    with Emulator(str(path)) as emu:
        assert emu.faults()["restrictions"] == [f"hide-subscription:{AWAY}"]
        with pytest.raises(ValueError, match="'nope' in 'hide-subscription:nope' is not a GUID"):
            emu.set_faults(restrictions=["hide-subscription:nope"])
    path.write_text(
        TWO_SUBSCRIPTIONS + "operator:\n  restrictions: ['hide-subscription:']\n", encoding="utf-8"
    )
    with pytest.raises(EstateError) as err:
        load_estate(str(path))
    assert "\n" not in str(err.value)
    assert "operator.restrictions[0]: '' in 'hide-subscription:' is not a GUID" in str(err.value)


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        (
            ("  - name: kv-away\n    subscriptionId: " + AWAY, "  - name: kv-away\n    subscriptionId: away"),
            "vaults[1].subscriptionId: 'away' is not a GUID",
        ),
        (
            ("  - name: id-away\n    subscriptionId: " + AWAY, "  - name: id-away\n    subscriptionId: 42"),
            "identities[1].subscriptionId: expected a non-empty string, got 42",
        ),
        (
            ("scope: vault:kv-home}", "scope: 'subscription:not-a-guid'}"),
            "roleAssignments[1].scope: 'subscription:not-a-guid' is not a scope",
        ),
    ],
)
def test_a_bad_subscription_is_one_clear_error(tmp_path: Path, patch: tuple[str, str], needle: str) -> None:
    path = tmp_path / "bad.yaml"
    old, new = patch
    assert old in TWO_SUBSCRIPTIONS
    path.write_text(TWO_SUBSCRIPTIONS.replace(old, new), encoding="utf-8")
    with pytest.raises(EstateError) as err:
        load_estate(str(path))
    assert "\n" not in str(err.value)
    assert needle in str(err.value)


def test_subscription_scopes_and_locks_resolve_to_the_resource_subscription(tmp_path: Path) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text(
        TWO_SUBSCRIPTIONS
        + f"locks:\n  - {{scope: 'subscription:{AWAY}', level: ReadOnly, name: freeze-away}}\n"
        + "  - {scope: vault:kv-away, level: CanNotDelete, name: keep-away}\n",
        encoding="utf-8",
    )
    with Emulator(str(path)) as emu:
        assert [(lock["name"], lock["scope"]) for lock in emu.locks()] == [
            ("freeze-away", f"/subscriptions/{AWAY}"),
            ("keep-away", _vault_id(AWAY, "kv-away")),
        ]
        with pytest.raises(ResourceExistsError) as locked:
            _kv(emu, AWAY).vaults.update(
                RG,
                "kv-away",
                VaultPatchParameters(properties=VaultPatchProperties(public_network_access="Disabled")),
            )
        assert locked.value.error is not None
        assert locked.value.error.code == "ScopeLocked"
        _kv(emu, HOME).vaults.update(RG, "kv-home", VaultPatchParameters(tags={"a": "b"}))
    path.write_text(
        TWO_SUBSCRIPTIONS + f"locks:\n  - {{scope: 'subscription:{uuid.uuid4()}', level: ReadOnly}}\n",
        encoding="utf-8",
    )
    with pytest.raises(EstateError, match="is not the subscription, a resource group or a resource"):
        load_estate(str(path))


# -- the built-in scenario ------------------------------------------------------------------------


def test_vault_soft_deleted_elsewhere_is_recovered_in_its_own_subscription(
    start: StartEmulator,
) -> None:
    c = start("vault-soft-deleted-elsewhere")
    assert c.cluster_name == "cluster-vault-soft-deleted-elsewhere"
    assert c.sub == HOME
    assert c.reasons() == ["vault-soft-deleted"]
    assert c.health()["status"] == "Inaccessible"
    home, away = _kv(c.emu, HOME), _kv(c.emu, AWAY)
    assert list(home.vaults.list_deleted()) == []
    deleted = away.vaults.get_deleted(VAULT, "westus2")
    assert deleted.properties is not None
    assert deleted.properties.vault_id == _vault_id(AWAY, VAULT)
    assert _query(c, SUBSCRIPTIONS_QUERY) == [{"subscriptionId": AWAY}, {"subscriptionId": HOME}]
    assert deleted.properties.location is not None
    params = VaultCreateOrUpdateParameters(
        location=deleted.properties.location,
        properties=VaultProperties(
            tenant_id=c.emu.connection["tenantId"],
            sku=Sku(family="A", name="standard"),
            create_mode="recover",
        ),
    )
    with pytest.raises(ResourceNotFoundError) as wrong_place:
        home.vaults.begin_create_or_update(RG, VAULT, params).result()
    assert wrong_place.value.error is not None
    assert wrong_place.value.error.code == "DeletedVaultNotFound"
    recovered = away.vaults.begin_create_or_update(RG, VAULT, params).result()
    assert recovered.id == _vault_id(AWAY, VAULT)
    assert c.reasons() == ["no-key-permission"], "recovery must not bring the role assignment back"
    principal = str(c.msi.user_assigned_identities.get(RG, "id-cmk-demo").principal_id)
    _authz(c.emu, AWAY).role_assignments.create(
        _vault_id(AWAY, VAULT),
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{AWAY}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_ROLE}",
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )
    assert until(lambda: _status(c, c.cluster_name) == "Ready")
    assert c.reasons() == []
    assert [d.name for d in away.vaults.list_deleted()] == []


def test_arm_lists_every_subscription_with_a_role_and_graph_may_list_fewer(start: StartEmulator) -> None:
    from azure.mgmt.resource.subscriptions import SubscriptionClient
    from azure.mgmt.resourcegraph.models import QueryRequest

    c = start("vault-soft-deleted-elsewhere")
    other = "5e7d3c1b-9a2f-4e6d-8c4b-1f0a2e3d4c5b"
    arm = SubscriptionClient(
        FakeCredential(c.emu.token), base_url=c.emu.arm_endpoint, connection_verify=c.emu.ca_path
    )

    def graph_subs() -> set[str]:
        query = (
            "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId"
        )
        rows = cast(list[dict[str, str]], c.graph.resources(QueryRequest(query=query)).data)
        return {row["subscriptionId"] for row in rows}

    assert {s.subscription_id for s in arm.subscriptions.list()} == {c.sub, other} == graph_subs()
    c.emu.set_faults(restrictions=[f"group-roles-only:{other}"])
    listed = list(arm.subscriptions.list())
    assert {s.subscription_id for s in listed} == {c.sub, other}
    assert {getattr(s.state, "value", s.state) for s in listed} == {"Enabled"}
    assert graph_subs() == {c.sub}
    c.emu.set_faults(restrictions=[f"hide-subscription:{other}"])
    assert {s.subscription_id for s in arm.subscriptions.list()} == {c.sub}
