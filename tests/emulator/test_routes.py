"""Every route through the real SDK clients: happy paths, LROs, the Key Vault challenge, errors,
faults and operator restrictions."""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
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
from azure.mgmt.mongocluster import models as m
from azure.mgmt.msi.models import Identity
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from tests.emulator.conftest import RG, VAULT, Clients, FakeCredential, StartEmulator, admin, make_clients
from wizard.emulator import Emulator

CRYPTO_ROLE = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


def vault_id(c: Clients) -> str:
    return f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}"


def principal(c: Clients) -> str:
    return str(c.msi.user_assigned_identities.get(RG, "id-cmk-demo").principal_id)


# -- wiring -------------------------------------------------------------------------------------


def test_binds_loopback_https_and_writes_the_connection_file(start: StartEmulator, tmp_path: Path) -> None:
    c = start("healthy")
    conn = c.emu.connection
    assert set(conn) == {"armEndpoint", "caBundle", "tenantId", "subscriptionId", "clusters", "vaults"}
    assert conn["armEndpoint"].startswith("https://127.0.0.1:")
    assert set(conn["vaults"]) == {VAULT}
    assert conn["vaults"][VAULT].startswith("https://127.0.0.1:")
    assert all(s.server_address[0] == "127.0.0.1" for s in c.emu._servers.values())
    target = tmp_path / "sub" / "conn.json"
    c.emu.write_connection_file(target)
    assert json.loads(target.read_text()) == conn
    assert [p.name for p in target.parent.iterdir()] == ["conn.json"]


def test_ids_are_deterministic_but_ports_are_not() -> None:
    with Emulator("healthy") as one, Emulator("healthy") as two:
        a, b = one.connection, two.connection
    assert a["clusters"] == b["clusters"]
    assert a["tenantId"] == b["tenantId"]
    assert a["armEndpoint"] != b["armEndpoint"]


def test_stop_closes_the_listeners() -> None:
    emu = Emulator("healthy").start()
    endpoint, ca = emu.arm_endpoint, emu.ca_path
    emu.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(
            endpoint + "/_emulator/health", timeout=2, context=ssl.create_default_context(cafile=ca)
        )


# -- ARM: clusters, identities, vaults, keys --------------------------------------------------------


def test_cluster_get_and_lists(start: StartEmulator) -> None:
    c = start("healthy")
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.encryption is not None
    cmk = cluster.properties.encryption.customer_managed_key_encryption
    assert cmk is not None
    assert cmk.key_encryption_key_url == f"https://{VAULT}.vault.azure.net/keys/cmk"
    assert cmk.key_encryption_key_identity is not None
    assert cluster.identity is not None
    assert cluster.identity.user_assigned_identities is not None
    assert (
        cmk.key_encryption_key_identity.user_assigned_identity_resource_id
        in cluster.identity.user_assigned_identities
    )
    assert cmk.key_encryption_key_identity.user_assigned_identity_resource_id is not None
    assert cluster.identity.user_assigned_identities[
        cmk.key_encryption_key_identity.user_assigned_identity_resource_id
    ].principal_id == principal(c)
    assert [x.id for x in c.mongo.mongo_clusters.list()] == [c.cluster_id]
    assert [x.id for x in c.mongo.mongo_clusters.list_by_resource_group(RG)] == [c.cluster_id]
    with pytest.raises(ResourceNotFoundError) as missing:
        c.mongo.mongo_clusters.get(RG, "nope")
    assert missing.value.error is not None
    assert missing.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as no_rg:
        c.mongo.mongo_clusters.get("rg-other", "nope")
    assert no_rg.value.error is not None
    assert no_rg.value.error.code == "ResourceGroupNotFound"


