"""The gateway's writes one by one, through the real SDK against the emulator (and a few body
builders on their own): what is sent is what was previewed and what the audit log says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory
from tests.remediation.test_fix_scenarios import writes
from wizard.audit import AuditLog, read_audit
from wizard.azure.writes import attach_body

IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk")

ESTATE_HEAD = """
identities:
  - name: id-cmk
roleAssignments:
  - principal: id-cmk
    role: Key Vault Crypto Service Encryption User
    scope: vault:kv-cmk-w
clusters:
  - name: cluster-w
    identities: [id-cmk]
    encryption: {identity: id-cmk, vault: kv-cmk-w, key: cmk}
"""


def estate(tmp_path: Path, name: str, vault: str) -> str:
    """A small estate file (docs/estate-format.md): one cluster, one identity, the vault given."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\n{ESTATE_HEAD}vaults:\n{vault}", encoding="utf-8")
    return str(path)


def test_key_writes_use_the_version_they_are_given(emulator_backend: BackendFactory,
                                                    tmp_path: Path) -> None:
    """The cluster may pin an older version: enable THAT version, not the latest."""
    backend = emulator_backend(estate(tmp_path, "pinned", """
  - name: kv-cmk-w
    keys:
      - {name: cmk, olderVersions: 1, expires: +365d}
"""))
    gateway = backend.connect()
    emulator = backend.emulator

    def disable_oldest(state: Any) -> str:
        key = state.vaults[0].keys["cmk"]
        key.versions[0].enabled = False
        return str(key.versions[0].version)

    older = emulator.mutate(disable_oldest)
    ref = gateway.find_vault("kv-cmk-w")
    assert ref is not None
    writer = gateway.writer(AuditLog(tmp_path / "audit.jsonl"))
    result = writer.enable_key(ref.id, "https://kv-cmk-w.vault.azure.net/", "cmk", older)
    assert result.status == "ok", result
    assert result.before["version"] == older
    assert result.before["enabled"] is False
    assert result.after == {**result.before, "enabled": True}
    assert {r["path"] for r in writes(emulator)} == {f"/keys/cmk/{older}"}


def test_key_fix_az_commands_name_the_version(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    from wizard.remediation import FixSession

    backend = emulator_backend("key-disabled")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    step = session.plan().steps[0]
    assert step.remediation == "enable-key"
    assert step.params["version"]
    assert f"--version {step.params['version']}" in step.az


def test_firewall_preview_is_what_is_sent_for_a_vault_without_network_acls(
        emulator_backend: BackendFactory, tmp_path: Path) -> None:
    """Public access Disabled and no networkAcls: the vault's effective default action is Allow.
    The preview promised Deny while the request sent Allow; now one builder makes both."""
    from wizard.remediation import FixSession

    backend = emulator_backend(estate(tmp_path, "closed", """
  - name: kv-cmk-w
    publicNetworkAccess: Disabled
    keys:
      - {name: cmk, expires: +365d}
"""))
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    audit = tmp_path / "audit.jsonl"
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(audit))
    step = session.plan().steps[0]
    assert step.remediation == "allow-trusted-services"
    assert step.after["defaultAction"] == "Allow"
    assert session.apply(step, confirmation=True).status == "ok"
    before, after = read_audit(audit)
    sent = before["request"]["body"]["properties"]["networkAcls"]
    assert {"bypass": sent["bypass"], "defaultAction": sent["defaultAction"],
            "ipRules": [r["value"] for r in sent["ipRules"]],
            "virtualNetworkRules": [r["id"] for r in sent["virtualNetworkRules"]],
            "publicNetworkAccess": step.before["publicNetworkAccess"]} == step.after
    assert {k: after["after"][k] for k in step.after} == step.after


@pytest.mark.parametrize(("identity_type", "sent"), [
    ("SystemAssigned,UserAssigned", "SystemAssigned,UserAssigned"),
    ("SystemAssigned, UserAssigned", "SystemAssigned,UserAssigned"),
    ("UserAssigned", "UserAssigned"),
    (None, "UserAssigned"),
])
def test_attach_keeps_a_system_assigned_identity(identity_type: str | None, sent: str) -> None:
    """PATCH replaces identity.type: sending UserAssigned alone would drop the system identity."""
    body = attach_body(identity_type, IDENTITY, "https://kv.vault.azure.net/keys/cmk")
    assert body["identity"] == {"type": sent, "userAssignedIdentities": {IDENTITY: {}}}
    cmk = body["properties"]["encryption"]["customerManagedKeyEncryption"]
    assert cmk["keyEncryptionKeyUrl"] == "https://kv.vault.azure.net/keys/cmk"
    assert cmk["keyEncryptionKeyIdentity"]["userAssignedIdentityResourceId"] == IDENTITY


def test_attach_reads_the_identity_type_and_audits_the_body_it_sends(
        emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("identity-recreated")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    cluster = gateway.get_cluster(cluster_id)
    assert cluster.key_identity_id
    assert cluster.key_url
    audit = tmp_path / "audit.jsonl"
    result = gateway.writer(AuditLog(audit)).attach_identity_and_key(
        cluster_id, cluster.key_identity_id, cluster.key_url)
    assert result.before["identityType"] == cluster.identity_type
    intent = read_audit(audit)[0]
    assert intent["request"]["body"] == attach_body(cluster.identity_type, cluster.key_identity_id,
                                                    cluster.key_url)
