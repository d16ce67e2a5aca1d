"""Property: for random estates with random faults, the engine's causes are the emulator's reasons.

The emulator decides on its own rules whether a cluster can use its key (it never imports the
engine). Hypothesis builds estates with any combination of faults; the engine, reading them
through the real SDK clients, must name every cause the emulator sees, and invent none.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.models import CheckStatus
from wizard.engine.assess import critical_causes
from wizard.run.diagnose import diagnose

VAULT = "kv-prop"
KEY = "cmk"
OLD_PRINCIPAL = "9d1a7c3e-2b4f-4e6a-8c0d-5f7e9a1b3c2d"
NEW_PRINCIPAL = "4b8e2f6a-93c1-4d5e-a7b0-1c2d3e4f5a6b"
DOCUMENTED = "Key Vault Crypto Service Encryption User"

REASON_TO_CAUSE = {
    "provisioning-failed": "CLUSTER_PROVISIONING_FAILED",
    "identity-not-attached": "IDENTITY_NOT_ATTACHED",
    "identity-missing": "IDENTITY_DELETED",
    "identity-principal-changed": "IDENTITY_RECREATED",
    "vault-missing": "VAULT_PURGED",
    "vault-soft-deleted": "VAULT_SOFT_DELETED",
    "vault-network-closed": "VAULT_FIREWALL_BLOCKS_SERVICE",
    "key-missing": "KEY_PURGED",
    "key-soft-deleted": "KEY_SOFT_DELETED",
    "key-disabled": "KEY_DISABLED",
    "key-not-yet-active": "KEY_NOT_YET_ACTIVE",
    "key-expired": "KEY_EXPIRED",
    "key-type-unsupported": "KEY_TYPE_UNSUPPORTED",
}

NETWORKS = [
    {},
    {"networkAcls": {"defaultAction": "Allow", "bypass": "None"}},
    {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": ["203.0.113.7"]}},
    {"publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}},
    {"networkAcls": {"defaultAction": "Deny", "bypass": "None", "ipRules": ["203.0.113.0/24"]}},
    {"publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Allow", "bypass": "None"}},
    {"publicNetworkAccess": "Disabled"},
    {"publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Deny"}},
]

ROLE_GRANTS = [
    None,
    (DOCUMENTED, f"vault:{VAULT}"),
    (DOCUMENTED, "subscription"),
    (DOCUMENTED, "resourceGroup"),
    (DOCUMENTED, f"key:{VAULT}/{KEY}"),
    (DOCUMENTED, f"key:{VAULT}/other-key"),
    ("Key Vault Crypto Officer", f"vault:{VAULT}"),
    ("Key Vault Reader", f"vault:{VAULT}"),
    ("custom-keys-all", f"vault:{VAULT}"),
    ("custom-no-unwrap", f"vault:{VAULT}"),
    ("custom-wildcard-denied", "resourceGroup"),
]
CUSTOM_ROLES = [
    {"name": "custom-keys-all", "dataActions": ["Microsoft.KeyVault/vaults/keys/*"]},
    {
        "name": "custom-no-unwrap",
        "dataActions": ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action"],
    },
    {
        "name": "custom-wildcard-denied",
        "dataActions": ["Microsoft.KeyVault/*"],
        "notDataActions": ["Microsoft.KeyVault/vaults/keys/unwrap/action"],
    },
]
PERMISSIONS = ["get", "list", "wrapKey", "unwrapKey"]


@st.composite
def estates(draw: st.DrawFn) -> dict[str, Any]:
    """A one-cluster estate with any combination of the documented faults."""
    rbac = draw(st.booleans())
    identity_state = draw(st.sampled_from(["ok", "ok", "deleted", "recreated"]))
    vault_state = draw(st.sampled_from(["live", "live", "live", "soft-deleted", "purged"]))
    key_state = draw(st.sampled_from(["present", "present", "soft-deleted", "purged"]))
    kty = draw(st.sampled_from(["RSA", "RSA", "RSA", "RSA-HSM", "EC"]))
    key: dict[str, Any] = {
        "name": KEY,
        "kty": kty,
        "size": None if kty == "EC" else draw(st.sampled_from([1024, 2048, 3072, 4096])),
        "enabled": draw(st.booleans()),
        "expires": draw(st.sampled_from([None, "-2d", "-1h", "+90d", "+400d"])),
        "notBefore": draw(st.sampled_from([None, None, "-10d", "+2d"])),
    }
    key = {k: v for k, v in key.items() if v is not None}
    if key_state == "soft-deleted":
        key["deleted"] = "-1d"
    vault: dict[str, Any] = {
        "name": VAULT,
        "permissionModel": "rbac" if rbac else "accessPolicy",
        "keys": [] if key_state == "purged" else [key],
        **draw(st.sampled_from(NETWORKS)),
    }
    if vault_state == "soft-deleted":
        vault["deleted"] = "-3d"
    identity: dict[str, Any] = {
        "name": "id-prop",
        "principalId": NEW_PRINCIPAL if identity_state == "recreated" else OLD_PRINCIPAL,
    }
    grant_to = draw(st.sampled_from([OLD_PRINCIPAL, NEW_PRINCIPAL]))
    if not rbac:
        perms = draw(st.one_of(st.just(["all"]), st.lists(st.sampled_from(PERMISSIONS), unique=True)))
        vault["accessPolicies"] = [{"principal": grant_to, "keys": perms}] if perms else []
    attached = draw(st.sampled_from([True, True, True, False]))
    cluster: dict[str, Any] = {
        "name": "cluster-prop",
        "identities": [{"identity": "id-prop", "principalId": OLD_PRINCIPAL}] if attached else [],
        "encryption": {"identity": "id-prop", "keyUrl": f"https://{VAULT}.vault.azure.net/keys/{KEY}"},
    }
    if draw(st.integers(0, 9)) == 0:
        cluster["provisioningState"] = "Failed"
    estate: dict[str, Any] = {
        "name": "property",
        "customRoles": CUSTOM_ROLES,
        "identities": [] if identity_state == "deleted" else [identity],
        "vaults": [] if vault_state == "purged" else [vault],
        "clusters": [cluster],
    }
    grant = draw(st.sampled_from(ROLE_GRANTS)) if rbac and vault_state == "live" else None
    if grant is not None:
        estate["roleAssignments"] = [{"principal": grant_to, "role": grant[0], "scope": grant[1]}]
    return estate


UNDECIDABLE_BY_DATA_PLANE = {"KEY_SOFT_DELETED", "KEY_PURGED"}


def data_plane_closed_to_operator(estate: dict[str, Any]) -> bool:
    """Deleted keys are only visible on the data plane, which a closed vault shuts to the operator."""
    vault = estate["vaults"][0]
    acls = vault.get("networkAcls") or {}
    return vault.get("publicNetworkAccess") == "Disabled" or acls.get("defaultAction") == "Deny"


def expected_causes(reasons: list[str], rbac: bool) -> set[str]:
    """The emulator's reasons in the engine's words; a recreated identity's new principal without
    access is a cause of its own (it exists and lacks access)."""
    causes = {REASON_TO_CAUSE[r] for r in reasons if r in REASON_TO_CAUSE}
    if "no-key-permission" in reasons:
        causes.add("RBAC_ROLE_MISSING" if rbac else "ACCESS_POLICY_MISSING")
    return causes


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
def test_engine_causes_match_the_emulators_own_verdict(estate: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "estate.json"
        path.write_text(json.dumps(estate))
        backend = EmulatorBackend(Options(retry_total=0), scenario=str(path))
        try:
            cluster_id = backend.default_cluster_id()
            assert cluster_id
            result = diagnose(backend.connect(), cluster_id)
            health = backend.emulator.health()["clusters"][cluster_id]
        finally:
            backend.close()
    reasons = [r["code"] for r in health["reasons"]]
    rbac = bool(estate["vaults"]) and estate["vaults"][0]["permissionModel"] == "rbac"
    found, expected = critical_causes(result.findings), expected_causes(reasons, rbac)
    unknown = {c.id for c in result.assessment.checks if c.status == CheckStatus.UNKNOWN}
    assert found <= expected, ("invented", found - expected, reasons)
    missed = expected - found
    assert not missed or (missed <= UNDECIDABLE_BY_DATA_PLANE and unknown == {"key.exists"}), (
        "missed",
        missed,
        reasons,
        unknown,
    )
    assert unknown <= {"key.exists"}
    if unknown:
        assert data_plane_closed_to_operator(estate), unknown
    assert (result.verdict == "healthy") is bool(health["canUseKey"])