def _update_body(identity_ids: list[str], kek: str, url: str) -> m.MongoClusterUpdate:
    return m.MongoClusterUpdate(
        identity=m.ManagedServiceIdentity(
            type="UserAssigned", user_assigned_identities={i: m.UserAssignedIdentity() for i in identity_ids}
        ),
        properties=m.MongoClusterUpdateProperties(
            encryption=m.EncryptionProperties(
                customer_managed_key_encryption=m.CustomerManagedKeyEncryptionProperties(
                    key_encryption_key_identity=m.KeyEncryptionKeyIdentity(
                        identity_type="UserAssignedIdentity", user_assigned_identity_resource_id=kek
                    ),
                    key_encryption_key_url=url,
                )
            )
        ),
    )


def test_cluster_patch_is_an_lro_and_applies_identity_and_key(start: StartEmulator) -> None:
    c = start("healthy")
    new = c.msi.user_assigned_identities.create_or_update(RG, "id-two", Identity(location="westus2"))
    c.authz.role_assignments.create(
        vault_id(c),
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{CRYPTO_ROLE}",
            principal_id=new.principal_id,
            principal_type="ServicePrincipal",
        ),
    )
    url = f"https://{VAULT}.vault.azure.net/keys/cmk"
    before = len(c.emu.requests())
    result = c.mongo.mongo_clusters.begin_update(
        RG, c.cluster_name, _update_body([new.id], new.id, url), polling_interval=0
    ).result()
    assert result.identity is not None
    assert result.identity.user_assigned_identities is not None
    assert new.id in result.identity.user_assigned_identities
    assert len(result.identity.user_assigned_identities) == 2
    assert result.properties is not None
    assert result.properties.encryption is not None
    cmk = result.properties.encryption.customer_managed_key_encryption
    assert cmk is not None
    assert cmk.key_encryption_key_identity is not None
    assert cmk.key_encryption_key_identity.user_assigned_identity_resource_id == new.id
    log = c.emu.requests(since=before)
    assert next((r["method"], r["status"]) for r in log) == ("PATCH", 202)
    assert [r["status"] for r in log if r["kind"] == "operations"] == [200, 200]
    assert log[-1]["method"] == "GET"
    assert log[-1]["kind"] == "clusters"
    assert c.reasons() == []
    assert result.properties is not None
    assert result.properties.provisioning_state == "Succeeded"


def test_a_malformed_key_url_is_refused_at_once(start: StartEmulator) -> None:
    c = start("healthy")
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.identity is not None
    kek = cluster.identity.user_assigned_identities
    assert kek is not None
    with pytest.raises(HttpResponseError) as err:
        c.mongo.mongo_clusters.begin_update(
            RG, c.cluster_name, _update_body(list(kek), next(iter(kek)), "x"), polling_interval=0
        )
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "InvalidKeyEncryptionKeyUrl"
    after = c.mongo.mongo_clusters.get(RG, c.cluster_name).properties
    assert after is not None
    assert after.provisioning_state == "Succeeded"


def test_cluster_delete_is_an_lro(start: StartEmulator) -> None:
    c = start("healthy")
    name = c.cluster_name
    before = len(c.emu.requests())
    c.mongo.mongo_clusters.begin_delete(RG, name, polling_interval=0).result()
    log = c.emu.requests(since=before)
    assert (log[0]["method"], log[0]["status"]) == ("DELETE", 202)
    with pytest.raises(ResourceNotFoundError):
        c.mongo.mongo_clusters.get(RG, name)


def test_identity_get_create_and_update(start: StartEmulator) -> None:
    c = start("identity-deleted")
    with pytest.raises(ResourceNotFoundError) as err:
        c.msi.user_assigned_identities.get(RG, "id-cmk-demo")
    assert err.value.error is not None
    assert err.value.error.code == "ResourceNotFound"
    created = c.msi.user_assigned_identities.create_or_update(RG, "id-cmk-demo", Identity(location="westus2"))
    again = c.msi.user_assigned_identities.create_or_update(RG, "id-cmk-demo", Identity(location="westus2"))
    statuses = [r["status"] for r in c.emu.requests() if r["method"] == "PUT"]
    assert statuses == [201, 200]
    assert again.principal_id == created.principal_id
    assert c.reasons() == ["identity-principal-changed", "no-key-permission"]


