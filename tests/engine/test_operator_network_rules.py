"""Pure rules of the operator's network: what a vault will refuse, the address in a 403, the advice
by inner code, and the undo records an interrupted run leaves."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from wizard.domain.errors import BadInput, Forbidden
from wizard.domain.models import VaultFacts
from wizard.domain.network import client_address, data_plane_refusal, is_operator_rule, operator_address
from wizard.domain.results import StepKind
from wizard.engine.steps import Step
from wizard.run.advice import advice_for
from wizard.run.audit import AuditLog, pending_undos

VAULT = VaultFacts(
    id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
    name="kv",
    resource_group="rg",
    subscription_id="s",
    location="westus2",
    tenant_id="t",
    vault_uri="https://kv.vault.azure.net/",
    rbac_authorization=True,
    soft_delete=True,
    purge_protection=True,
    public_network_access="Enabled",
    network_default_action="Deny",
    network_bypass="AzureServices",
    ip_rules=("203.0.113.0/24",),
)


@pytest.mark.parametrize(
    ("changes", "address", "inner", "certain", "helps"),
    [
        ({}, None, "ForbiddenByFirewall", False, True),
        ({}, "198.51.100.7", "ForbiddenByFirewall", True, True),
        ({}, "203.0.113.9", None, None, None),
        ({"network_default_action": "Allow"}, "198.51.100.7", None, None, None),
        ({"network_default_action": None}, None, None, None, None),
        ({"public_network_access": "Disabled"}, "203.0.113.9", "ForbiddenByConnection", True, False),
        (
            {"public_network_access": "Disabled", "network_default_action": None},
            None,
            "ForbiddenByConnection",
            True,
            False,
        ),
    ],
)
def test_what_the_vault_will_refuse(
    changes: dict[str, object],
    address: str | None,
    inner: str | None,
    certain: bool | None,
    helps: bool | None,
) -> None:
    refusal = data_plane_refusal(replace(VAULT, **changes), address)  # type: ignore[arg-type]
    if inner is None:
        assert refusal is None
        return
    assert refusal is not None
    assert (refusal.inner_code, refusal.certain, refusal.ip_rule_helps) == (inner, certain, helps)


def test_the_address_azure_saw_is_read_from_the_message() -> None:
    message = (
        "Client address is not authorized and caller is not a trusted service. Client address: "
        "198.51.100.7 Caller: appid=x;oid=y Vault: kv;location=westus2"
    )
    assert client_address(message) == "198.51.100.7"
    assert client_address("Client address: 198.51.100.7\r\nCaller: x") == "198.51.100.7"
    assert client_address("no address here") is None
    assert client_address("Client address: 999.1.1.1") is None


def test_the_operator_rule_is_exactly_the_slash_32() -> None:
    assert is_operator_rule("198.51.100.7/32", "198.51.100.7")
    assert is_operator_rule("198.51.100.7", "198.51.100.7")
    assert not is_operator_rule("198.51.100.0/24", "198.51.100.7")
    assert not is_operator_rule("198.51.100.70/32", "198.51.100.7")


@pytest.mark.parametrize(
    "bad", ["", "x", "300.1.1.1", "::1", "2001:db8::1", "127.0.0.1", "0.0.0.0", "224.0.0.1"]
)
def test_my_ip_takes_one_usable_ipv4_address(bad: str) -> None:
    with pytest.raises(BadInput):
        operator_address(bad)
    assert operator_address(" 198.51.100.7 ") == "198.51.100.7"


def _step() -> Step:
    return Step(
        remediation="extend-key-expiry",
        finding="KEY_EXPIRED",
        kind=StepKind.WRITE,
        title="t",
        summary="s",
        change="c",
        before={},
        after={},
        action=None,
        target="/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/keys/cmk",
        permission="keys/update on the vault's data plane (Key Vault Crypto Officer)",
    )


@pytest.mark.parametrize(
    ("inner", "address", "says", "never"),
    [
        ("ForbiddenByFirewall", "198.51.100.7", "add 198.51.100.7/32", "Crypto Officer"),
        ("ForbiddenByFirewall", None, "--my-ip ADDRESS", "Crypto Officer"),
        ("ForbiddenByConnection", None, "private endpoint", "Crypto Officer"),
        ("ForbiddenByRbac", None, "you lack the permission for this write (ForbiddenByRbac)", "network"),
        ("AccessDenied", None, "you lack the permission for this write (AccessDenied)", "network"),
    ],
)
def test_advice_follows_the_inner_code(inner: str, address: str | None, says: str, never: str) -> None:
    error = Forbidden("403", code=f"Forbidden/{inner}", inner_code=inner, client_address=address)
    advice = advice_for(error, _step())
    assert says in advice
    assert never not in advice
    if inner.startswith("ForbiddenBy") and inner != "ForbiddenByRbac":
        assert "not your permission" in advice


def test_a_plain_403_still_names_the_permission() -> None:
    assert "Key Vault Crypto Officer" in advice_for(Forbidden("403", code="AuthorizationFailed"), _step())


def test_pending_undos_skip_torn_lines_and_finished_undos(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    undo = {"remediation": "remove-operator-ip", "vaultId": VAULT.id, "address": "198.51.100.7"}
    first = log.intent(operator={}, remediation="allow-operator-ip", target=VAULT.id, request={}, before={})
    log.result(
        first, remediation="allow-operator-ip", target=VAULT.id, result="ok", message="", after={}, undo=undo
    )
    second = log.intent(operator={}, remediation="allow-operator-ip", target=VAULT.id, request={}, before={})
    log.result(second, remediation="allow-operator-ip", target=VAULT.id, result="error", message="", after={})
    assert [r["intent"] for r in pending_undos(path)] == [first]
    removal = log.intent(
        operator={}, remediation="remove-operator-ip", target=VAULT.id, request={}, before={}
    )
    log.result(
        removal,
        remediation="remove-operator-ip",
        target=VAULT.id,
        result="error",
        message="",
        after={},
        undoes=first,
    )
    assert [r["intent"] for r in pending_undos(path)] == [first], "a failed removal leaves it pending"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"phase": "after"})[:7])  # a run killed mid-line
    log.result(
        removal,
        remediation="remove-operator-ip",
        target=VAULT.id,
        result="already-done",
        message="",
        after={},
        undoes=first,
    )
    assert pending_undos(path) == []
