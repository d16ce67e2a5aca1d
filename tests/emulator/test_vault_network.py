"""Key Vault networks as Azure applies them, through the real SDK: the spec's default bypass for trusted
services, the vault firewall and public-access switch on the operator's own data-plane calls, IP rule
changes taking effect at once, and what a disabled key still allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm
from azure.mgmt.keyvault.models import IPRule, NetworkRuleSet, VaultPatchParameters, VaultPatchProperties

from tests.emulator.conftest import RG, VAULT, Clients, FakeCredential, StartEmulator
from wizard.emulator import EstateError, load_estate

HEALTHY = Path(__file__).resolve().parents[2] / "wizard/emulator/scenarios/healthy.yaml"
OPERATOR_IP = "198.51.100.7"


def estate(tmp_path: Path, vault_extra: str = "", operator: str = "") -> str:
    """The healthy estate with extra vault settings and an operator block."""
    text = HEALTHY.read_text().replace("  - name: kv-cmk-demo\n", "  - name: kv-cmk-demo\n" + vault_extra)
    path = tmp_path / "estate.yaml"
    path.write_text(text + operator, encoding="utf-8")
    return str(path)


def patch_acls(
    c: Clients, *, default_action: str, bypass: str | None = None, ip_rules: list[IPRule] | None = None
) -> None:
    """PATCH the vault's networkAcls; a rule left None is not sent."""
    rules = NetworkRuleSet(default_action=default_action, bypass=bypass, ip_rules=ip_rules)
    c.kv.vaults.update(RG, VAULT, VaultPatchParameters(properties=VaultPatchProperties(network_acls=rules)))


def forbidden(c: Clients) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as err:
        c.keys().get_key("cmk")
    assert err.value.status_code == 403
    return err.value


# -- trusted services: bypass defaults to AzureServices -------------------------------------------


@pytest.mark.parametrize(
    ("vault_extra", "reasons"),
    [
        ("    publicNetworkAccess: Disabled\n", []),
        ("    networkAcls: {defaultAction: Deny}\n", []),
        ("    publicNetworkAccess: Disabled\n    networkAcls: {defaultAction: Deny}\n", []),
        ("    networkAcls: {defaultAction: Deny, bypass: None}\n", ["vault-network-closed"]),
        ("    publicNetworkAccess: Disabled\n    networkAcls: {bypass: None}\n", ["vault-network-closed"]),
    ],
)
def test_trusted_services_get_in_unless_bypass_is_none(
    start: StartEmulator, tmp_path: Path, vault_extra: str, reasons: list[str]
) -> None:
    c = start(estate(tmp_path, vault_extra))
    assert c.reasons() == reasons


def test_an_absent_network_acls_stays_absent_and_a_missing_bypass_reads_azure_services(
    start: StartEmulator,
) -> None:
    c = start("healthy")
    assert c.kv.vaults.get(RG, VAULT).properties.network_acls is None
    patch_acls(c, default_action="Deny")
    acls = c.kv.vaults.get(RG, VAULT).properties.network_acls
    assert acls is not None
    assert (acls.default_action, acls.bypass) == ("Deny", "AzureServices")
    assert c.reasons() == []


# -- the operator's network ------------------------------------------------------------------------


def test_the_firewall_keeps_the_operator_out_and_names_the_client_address(
    start: StartEmulator,
) -> None:
    c = start("operator-network-denied")
    error = forbidden(c)
    assert error.error is not None
    assert error.error.code == "Forbidden"
    assert error.error.innererror["code"] == "ForbiddenByFirewall"
    assert error.error.message is not None
    assert error.error.message.startswith(
        "Client address is not authorized and caller is not a trusted service.\r\n"
        f"Client address: {OPERATOR_IP}\r\n"
    )
    key = c.kv.keys.get(RG, VAULT, "cmk")
    assert key.properties.attributes is not None
    assert key.properties.attributes.enabled is True, "ARM is not firewalled"
    assert c.reasons() == ["key-expired"], "the operator's network never changes the verdict"