def test_vault_get_patch_replaces_network_acls(start: StartEmulator) -> None:
    c = start("firewall-blocked")
    vault = c.kv.vaults.get(RG, VAULT)
    assert vault.properties.vault_uri == f"https://{VAULT}.vault.azure.net/"
    assert vault.properties.enable_rbac_authorization is True
    assert vault.properties.network_acls is not None
    assert vault.properties.network_acls.ip_rules is not None
    assert [r.value for r in vault.properties.network_acls.ip_rules] == ["203.0.113.0/24"]
    from azure.mgmt.keyvault.models import NetworkRuleSet

    patched = c.kv.vaults.update(
        RG,
        VAULT,
        VaultPatchParameters(
            properties=VaultPatchProperties(
                network_acls=NetworkRuleSet(bypass="AzureServices", default_action="Deny")
            )
        ),
    )
    assert patched.properties.network_acls is not None
    assert patched.properties.network_acls.bypass == "AzureServices"
    assert not patched.properties.network_acls.ip_rules, "networkAcls replaces the whole rule set"
    assert c.reasons() == []
    with pytest.raises(HttpResponseError) as err:
        c.kv.vaults.update(
            RG, VAULT, VaultPatchParameters(properties=VaultPatchProperties(enable_purge_protection=False))
        )
    assert err.value.status_code == 400


def test_access_policy_add_merges_and_remove_subtracts(start: StartEmulator) -> None:
    c = start("access-policy-revoked")
    pid = principal(c)
    tenant = c.emu.connection["tenantId"]

    def call(kind: str, perms: list[str]) -> dict[str, list[str]]:
        result = c.kv.vaults.update_access_policy(
            RG,
            VAULT,
            kind,
            VaultAccessPolicyParameters(
                properties=VaultAccessPolicyProperties(
                    access_policies=[
                        AccessPolicyEntry(
                            tenant_id=tenant, object_id=pid, permissions=Permissions(keys_property=perms)
                        )
                    ]
                )
            ),
        )
        return {p.object_id: key_permissions(p) for p in result.properties.access_policies}

    def key_permissions(policy: AccessPolicyEntry) -> list[str]:
        assert policy.permissions.keys_property is not None
        return list(policy.permissions.keys_property)

    added = call("add", ["wrapKey", "unwrapKey"])
    assert added[pid] == ["get", "list", "wrapKey", "unwrapKey"]
    assert len(added) == 2, "other principals' policies are untouched"
    assert c.reasons() == []
    removed = call("remove", ["unwrapKey"])
    assert removed[pid] == ["get", "list", "wrapKey"]
    assert c.reasons() == ["no-key-permission"]


def test_vault_recover_is_a_synchronous_200_and_an_explicit_default_create_conflicts(
    start: StartEmulator,
) -> None:
    c = start("vault-soft-deleted")
    with pytest.raises(ResourceNotFoundError):
        c.kv.vaults.get(RG, VAULT)
    deleted = c.kv.vaults.get_deleted(VAULT, "westus2")
    assert deleted.properties is not None
    assert deleted.properties.vault_id == vault_id(c)
    assert deleted.properties.scheduled_purge_date is not None
    assert deleted.properties.deletion_date is not None
    assert deleted.properties.scheduled_purge_date > deleted.properties.deletion_date
    assert [d.name for d in c.kv.vaults.list_deleted()] == [VAULT]
    tenant = c.emu.connection["tenantId"]
    with pytest.raises(ResourceExistsError) as conflict:
        c.kv.vaults.begin_create_or_update(
            RG,
            VAULT,
            VaultCreateOrUpdateParameters(
                location="westus2",
                properties=VaultProperties(
                    tenant_id=tenant, sku=Sku(family="A", name="standard"), create_mode="default"
                ),
            ),
            polling_interval=0,
        ).result()
    assert conflict.value.error is not None
    assert conflict.value.error.code == "ConflictError"
    assert conflict.value.error.message is not None
    assert "soft-deleted" in conflict.value.error.message
    before = len(c.emu.requests())
    vault = c.kv.vaults.begin_create_or_update(
        RG,
        VAULT,
        VaultCreateOrUpdateParameters(
            location="westus2",
            properties=VaultProperties(
                tenant_id=tenant, sku=Sku(family="A", name="standard"), create_mode="recover"
            ),
        ),
        polling_interval=0,
    ).result()
    assert vault.properties.provisioning_state == "Succeeded"
    assert [r["status"] for r in c.emu.requests(since=before)] == [200]
    with pytest.raises(ResourceNotFoundError):
        c.kv.vaults.get_deleted(VAULT, "westus2")
    with pytest.raises(HttpResponseError) as purge:
        c.kv.vaults.begin_purge_deleted(VAULT, "westus2", polling_interval=0).result()
    assert purge.value.status_code == 405
    assert c.emu.requests()[-1]["path"].endswith("/purge")


