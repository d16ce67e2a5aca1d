"""Missing operator permissions: every check the operator may not run is `unknown` with the role
that would let it run; no finding is invented; remediations in doubt are flagged before a write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.conftest import BackendMaker, EmulatorMaker, checks, codes, connection_path
from wizard.cli import main
from wizard.domain.models import Severity
from wizard.engine.tree import load_tree
from wizard.run.diagnose import diagnose

CUSTOM_ROLE_ESTATE = """\
name: custom-role-healthy
description: Healthy, but the identity's access comes from a custom role.
identities:
  - name: id-cmk-demo
customRoles:
  - name: CMK unwrapper
    dataActions: [Microsoft.KeyVault/vaults/keys/read, Microsoft.KeyVault/vaults/keys/wrapKey/action,
                  Microsoft.KeyVault/vaults/keys/unwrapKey/action]
vaults:
  - name: kv-cmk-demo
    keys:
      - name: cmk
        size: 4096
        expires: +365d
clusters:
  - name: cluster-custom-role
    identities: [id-cmk-demo]
    encryption: {identity: id-cmk-demo, vault: kv-cmk-demo, key: cmk}
roleAssignments:
  - principal: id-cmk-demo
    role: CMK unwrapper
    scope: vault:kv-cmk-demo
"""

ROLE_READ = "Microsoft.Authorization/roleAssignments/read"
# restriction, scenario, the checks it must leave unknown, what `needs` must name
CASES = [
    ("deny:clusters", "healthy", ["cluster.load"], "Microsoft.DocumentDB/mongoClusters/read"),
    (
        "deny:identities",
        "healthy",
        ["identity.exists", "identity.principal", "access.rbac"],
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    ),
    (
        "deny:identities",
        "identity-recreated",
        ["identity.exists", "identity.principal", "access.rbac"],
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    ),
    ("deny:resource-graph", "healthy", ["vault.exists"], "Reader on the vault's subscription"),
    (
        "deny:vaults",
        "healthy",
        ["vault.exists", "vault.network", "vault.protection", "vault.placement", "access.rbac"],
        "Microsoft.KeyVault/vaults/read",
    ),
    (
        "deny:vaults",
        "access-policy-revoked",
        ["vault.network", "access.policy"],
        "Microsoft.KeyVault/vaults/read",
    ),
    ("deny:vaults", "firewall-blocked", ["vault.network"], "Microsoft.KeyVault/vaults/read"),
    (
        "deny:deleted-vaults",
        "vault-soft-deleted",
        ["vault.deleted"],
        "Microsoft.KeyVault/locations/deletedVaults/read",
    ),
    (
        "deny:mgmt-keys",
        "healthy",
        ["key.exists", "key.enabled", "key.dates", "key.type"],
        "Microsoft.KeyVault/vaults/keys/read",
    ),
    ("deny:mgmt-keys", "key-expired", ["key.dates"], "Microsoft.KeyVault/vaults/keys/read"),
    ("deny:mgmt-keys", "key-disabled", ["key.enabled"], "Microsoft.KeyVault/vaults/keys/read"),
    ("deny:data-plane", "key-soft-deleted", ["key.exists"], "data plane"),
    ("no-data-plane", "key-soft-deleted", ["key.exists"], "data plane"),
    ("operator-ip-blocked", "key-soft-deleted", ["key.exists"], "network access to the vault"),
    ("deny:role-assignments", "healthy", ["access.rbac"], ROLE_READ),
    ("no-role-assignment-read", "rbac-role-missing", ["access.rbac"], ROLE_READ),
    ("no-role-assignment-read", "vault-recovered-rbac-lost", ["access.rbac"], ROLE_READ),
    ("deny:role-definitions", "CUSTOM", ["access.rbac"], "Microsoft.Authorization/roleDefinitions/read"),
]
PARAMS = [pytest.param(*case, id=f"{case[0]}@{case[1]}") for case in CASES]
CRITICAL_CHECKS = {spec.id for spec in load_tree() if spec.critical}


@pytest.fixture
def custom_role_estate(tmp_path: Path) -> str:
    path = tmp_path / "custom-role.yaml"
    path.write_text(CUSTOM_ROLE_ESTATE)
    return str(path)


@pytest.mark.parametrize(("restriction", "scenario", "unknown", "needs"), PARAMS)
def test_a_denied_call_is_unknown_with_needs_and_invents_nothing(
    backend: BackendMaker,
    custom_role_estate: str,
    restriction: str,
    scenario: str,
    unknown: list[str],
    needs: str,
) -> None:
    b = backend(custom_role_estate if scenario == "CUSTOM" else scenario)
    cluster = b.default_cluster_id() or ""
    clean = diagnose(b.connect(), cluster)
    b.emulator.set_faults(restrictions=[restriction])
    restricted = diagnose(b.connect(), cluster)

    by_id = checks(restricted)
    for check_id in unknown:
        assert by_id[check_id].status.value == "unknown", (check_id, by_id[check_id])
        assert needs in by_id[check_id].needs, (check_id, by_id[check_id].needs)
    # no finding invented: what we say under restriction, we said with full access
    assert set(codes(restricted)) <= set(codes(clean))
    for check_id, result in by_id.items():
        if result.status.value in ("pass", "fail"):
            assert checks(clean)[check_id].status == result.status, check_id
    # a critical question left open, and no critical finding to explain it: incomplete (exit 3)
    critical_open = any(by_id[c].status.value == "unknown" for c in unknown if c in CRITICAL_CHECKS)
    has_critical = any(f.severity == Severity.CRITICAL for f in restricted.findings)
    if critical_open and not has_critical:
        assert (restricted.verdict, restricted.exit_code) == ("incomplete", 3)
    if has_critical:
        assert restricted.exit_code == 1


def test_every_critical_check_is_covered_by_a_restriction() -> None:
    covered = {check for case in CASES for check in case[2]}
    missing = CRITICAL_CHECKS - covered - {"cluster.state", "identity.attached"}
    # cluster.state and identity.attached come from the same read as cluster.load
    assert not missing, missing


def test_restricted_diagnosis_on_the_cli_is_exit_3_with_needs(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = running_emulator("healthy")
    emulator.set_faults(restrictions=["deny:mgmt-keys"])
    code = main(["diagnose", "--emulator", connection_path(tmp_path, "healthy"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert report["verdict"] == "incomplete"
    key = next(c for c in report["checks"] if c["id"] == "key.exists")
    assert key["status"] == "unknown"
    assert "Microsoft.KeyVault/vaults/keys/read" in key["needs"]
    # and the text format names the permission too
    main(["diagnose", "--emulator", connection_path(tmp_path, "healthy")])
    assert "Microsoft.KeyVault/vaults/keys/read" in capsys.readouterr().out


def test_a_remediation_in_doubt_is_flagged_in_the_dry_run(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The identity was recreated; the operator may not read role assignments, so granting the
    role to the new principal is flagged before anything is attempted, and nothing is written."""
    emulator = running_emulator("identity-recreated")
    emulator.set_faults(restrictions=["no-role-assignment-read"])
    code = main(
        [
            "fix",
            "--emulator",
            connection_path(tmp_path, "identity-recreated"),
            "--all",
            "--dry-run",
            "--audit-log",
            str(tmp_path / "audit.jsonl"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "grant-crypto-role" in out
    assert "you may lack the permission" in out
    assert ROLE_READ in out
    assert "cannot see access" in out
    assert not any(r["write"] for r in emulator.requests())
    assert not (tmp_path / "audit.jsonl").exists()
