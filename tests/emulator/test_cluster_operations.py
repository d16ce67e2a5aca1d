"""Cluster updates as the DocumentDB RP runs them, through the real SDK: a PATCH the service cannot carry
out fails asynchronously and changes nothing, a running cluster whose last update failed is not broken,
a same-id identity PATCH keeps the stale principal, and keys that cannot wrap make a cluster
Inaccessible."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.mongocluster import models as m
from azure.mgmt.msi.models import Identity

from tests.emulator.conftest import RG, VAULT, Clients, StartEmulator, raw
from wizard.emulator import EstateError, load_estate

CRYPTO_ROLE = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
KEY_URL = f"https://{VAULT}.vault.azure.net/keys/cmk"


class _AnyText(str):
    """Equal to any non-empty string (for error messages whose wording is not the point)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


def update(
    identities: dict[str, m.UserAssignedIdentity | None] | None = None,
    kek: str | None = None,
    url: str = KEY_URL,
    tags: dict[str, str] | None = None,
) -> m.MongoClusterUpdate:
    """A PATCH body: identities (None removes one), the key-encryption identity with the key URL, tags."""
    body = m.MongoClusterUpdate(tags=tags)
    if identities is not None:
        # The mapping form: the keyword form's type has no None, the value that removes an identity.
        body.identity = m.ManagedServiceIdentity(
            {"type": "UserAssigned", "userAssignedIdentities": identities}
        )
    if kek is not None:
        body.properties = m.MongoClusterUpdateProperties(
            encryption=m.EncryptionProperties(
                customer_managed_key_encryption=m.CustomerManagedKeyEncryptionProperties(
                    key_encryption_key_identity=m.KeyEncryptionKeyIdentity(
                        identity_type="UserAssignedIdentity", user_assigned_identity_resource_id=kek
                    ),
                    key_encryption_key_url=url,
                )
            )
        )
    return body


def grant(c: Clients, principal: str) -> None:
    c.authz.role_assignments.create(
        f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}",
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{CRYPTO_ROLE}",
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )


def identity_id(c: Clients, name: str = "id-cmk-demo") -> str:
    return (
        f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )


def failing_update(c: Clients, body: m.MongoClusterUpdate) -> HttpResponseError:
    """Send a PATCH that is accepted (202) and whose operation then fails; the poller's error."""
    poller = c.mongo.mongo_clusters.begin_update(RG, c.cluster_name, body, polling_interval=0)
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert poller.status() == "Failed"
    return err.value


# -- a PATCH the service cannot carry out ----------------------------------------------------------


def test_a_key_the_new_identity_cannot_use_fails_the_operation_and_changes_nothing(
    start: StartEmulator,
) -> None:
    c = start("healthy")
    new = c.msi.user_assigned_identities.create_or_update(RG, "id-two", Identity(location="westus2"))
    before = len(c.emu.requests())
    error = failing_update(c, update({new.id: m.UserAssignedIdentity()}, kek=new.id, tags={"changed": "yes"}))
    assert error.error is not None
    assert error.error.code == "KeyEncryptionKeyAccessFailed"
    assert error.error.message is not None
    assert error.error.message.startswith(f"Couldn't get access to the key '{KEY_URL}'")
    log = c.emu.requests(since=before)
    assert (log[0]["method"], log[0]["status"]) == ("PATCH", 202)
    assert [r["status"] for r in log if r["kind"] == "operations"] == [200, 200]
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.provisioning_state == "Failed"
    assert cluster.properties.cluster_status == "Ready", "the running cluster keeps running"
    assert cluster.identity is not None
    assert cluster.identity.user_assigned_identities is not None
    assert list(cluster.identity.user_assigned_identities) == [identity_id(c)], "nothing was applied"
    assert cluster.properties.encryption is not None
    cmk = cluster.properties.encryption.customer_managed_key_encryption
    assert cmk is not None
    assert cmk.key_encryption_key_identity is not None
    assert cmk.key_encryption_key_identity.user_assigned_identity_resource_id == identity_id(c)
    assert cluster.tags == {}
    health = c.health()
    assert (health["status"], health["canUseKey"], health["cameUp"]) == ("Ready", True, True)
    assert c.reasons() == [], "a failed update on a running cluster is not a broken cluster"