def test_management_plane_keys_and_versions(start: StartEmulator) -> None:
    c = start("key-expired")
    key = c.kv.keys.get(RG, VAULT, "cmk")
    attrs = key.properties.attributes
    assert attrs is not None
    assert attrs.enabled is True
    assert attrs.expires is not None
    assert attrs.created is not None
    assert attrs.expires < attrs.created + 400 * 86400
    assert key.properties.kty == "RSA"
    assert key.properties.key_size == 4096
    assert key.properties.key_uri == f"https://{VAULT}.vault.azure.net/keys/cmk"
    versions = list(c.kv.keys.list_versions(RG, VAULT, "cmk"))
    assert [v.properties.key_uri_with_version for v in versions] == [key.properties.key_uri_with_version]
    assert versions[0].name is not None
    one = c.kv.keys.get_version(RG, VAULT, "cmk", versions[0].name)
    assert one.properties.attributes is not None
    assert one.properties.attributes.expires == attrs.expires


def test_management_plane_keys_ignore_the_firewall_but_not_deletion(start: StartEmulator) -> None:
    c = start("operator-firewalled")
    attributes = c.kv.keys.get(RG, VAULT, "cmk").properties.attributes
    assert attributes is not None
    assert attributes.enabled is True
    with pytest.raises(HttpResponseError) as blocked:
        c.keys().get_key("cmk")
    assert blocked.value.status_code == 403
    assert blocked.value.error is not None
    assert blocked.value.error.innererror["code"] == "ForbiddenByFirewall"
    assert blocked.value.error.message is not None
    assert "not a trusted service" in blocked.value.error.message
    soft = start("key-soft-deleted")
    with pytest.raises(ResourceNotFoundError):
        soft.kv.keys.get(RG, VAULT, "cmk")


# -- RBAC and Resource Graph ---------------------------------------------------------------------


def test_role_assignments_list_at_above_and_below_and_create(start: StartEmulator) -> None:
    c = start("healthy")
    pid = principal(c)
    vid = vault_id(c)
    role_id = f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_ROLE}"
    c.authz.role_assignments.create(
        f"{vid}/keys/cmk",
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=role_id, principal_id=pid, principal_type="ServicePrincipal"
        ),
    )
    c.authz.role_assignments.create(
        f"/subscriptions/{c.sub}",
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=role_id.replace(CRYPTO_ROLE, "21090545-7ca7-4776-b22c-e363652d74d2"),
            principal_id=pid,
            principal_type="ServicePrincipal",
        ),
    )
    at_vault = {a.scope for a in c.authz.role_assignments.list_for_scope(vid, filter=f"assignedTo('{pid}')")}
    assert at_vault == {vid, f"{vid}/keys/cmk", f"/subscriptions/{c.sub}"}
    by_eq = list(c.authz.role_assignments.list_for_scope(vid, filter=f"principalId eq '{pid}'"))
    assert len(by_eq) == 3
    assert list(c.authz.role_assignments.list_for_scope(vid, filter=f"assignedTo('{uuid.uuid4()}')")) == []
    with pytest.raises(ResourceExistsError) as dup:
        c.authz.role_assignments.create(
            vid,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=role_id, principal_id=pid, principal_type="ServicePrincipal"
            ),
        )
    assert dup.value.error is not None
    assert dup.value.error.code == "RoleAssignmentExists"
    created = c.authz.role_assignments.list_for_scope(vid, filter=f"assignedTo('{pid}')")
    assert all(a.principal_type == "ServicePrincipal" for a in created)