def test_an_ip_rule_for_the_operator_takes_effect_at_once(start: StartEmulator) -> None:
    c = start("operator-network-denied")
    forbidden(c)
    patch_acls(
        c,
        default_action="Deny",
        bypass="AzureServices",
        ip_rules=[IPRule(value="203.0.113.0/24"), IPRule(value=OPERATOR_IP)],
    )
    acls = c.kv.vaults.get(RG, VAULT).properties.network_acls
    assert acls is not None
    assert acls.ip_rules is not None
    rules = [r.value for r in acls.ip_rules]
    assert rules == ["203.0.113.0/24", f"{OPERATOR_IP}/32"], "a bare address is echoed as /32 (spec example)"
    assert c.keys().get_key("cmk").name == "cmk"
    patch_acls(c, default_action="Deny", bypass="AzureServices", ip_rules=[IPRule(value="203.0.113.0/24")])
    error = forbidden(c).error
    assert error is not None
    assert error.innererror["code"] == "ForbiddenByFirewall"
    patch_acls(c, default_action="Allow", bypass="AzureServices")
    assert c.keys().get_key("cmk").name == "cmk", "defaultAction Allow lets every address in"


def test_an_operator_inside_a_listed_range_gets_in(start: StartEmulator, tmp_path: Path) -> None:
    c = start(
        estate(
            tmp_path,
            "    networkAcls: {defaultAction: Deny, ipRules: [198.51.100.0/24]}\n",
            f"operator: {{ip: {OPERATOR_IP}}}\n",
        )
    )
    assert c.keys().get_key("cmk").name == "cmk"


@pytest.mark.parametrize(
    ("vault_extra", "private", "inner"),
    [
        ("    publicNetworkAccess: Disabled\n", False, "ForbiddenByConnection"),
        ("    publicNetworkAccess: Disabled\n", True, None),
        ("    networkAcls: {defaultAction: Deny}\n", True, None),
        ("    networkAcls: {defaultAction: Deny}\n", False, "ForbiddenByFirewall"),
    ],
)
def test_a_private_endpoint_gets_past_public_access_and_the_firewall(
    start: StartEmulator, tmp_path: Path, vault_extra: str, private: bool, inner: str | None
) -> None:
    operator = f"operator: {{ip: {OPERATOR_IP}, privateEndpoint: {str(private).lower()}}}\n"
    c = start(estate(tmp_path, vault_extra, operator))
    if inner is None:
        assert c.keys().get_key("cmk").name == "cmk"
    else:
        error = forbidden(c).error
        assert error is not None
        assert error.innererror["code"] == inner


def test_without_an_operator_address_the_firewall_lets_the_operator_through(
    start: StartEmulator,
) -> None:
    c = start("firewall-blocked")
    assert c.keys().get_key("cmk").name == "cmk"
    blocked = start("operator-firewalled")
    error = forbidden(blocked).error
    assert error is not None
    assert error.message is not None
    assert "Client address: 127.0.0.1\r\n" in error.message


@pytest.mark.parametrize(
    ("operator", "vault_extra", "field"),
    [
        ("operator: {ip: not-an-ip}\n", "", "operator.ip"),
        ("", "    networkAcls: {ipRules: [300.1.2.3]}\n", "vaults[0].networkAcls.ipRules[0]"),
    ],
)
def test_bad_addresses_are_estate_errors(tmp_path: Path, operator: str, vault_extra: str, field: str) -> None:
    with pytest.raises(EstateError) as err:
        load_estate(estate(tmp_path, vault_extra, operator))
    assert f" {field}: " in str(err.value)


# -- a disabled key --------------------------------------------------------------------------------


def crypto(c: Clients, version: str) -> CryptographyClient:
    return CryptographyClient(
        f"{c.emu.connection['vaults'][VAULT]}/keys/cmk/{version}",
        FakeCredential(c.emu.token),
        verify_challenge_resource=False,
        connection_verify=c.emu.ca_path,
        retry_total=0,
    )


def test_a_disabled_key_reads_but_refuses_unwrap(start: StartEmulator) -> None:
    c = start("key-disabled")
    key = c.keys().get_key("cmk")
    assert key.properties.enabled is False
    with pytest.raises(HttpResponseError) as err:
        crypto(c, str(key.properties.version)).unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"wrapped")
    assert err.value.status_code == 403
    assert err.value.error is not None
    assert err.value.error.innererror["code"] == "KeyDisabled"
    assert err.value.error.message == "Operation unwrapKey is not allowed on a disabled key."


def test_wrap_and_unwrap_round_trip_on_an_enabled_key(start: StartEmulator) -> None:
    c = start("healthy")
    version = str(c.keys().get_key("cmk").properties.version)
    client = crypto(c, version)
    wrapped = client.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"data key")
    assert client.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == b"data key"