def test_an_identity_that_does_not_exist_fails_the_operation(start: StartEmulator) -> None:
    c = start("healthy")
    good = c.msi.user_assigned_identities.create_or_update(RG, "id-good", Identity(location="westus2"))
    ghost = identity_id(c, "id-ghost")
    error = failing_update(
        c, update({good.id: m.UserAssignedIdentity(), ghost: m.UserAssignedIdentity()}, tags={"t": "1"})
    )
    assert error.error is not None
    assert error.error.code == "InvalidUserAssignedIdentity"
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.identity is not None
    assert cluster.identity.user_assigned_identities is not None
    assert good.id not in cluster.identity.user_assigned_identities, "the valid one is not kept either"
    assert cluster.tags == {}
    assert cluster.properties is not None
    assert cluster.properties.provisioning_state == "Failed"


def test_a_missing_key_or_vault_fails_the_operation(start: StartEmulator) -> None:
    c = start("healthy")
    kek = identity_id(c)
    for url in (
        f"https://{VAULT}.vault.azure.net/keys/missing",
        "https://kv-nowhere.vault.azure.net/keys/cmk",
    ):
        error = failing_update(c, update({kek: m.UserAssignedIdentity()}, kek=kek, url=url))
        assert error.error is not None
        assert error.error.code == "KeyEncryptionKeyAccessFailed"
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.encryption is not None
    assert cluster.properties.encryption.customer_managed_key_encryption is not None
    assert cluster.properties.encryption.customer_managed_key_encryption.key_encryption_key_url == KEY_URL


def test_the_polling_urls_of_a_failed_operation(start: StartEmulator) -> None:
    c = start("healthy")
    kek = identity_id(c)
    body = {
        "properties": {
            "encryption": {
                "customerManagedKeyEncryption": {
                    "keyEncryptionKeyIdentity": {
                        "identityType": "UserAssignedIdentity",
                        "userAssignedIdentityResourceId": kek,
                    },
                    "keyEncryptionKeyUrl": f"https://{VAULT}.vault.azure.net/keys/nope",
                }
            }
        }
    }
    status, headers, _ = raw(c, "PATCH", f"{c.cluster_id}?api-version=2026-06-01", body)
    assert status == 202
    assert raw(c, "GET", headers["Location"])[0] == 202
    status, _, failed = raw(c, "GET", headers["Location"])
    assert status == 400
    assert failed == {"error": {"code": "KeyEncryptionKeyAccessFailed", "message": ANY_TEXT}}
    status, _, operation = raw(c, "GET", headers["Azure-AsyncOperation"])
    assert status == 200
    assert isinstance(operation, dict)
    assert operation["status"] == "Failed"
    assert operation["error"]["code"] == "KeyEncryptionKeyAccessFailed"
    assert set(operation) == {"id", "name", "status", "startTime", "error"}


def test_removing_the_key_encryption_identity_fails(start: StartEmulator) -> None:
    c = start("healthy")
    error = failing_update(c, update({identity_id(c): None}))
    assert error.error is not None
    assert error.error.code == "InvalidKeyEncryptionKeyIdentity"
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.identity is not None
    assert cluster.identity.user_assigned_identities is not None
    assert identity_id(c) in cluster.identity.user_assigned_identities


def test_a_successful_update_after_a_failed_one_clears_provisioning_failed(
    start: StartEmulator,
) -> None:
    c = start("failed-last-operation")
    result = c.mongo.mongo_clusters.begin_update(
        RG, c.cluster_name, update(tags={"owner": "ops"}), polling_interval=0
    ).result()
    assert result.properties is not None
    assert result.properties.provisioning_state == "Succeeded"
    assert result.tags == {"owner": "ops"}


# -- never came up vs last operation failed ------------------------------------------------------


def test_failed_last_operation_is_a_running_cluster(start: StartEmulator) -> None:
    c = start("failed-last-operation")
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert (cluster.properties.provisioning_state, cluster.properties.cluster_status) == ("Failed", "Ready")
    health = c.health()
    assert (health["cameUp"], health["canUseKey"], health["reasons"]) == (True, True, [])
    current = c.resource_health.availability_statuses.get_by_resource(c.cluster_id)
    assert current.properties is not None
    assert current.properties.availability_state == "Available"