def test_role_definitions_by_id_have_the_real_data_actions(start: StartEmulator) -> None:
    c = start("healthy")
    role = c.authz.role_definitions.get_by_id(
        f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_ROLE}"
    )
    assert role.role_name == "Key Vault Crypto Service Encryption User"
    assert sorted(role.permissions[0].data_actions) == sorted(
        [
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ]
    )
    officer = c.authz.role_definitions.get_by_id(
        "/providers/Microsoft.Authorization/roleDefinitions/14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    )
    assert "Microsoft.KeyVault/vaults/keys/*" in officer.permissions[0].data_actions
    with pytest.raises(ResourceNotFoundError):
        c.authz.role_definitions.get_by_id(
            f"/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}"
        )


def test_a_wildcard_role_counts_and_a_reader_does_not(start: StartEmulator) -> None:
    c = start("rbac-role-missing")
    assert c.reasons() == ["no-key-permission"], "Key Vault Reader cannot wrap"
    c.authz.role_assignments.create(
        f"/subscriptions/{c.sub}/resourceGroups/{RG}",
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/roleDefinitions/"
            "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
            principal_id=principal(c),
            principal_type="ServicePrincipal",
        ),
    )
    assert c.reasons() == []


def _query(c: Clients, query: str) -> list[dict[str, Any]]:
    response = c.graph.resources(
        QueryRequest(query=query, options=QueryRequestOptions(result_format="objectArray"))
    )
    # The SDK types `data` as one JSON object; with result_format="objectArray" it is a list of rows.
    return list(cast("list[dict[str, Any]]", response.data))


def test_resource_graph_answers_the_two_gateway_queries(start: StartEmulator) -> None:
    c = start("healthy")
    rows = _query(c, "resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ 'KV-CMK-DEMO'")
    assert [(r["id"], r["type"], r["resourceGroup"]) for r in rows] == [
        (vault_id(c), "microsoft.keyvault/vaults", RG)
    ]
    clusters = _query(
        c,
        "Resources\n| where type =~ 'Microsoft.DocumentDB/mongoClusters'\n"
        "| where isnotempty(properties.encryption.customerManagedKeyEncryption)",
    )
    assert [r["id"] for r in clusters] == [c.cluster_id]
    assert clusters[0]["properties"]["clusterStatus"] == "Ready"
    with pytest.raises(HttpResponseError) as bad:
        _query(c, "resources | take 5")
    assert bad.value.status_code == 400
    soft = start("vault-soft-deleted")
    assert (
        _query(soft, f"resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ '{VAULT}'") == []
    )


# -- Key Vault data plane ------------------------------------------------------------------------


def test_data_plane_answers_the_first_anonymous_request_with_a_challenge(
    start: StartEmulator,
) -> None:
    c = start("healthy")
    key = c.keys().get_key("cmk")
    log = [r for r in c.emu.requests() if r["host"] == VAULT]
    assert [(r["anonymous"], r["status"], r["path"]) for r in log] == [
        (True, 401, "/keys/cmk/"),
        (False, 200, "/keys/cmk/"),
    ]
    assert key.id.startswith(c.emu.connection["vaults"][VAULT] + "/keys/cmk/")
    assert key.key_type == "RSA"
    # JsonWebKey sets its fields with setattr() in __init__, so mypy cannot see `n` or `e` on it.
    assert len(key.key.n) * 8 == 4096  # type: ignore[attr-defined]
    assert key.key.e == b"\x01\x00\x01"  # type: ignore[attr-defined]
    uri_with_version = c.kv.keys.get(RG, VAULT, "cmk").properties.key_uri_with_version
    assert uri_with_version is not None
    assert key.properties.version == uri_with_version.rsplit("/", 1)[1]
    assert c.keys().get_key("cmk", key.properties.version).key.n == key.key.n  # type: ignore[attr-defined]
    assert [p.version for p in c.keys().list_properties_of_key_versions("cmk")] == [key.properties.version]
    with pytest.raises(ResourceNotFoundError) as missing:
        c.keys().get_key("nope")
    assert missing.value.error is not None
    assert missing.value.error.code == "KeyNotFound"
    with pytest.raises(ResourceNotFoundError):
        c.keys().get_deleted_key("cmk")


