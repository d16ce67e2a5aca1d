"""Every built-in scenario: the emulator's own verdict names exactly the reasons it was built with,
and the documented fix (through the real SDK) turns the cluster Ready."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.keyvault.models import (
    AccessPolicyEntry,
    IPRule,
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

from tests.emulator.conftest import RG, VAULT, Clients, StartEmulator
from wizard.emulator import Emulator, builtin, scenario_names
from wizard.emulator.model import Key, KeyVersion, State

CRYPTO_ROLE = "e147488a-f6f5-4113-8e2d-b22465e65bf6"

EXPECTED = {
    "healthy": [],
    "key-expired": ["key-expired"],
    "key-disabled": ["key-disabled"],
    "key-soft-deleted": ["key-soft-deleted"],
    "key-purged": ["key-missing"],
    "key-not-yet-active": ["key-not-yet-active"],
    "vault-soft-deleted": ["vault-soft-deleted"],
    "vault-soft-deleted-elsewhere": ["vault-soft-deleted"],
    "vault-group-deleted": ["vault-soft-deleted"],
    "vault-purged": ["vault-missing"],
    "identity-deleted": ["identity-missing"],
    "identity-recreated": ["identity-principal-changed", "no-key-permission"],
    "rbac-role-missing": ["no-key-permission"],
    "access-policy-revoked": ["no-key-permission"],
    "firewall-blocked": ["vault-network-closed"],
    "provisioning-failed": ["provisioning-failed", "no-key-permission"],
    "vault-recovered-rbac-lost": ["no-key-permission"],
    "operator-firewalled": [],
    "multi-fault": ["vault-network-closed", "key-expired", "no-key-permission"],
    "failed-last-operation": [],
    "key-type-unsupported": ["key-type-unsupported"],
    "operator-network-denied": ["key-expired"],
    "vault-private-default-bypass": [],
    "key-url-pinned-newest-disabled": [],
}


def test_the_built_in_scenarios_are_the_design_list() -> None:
    assert scenario_names() == sorted(EXPECTED)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_health_names_exactly_the_reasons_the_scenario_was_built_with(scenario: str) -> None:
    with Emulator(scenario) as emu:
        clusters = emu.health()["clusters"]
        cluster_id = emu.connection["clusters"][0]
    verdict = clusters[cluster_id]
    assert sorted(r["code"] for r in verdict["reasons"]) == sorted(EXPECTED[scenario])
    assert all(r["message"] for r in verdict["reasons"])
    assert verdict["canUseKey"] is (not EXPECTED[scenario])
    want = (
        "Failed"
        if scenario == "provisioning-failed"
        else "Ready"
        if not EXPECTED[scenario]
        else "Inaccessible"
    )
    assert verdict["status"] == want
    assert cluster_id.endswith(f"/mongoClusters/cluster-{scenario}")


def _latest_version(c: Clients) -> str:
    key = c.kv.keys.get(RG, VAULT, "cmk")
    return str(key.properties.key_uri_with_version).rsplit("/", 1)[-1]


def _grant(c: Clients, principal: str, scope: str | None = None) -> None:
    c.authz.role_assignments.create(
        scope or f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}",
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_ROLE}",
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )


def _identity_id(c: Clients, name: str = "id-cmk-demo") -> str:
    provider = "Microsoft.ManagedIdentity/userAssignedIdentities"
    return f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/{provider}/{name}"


def _attach(c: Clients, identity_id: str, key: str = "cmk") -> None:
    body = m.MongoClusterUpdate(
        identity=m.ManagedServiceIdentity(
            type="UserAssigned", user_assigned_identities={identity_id: m.UserAssignedIdentity()}
        ),
        properties=m.MongoClusterUpdateProperties(
            encryption=m.EncryptionProperties(
                customer_managed_key_encryption=m.CustomerManagedKeyEncryptionProperties(
                    key_encryption_key_identity=m.KeyEncryptionKeyIdentity(
                        identity_type="UserAssignedIdentity", user_assigned_identity_resource_id=identity_id
                    ),
                    key_encryption_key_url=f"https://{VAULT}.vault.azure.net/keys/{key}",
                )
            )
        ),
    )
    c.mongo.mongo_clusters.begin_update(RG, c.cluster_name, body, polling_interval=0).result()


def fix_key_expired(c: Clients) -> None:
    c.keys().update_key_properties(
        "cmk", _latest_version(c), expires_on=datetime.now(UTC) + timedelta(days=90)
    )


def fix_key_disabled(c: Clients) -> None:
    c.keys().update_key_properties("cmk", _latest_version(c), enabled=True)


def fix_key_not_yet_active(c: Clients) -> None:
    c.keys().update_key_properties(
        "cmk", _latest_version(c), not_before=datetime.now(UTC) - timedelta(hours=1)
    )


def fix_key_soft_deleted(c: Clients) -> None:
    c.keys().begin_recover_deleted_key("cmk", _polling_interval=0).result()


def _principal(c: Clients) -> str:
    return str(c.msi.user_assigned_identities.get(RG, "id-cmk-demo").principal_id)


def fix_role(c: Clients) -> None:
    _grant(c, _principal(c))


def fix_vault_soft_deleted(c: Clients) -> None:
    deleted = c.kv.vaults.get_deleted(VAULT, "westus2")
    assert deleted.properties is not None
    assert deleted.properties.location is not None
    params = VaultCreateOrUpdateParameters(
        location=deleted.properties.location,
        properties=VaultProperties(
            tenant_id=c.emu.connection["tenantId"],
            sku=Sku(family="A", name="standard"),
            create_mode="recover",
        ),
    )
    c.kv.vaults.begin_create_or_update(RG, VAULT, params, polling_interval=0).result()
    assert c.reasons() == ["no-key-permission"], "recovery must not bring the role assignment back"
    fix_role(c)


def fix_firewall(c: Clients) -> None:
    acls = c.kv.vaults.get(RG, VAULT).properties.network_acls
    assert acls is not None
    assert acls.ip_rules is not None
    c.kv.vaults.update(
        RG,
        VAULT,
        VaultPatchParameters(
            properties=VaultPatchProperties(
                network_acls=NetworkRuleSet(
                    bypass="AzureServices",
                    default_action=acls.default_action,
                    ip_rules=[IPRule(value=r.value) for r in acls.ip_rules],
                )
            )
        ),
    )


def fix_access_policy(c: Clients) -> None:
    vault = c.kv.vaults.get(RG, VAULT)
    entry = AccessPolicyEntry(
        tenant_id=vault.properties.tenant_id,
        object_id=_principal(c),
        permissions=Permissions(keys_property=["wrapKey", "unwrapKey"]),
    )
    c.kv.vaults.update_access_policy(
        RG,
        VAULT,
        "add",
        VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[entry])),
    )


def fix_identity_deleted(c: Clients) -> None:
    created = c.msi.user_assigned_identities.create_or_update(RG, "id-cmk-new", Identity(location="westus2"))
    _grant(c, str(created.principal_id))
    _attach(c, str(created.id))


def fix_identity_recreated(c: Clients) -> None:
    """As for a deleted identity: re-attaching the same id keeps the stale principal (UNVERIFIED)."""
    fix_identity_deleted(c)


def fix_key_type(c: Clients) -> None:
    """A new RSA key (made by whoever may), then the cluster pointed at it."""

    def add_rsa_key(state: State) -> None:
        vault = state.live_vault(VAULT)
        assert vault is not None
        vault.keys["cmk-rsa"] = Key(
            "cmk-rsa", "RSA", 3072, "AQAB", [KeyVersion("0" * 32, key_ops=["wrapKey"])]
        )

    c.emu.mutate(add_rsa_key)
    _attach(c, _identity_id(c), key="cmk-rsa")


def fix_operator_network(c: Clients) -> None:
    """A temporary IP rule for the operator, the key fixed on the data plane, the rule taken away."""
    acls = c.kv.vaults.get(RG, VAULT).properties.network_acls
    assert acls is not None
    assert acls.ip_rules is not None
    rules = [r.value for r in acls.ip_rules]

    def set_rules(values: list[str]) -> None:
        c.kv.vaults.update(
            RG,
            VAULT,
            VaultPatchParameters(
                properties=VaultPatchProperties(
                    network_acls=NetworkRuleSet(
                        bypass=acls.bypass,
                        default_action=acls.default_action,
                        ip_rules=[IPRule(value=v) for v in values],
                    )
                )
            ),
        )

    set_rules([*rules, "198.51.100.7"])
    fix_key_expired(c)
    set_rules(rules)


def fix_multi(c: Clients) -> None:
    fix_key_expired(c)
    fix_firewall(c)
    fix_role(c)


FIXES: dict[str, Callable[[Clients], None]] = {
    "key-expired": fix_key_expired,
    "key-disabled": fix_key_disabled,
    "key-not-yet-active": fix_key_not_yet_active,
    "key-soft-deleted": fix_key_soft_deleted,
    "rbac-role-missing": fix_role,
    "vault-recovered-rbac-lost": fix_role,
    "vault-soft-deleted": fix_vault_soft_deleted,
    "firewall-blocked": fix_firewall,
    "access-policy-revoked": fix_access_policy,
    "identity-deleted": fix_identity_deleted,
    "identity-recreated": fix_identity_recreated,
    "multi-fault": fix_multi,
    "key-type-unsupported": fix_key_type,
    "operator-network-denied": fix_operator_network,
}


@pytest.mark.parametrize("scenario", sorted(FIXES))
def test_the_documented_fix_turns_the_cluster_ready(scenario: str, start: StartEmulator) -> None:
    c = start(scenario)
    assert c.health()["status"] == "Inaccessible"
    FIXES[scenario](c)
    assert c.reasons() == []
    assert c.health()["status"] == "Ready"
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Ready"


def test_provisioning_failed_stays_failed_when_fixed_until_deleted(start: StartEmulator) -> None:
    c = start("provisioning-failed")
    cluster_id = c.cluster_id
    fix_role(c)
    assert c.reasons() == ["provisioning-failed"]
    assert c.health()["status"] == "Failed"
    c.mongo.mongo_clusters.begin_delete(RG, c.cluster_name, polling_interval=0).result()
    assert cluster_id not in c.emu.health()["clusters"]
    assert c.emu.connection["clusters"] == []


def test_a_repaired_cluster_waits_for_revalidation(start: StartEmulator) -> None:
    c = start("key-disabled", revalidate_seconds=3600)
    fix_key_disabled(c)
    health = c.health()
    assert health["canUseKey"] is True
    assert health["status"] == "Inaccessible"


def test_with_no_revalidation_delay_a_repaired_cluster_is_ready_at_once(
    start: StartEmulator,
) -> None:
    c = start("key-disabled", revalidate_seconds=0)
    fix_key_disabled(c)
    assert c.health()["status"] == "Ready"


def test_breaking_it_live_makes_the_cluster_inaccessible_at_once(start: StartEmulator) -> None:
    c = start("healthy")
    c.emu.mutate(lambda s: s.soft_delete_vault(VAULT, int(time.time())))
    assert c.reasons() == ["vault-soft-deleted"]
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Inaccessible"
    assert not list(
        c.authz.role_assignments.list_for_scope(
            f"/subscriptions/{c.sub}", filter=f"assignedTo('{_principal(c)}')"
        )
    )


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_every_scenario_says_what_it_is_in_one_line(scenario: str) -> None:
    with Emulator(scenario) as emu:
        description = emu.estate.spec.get("description", "")
    assert description
    assert "\n" not in description.strip()


def test_the_scenario_index_says_what_the_yaml_files_say() -> None:
    """The TUI names a built-in scenario, its description and its cluster from the index, before any
    YAML is parsed: it must not drift (regenerate it with `python -m wizard.emulator.builtin`)."""
    text = (Path(builtin.__file__).parent / "scenarios" / "index.json").read_text("utf-8")
    assert text == builtin.index_text(), "scenarios/index.json is stale: python -m wizard.emulator.builtin"
    assert sorted(builtin.builtin_scenarios()) == scenario_names()