def test_provisioning_failed_still_never_came_up(start: StartEmulator) -> None:
    c = start("provisioning-failed")
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert (cluster.properties.provisioning_state, cluster.properties.cluster_status) == ("Failed", "Failed")
    assert c.health()["cameUp"] is False
    assert "provisioning-failed" in c.reasons()
    current = c.resource_health.availability_statuses.get_by_resource(c.cluster_id)
    assert current.properties is not None
    assert current.properties.availability_state == "Unknown"


def test_a_never_came_up_status_needs_provisioning_state_failed(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nclusters:\n  - name: c\n    clusterStatus: Failed\n", encoding="utf-8")
    with pytest.raises(EstateError, match=r"clusters\[0\]\.clusterStatus: 'Failed' means"):
        load_estate(str(path))


# -- a same-id identity PATCH does not refresh the remembered principal --------------------------


def test_re_sending_a_recreated_identity_keeps_the_stale_principal(start: StartEmulator) -> None:
    c = start("identity-recreated")
    current = c.msi.user_assigned_identities.get(RG, "id-cmk-demo")
    grant(c, str(current.principal_id))
    same = identity_id(c)
    c.mongo.mongo_clusters.begin_update(
        RG, c.cluster_name, update({same: m.UserAssignedIdentity()}), polling_interval=0
    ).result()
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.identity is not None
    assert cluster.identity.user_assigned_identities is not None
    remembered = cluster.identity.user_assigned_identities[same]
    assert remembered.principal_id != current.principal_id, "the cluster keeps the stale principal"
    error = failing_update(c, update({same: m.UserAssignedIdentity()}, kek=same))
    assert error.error is not None
    assert error.error.code == "KeyEncryptionKeyAccessFailed"
    assert c.reasons() == ["identity-principal-changed"]
    assert c.health()["status"] == "Inaccessible"


def test_a_different_identity_with_the_key_records_its_current_principal(
    start: StartEmulator,
) -> None:
    c = start("identity-recreated")
    new = c.msi.user_assigned_identities.create_or_update(RG, "id-cmk-new", Identity(location="westus2"))
    grant(c, str(new.principal_id))
    result = c.mongo.mongo_clusters.begin_update(
        RG, c.cluster_name, update({new.id: m.UserAssignedIdentity()}, kek=new.id), polling_interval=0
    ).result()
    assert result.identity is not None
    assert result.identity.user_assigned_identities is not None
    assert result.identity.user_assigned_identities[new.id].principal_id == new.principal_id
    assert result.properties is not None
    assert result.properties.provisioning_state == "Succeeded"
    assert c.reasons() == []
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Ready"


# -- keys that cannot wrap -------------------------------------------------------------------------


def test_an_ec_key_cannot_wrap(start: StartEmulator) -> None:
    c = start("key-type-unsupported")
    assert c.reasons() == ["key-type-unsupported"]
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Inaccessible"
    key = c.kv.keys.get(RG, VAULT, "cmk")
    assert (key.properties.kty, key.properties.curve_name) == ("EC", "P-256")
    jwk = c.keys().get_key("cmk").key
    # JsonWebKey sets its fields with setattr() in __init__, so mypy cannot see kty, crv, x or y on it.
    assert (jwk.kty, jwk.crv) == ("EC", "P-256")  # type: ignore[attr-defined]
    assert jwk.x  # type: ignore[attr-defined]
    assert jwk.y  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kty", "size", "reasons"),
    [
        ("RSA", 1024, ["key-type-unsupported"]),
        ("RSA", 2048, []),
        ("RSA-HSM", 3072, []),
        ("EC-HSM", None, ["key-type-unsupported"]),
        ("oct-HSM", None, ["key-type-unsupported"]),
    ],
)
def test_only_rsa_keys_of_2048_bits_or_more_wrap(
    start: StartEmulator, tmp_path: Path, kty: str, size: int | None, reasons: list[str]
) -> None:
    text = (Path(__file__).resolve().parents[2] / "wizard/emulator/scenarios/healthy.yaml").read_text()
    text = text.replace(
        "        size: 4096\n", f"        kty: {kty}\n" + (f"        size: {size}\n" if size else "")
    )
    path = tmp_path / "estate.yaml"
    path.write_text(text, encoding="utf-8")
    c = start(str(path))
    assert c.reasons() == reasons