def test_data_plane_wrong_token_is_an_authentication_error(start: StartEmulator) -> None:
    from azure.keyvault.keys import KeyClient

    c = start("healthy")
    client = KeyClient(
        c.emu.connection["vaults"][VAULT],
        FakeCredential("wrong"),
        verify_challenge_resource=False,
        connection_verify=c.emu.ca_path,
        retry_total=0,
    )
    with pytest.raises(ClientAuthenticationError):
        client.get_key("cmk")


def test_data_plane_disabled_and_deleted_keys(start: StartEmulator) -> None:
    c = start("key-disabled")
    disabled = c.keys().get_key("cmk")
    assert disabled.properties.enabled is False, "a disabled key's GET is 200 (recorded)"
    assert disabled.key.n  # type: ignore[attr-defined]  # JsonWebKey sets its fields with setattr
    d = start("key-soft-deleted")
    deleted = d.keys().get_deleted_key("cmk")
    assert deleted.recovery_id == d.emu.connection["vaults"][VAULT] + "/deletedkeys/cmk"
    assert deleted.scheduled_purge_date is not None
    assert deleted.deleted_date is not None
    assert deleted.scheduled_purge_date > deleted.deleted_date
    with pytest.raises(ResourceNotFoundError):
        d.keys().get_key("cmk")


def test_data_plane_of_a_soft_deleted_vault_is_not_found(start: StartEmulator) -> None:
    c = start("vault-soft-deleted")
    with pytest.raises(ResourceNotFoundError) as gone:
        c.keys().get_key("cmk")
    assert gone.value.error is not None
    assert gone.value.error.code == "VaultNotFound"


def test_public_network_access_disabled_is_forbidden_by_connection(start: StartEmulator) -> None:
    c = start("healthy")
    c.kv.vaults.update(
        RG, VAULT, VaultPatchParameters(properties=VaultPatchProperties(public_network_access="Disabled"))
    )
    assert c.reasons() == [], "no networkAcls: bypass defaults to AzureServices, trusted services get in"
    assert c.kv.vaults.get(RG, VAULT).properties.network_acls is None, "an absent networkAcls stays absent"
    with pytest.raises(HttpResponseError) as err:
        c.keys().get_key("cmk")
    assert err.value.error is not None
    assert err.value.error.innererror["code"] == "ForbiddenByConnection"


# -- auth, restrictions, faults, admin -------------------------------------------------------------


def test_arm_without_the_token_is_401(start: StartEmulator) -> None:
    c = start("healthy")
    from azure.mgmt.keyvault import KeyVaultManagementClient

    client = KeyVaultManagementClient(
        FakeCredential("not-the-token"),
        c.sub,
        base_url=c.emu.arm_endpoint,
        connection_verify=c.emu.ca_path,
        retry_total=0,
    )
    with pytest.raises(ClientAuthenticationError) as err:
        client.vaults.get(RG, VAULT)
    assert err.value.status_code == 401
    status, _ = admin(c.emu, "/_emulator/health")
    assert status == 200


@pytest.mark.parametrize(
    ("restriction", "call", "code"),
    [
        ("deny:vaults", lambda c: c.kv.vaults.get(RG, VAULT), "AuthorizationFailed"),
        ("deny:clusters", lambda c: c.mongo.mongo_clusters.get(RG, c.cluster_name), "AuthorizationFailed"),
        ("deny:mgmt-keys", lambda c: c.kv.keys.get(RG, VAULT, "cmk"), "AuthorizationFailed"),
        (
            "no-role-assignment-read",
            lambda c: list(c.authz.role_assignments.list_for_scope(vault_id(c))),
            "AuthorizationFailed",
        ),
        ("no-data-plane", lambda c: c.keys().get_key("cmk"), "Forbidden"),
        ("deny:data-plane", lambda c: c.keys().get_key("cmk"), "Forbidden"),
    ],
)
def test_operator_restrictions_are_403(
    start: StartEmulator, restriction: str, call: Callable[[Clients], Any], code: str
) -> None:
    c = start("healthy")
    c.emu.set_faults(restrictions=[restriction])
    with pytest.raises(HttpResponseError) as err:
        call(c)
    assert err.value.status_code == 403
    assert err.value.error is not None
    assert err.value.error.code == code
    if code == "AuthorizationFailed":
        assert err.value.error.message is not None
        assert "does not have authorization to perform action 'Microsoft." in err.value.error.message
    assert c.reasons() == [], "the operator's restrictions never change the cluster's verdict"
    c.emu.set_faults(restrictions=[])
    call(c)


def test_a_429_with_retry_after_is_retried_by_the_sdk(start: StartEmulator) -> None:
    c = start("healthy", client_kwargs={"retry_total": 2})
    c.emu.set_faults(fault_rate=1.0, fault_kinds=["429"], fault_limit=1)
    vault = c.kv.vaults.get(RG, VAULT)
    assert vault.name == VAULT
    log = c.emu.requests()
    assert [r["status"] for r in log] == [429, 200]
    assert log[0]["path"] == log[1]["path"]


def test_a_lost_write_is_carried_out_but_never_answered(start: StartEmulator) -> None:
    c = start("healthy")
    c.kv.vaults.get(RG, VAULT)
    c.emu.set_faults(fault_rate=1.0, fault_kinds=["lost-write"], fault_limit=1)
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        c.kv.vaults.update(
            RG, VAULT, VaultPatchParameters(properties=VaultPatchProperties(public_network_access="Disabled"))
        )
    assert c.emu.requests()[-1]["status"] == 0
    assert c.kv.vaults.get(RG, VAULT).properties.public_network_access == "Disabled"


def test_fault_rate_is_seeded_and_mixes_429_and_503() -> None:
    def statuses() -> list[int]:
        with Emulator("healthy", fault_rate=0.5) as emu:
            c = make_clients(emu)
            for _ in range(12):
                with contextlib.suppress(HttpResponseError):
                    c.kv.vaults.get(RG, VAULT)
            return [r["status"] for r in emu.requests()]

    first = statuses()
    assert first == statuses()
    assert {429, 503, 200} <= set(first)


def test_latency_is_added_to_every_request(start: StartEmulator) -> None:
    c = start("healthy", latency_ms=30)
    c.kv.vaults.get(RG, VAULT)
    c.keys().get_key("cmk")
    assert len(c.emu.requests()) == 3
    assert all(r["latencyMs"] >= 30 for r in c.emu.requests())


def test_admin_endpoints(start: StartEmulator) -> None:
    c = start("key-expired")
    status, health = admin(c.emu, "/_emulator/health")
    assert status == 200
    assert health == c.emu.health()
    c.kv.vaults.get(RG, VAULT)
    c.kv.vaults.get(RG, VAULT)
    status, log = admin(c.emu, "/_emulator/requests?since=1")
    assert status == 200
    assert [r["seq"] for r in log["requests"]] == [2]
    status, faults = admin(c.emu, "/_emulator/faults", {"latencyMs": 5, "restrictions": ["no-data-plane"]})
    assert status == 200
    assert faults["latencyMs"] == 5
    assert faults["restrictions"] == ["no-data-plane"]
    status, error = admin(c.emu, "/_emulator/faults", {"faultRate": 2})
    assert status == 400
    assert "faultRate" in error["error"]["message"]
    assert len(c.emu.requests()) == 2, "admin calls are not logged"
