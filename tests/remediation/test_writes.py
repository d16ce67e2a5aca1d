"""The gateway's writes one by one, through the real SDK against the emulator (and a few body
builders on their own): what is sent is what was previewed and what the audit log says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import BackendFactory
from tests.remediation.test_fix_scenarios import writes
from wizard.azure.cluster_writes import attach_body
from wizard.domain.actions import AllowTrustedServices, AttachIdentityAndKey, EnableKey, GrantCryptoRole
from wizard.emulator import Emulator
from wizard.emulator.model import State
from wizard.emulator.wire import Response
from wizard.run.audit import AuditLog, read_audit

IDENTITY = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk"
)

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


def test_key_writes_use_the_version_they_are_given(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    """The cluster may pin an older version: enable THAT version, not the latest."""
    backend = emulator_backend(
        estate(
            tmp_path,
            "pinned",
            """
  - name: kv-cmk-w
    keys:
      - {name: cmk, olderVersions: 1, expires: +365d}
""",
        )
    )
    gateway = backend.connect()
    emulator = backend.emulator

    def disable_oldest(state: State) -> str:
        key = state.vaults[0].keys["cmk"]
        key.versions[0].enabled = False
        return str(key.versions[0].version)

    older = emulator.mutate(disable_oldest)
    ref = gateway.find_vault("kv-cmk-w")
    assert ref is not None
    writer = gateway.writer(AuditLog(tmp_path / "audit.jsonl"))
    result = writer.apply(EnableKey(ref.id, "https://kv-cmk-w.vault.azure.net/", "cmk", older))
    assert result.status == "ok", result
    assert result.before["version"] == older
    assert result.before["enabled"] is False
    assert result.after == {**result.before, "enabled": True}
    assert {r["path"] for r in writes(emulator)} == {f"/keys/cmk/{older}"}


def test_key_fix_az_commands_name_the_version(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    from wizard.run.fix import FixSession

    backend = emulator_backend("key-disabled")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    step = session.plan().steps[0]
    assert step.remediation == "enable-key"
    assert step.params["version"]
    assert f"--version {step.params['version']}" in step.az


def test_firewall_preview_is_what_is_sent_for_a_vault_whose_rules_name_no_default_action(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Public access Disabled, bypass None and no defaultAction: the effective default action is
    Allow. The preview promised Deny while the request sent Allow; now one builder makes both.
    (Without any networkAcls the bypass defaults to AzureServices: nothing to fix, no step.)"""
    from wizard.run.fix import FixSession

    backend = emulator_backend(
        estate(
            tmp_path,
            "closed",
            """
  - name: kv-cmk-w
    publicNetworkAccess: Disabled
    networkAcls: {bypass: None}
    keys:
      - {name: cmk, expires: +365d}
""",
        )
    )
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
    assert {
        "bypass": sent["bypass"],
        "defaultAction": sent["defaultAction"],
        "ipRules": [r["value"] for r in sent["ipRules"]],
        "virtualNetworkRules": [r["id"] for r in sent["virtualNetworkRules"]],
        "publicNetworkAccess": step.before["publicNetworkAccess"],
    } == step.after
    assert {k: after["after"][k] for k in step.after} == step.after


@pytest.mark.parametrize(
    ("identity_type", "sent"),
    [
        ("SystemAssigned,UserAssigned", "SystemAssigned,UserAssigned"),
        ("SystemAssigned, UserAssigned", "SystemAssigned,UserAssigned"),
        ("UserAssigned", "UserAssigned"),
        (None, "UserAssigned"),
    ],
)
def test_attach_keeps_a_system_assigned_identity(identity_type: str | None, sent: str) -> None:
    """PATCH replaces identity.type: sending UserAssigned alone would drop the system identity."""
    body = attach_body(identity_type, IDENTITY, "https://kv.vault.azure.net/keys/cmk")
    assert body["identity"] == {"type": sent, "userAssignedIdentities": {IDENTITY: {}}}
    cmk = body["properties"]["encryption"]["customerManagedKeyEncryption"]
    assert cmk["keyEncryptionKeyUrl"] == "https://kv.vault.azure.net/keys/cmk"
    assert cmk["keyEncryptionKeyIdentity"]["userAssignedIdentityResourceId"] == IDENTITY


def test_attach_reads_the_identity_type_and_audits_the_body_it_sends(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("identity-recreated")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    cluster = gateway.get_cluster(cluster_id)
    assert cluster.key_identity_id
    assert cluster.key_url
    audit = tmp_path / "audit.jsonl"
    result = gateway.writer(AuditLog(audit)).apply(
        AttachIdentityAndKey(cluster_id, cluster.key_identity_id, cluster.key_url)
    )
    assert result.before["identityType"] == cluster.identity_type
    intent = read_audit(audit)[0]
    assert intent["request"]["body"] == attach_body(
        cluster.identity_type, cluster.key_identity_id, cluster.key_url
    )


def _refuse_writes_with(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    answer: Callable[[], Response | None],
) -> None:
    """Answer authenticated `method` requests with `answer()` before the emulator sees them: an
    answer no estate can produce on demand (another writer winning a race)."""
    original = emulator.handle

    def handle(host: str, verb: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response | None:
        if verb == method and "authorization" in headers:
            return answer()
        return original(host, verb, raw_path, headers, body)

    monkeypatch.setattr(emulator, "handle", handle)


def test_a_write_whose_answer_is_lost_is_audited_unknown_with_its_after_state(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Azure took the PATCH but the connection dropped before the answer."""
    backend = emulator_backend("key-disabled")
    gateway = backend.connect()
    session_audit = tmp_path / "audit.jsonl"
    from wizard.run.fix import FixSession

    session = FixSession(gateway, backend.default_cluster_id() or "", audit=AuditLog(session_audit))
    step = session.plan().steps[0]
    assert step.remediation == "enable-key"
    backend.emulator.set_faults(fault_rate=1.0, fault_kinds=["lost-write"], fault_limit=1)
    outcome = session.apply(step, confirmation=True)
    assert outcome.status == "error"
    _, after = read_audit(session_audit)
    assert after["result"] == "unknown"
    assert after["after"]["enabled"] is True
    assert after["after"]["version"] == step.params["version"]


def test_a_refused_write_is_audited_error_with_the_unchanged_after_state(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("key-disabled")
    gateway = backend.connect()
    from wizard.run.fix import FixSession

    session = FixSession(gateway, backend.default_cluster_id() or "", audit=AuditLog(tmp_path / "a.jsonl"))
    step = session.plan().steps[0]
    backend.emulator.set_faults(restrictions=["no-data-plane"])  # the write only: keys read via ARM
    assert session.apply(step, confirmation=True).status == "error"
    _, after = read_audit(tmp_path / "a.jsonl")
    assert after["result"] == "error"
    assert after["after"]["enabled"] is False


def test_a_write_a_read_only_lock_refuses_is_a_conflict_audited_error(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """A 409 ScopeLocked (here a ReadOnly lock on the vault) is a failure, not 'already there'."""
    from wizard.domain.errors import Conflict

    backend = emulator_backend(
        estate(
            tmp_path,
            "locked",
            """
  - name: kv-cmk-w
    networkAcls: {defaultAction: Deny, bypass: None}
    keys:
      - {name: cmk, expires: +365d}
locks:
  - {scope: vault:kv-cmk-w, level: ReadOnly}
""",
        )
    )
    gateway = backend.connect()
    ref = gateway.find_vault("kv-cmk-w")
    assert ref is not None
    audit = tmp_path / "a.jsonl"
    with pytest.raises(Conflict) as refused:
        gateway.writer(AuditLog(audit)).apply(AllowTrustedServices(ref.id))
    assert refused.value.code == "ScopeLocked"
    _, after = read_audit(audit)
    assert after["result"] == "error"
    assert after["after"]["bypass"] == "None"
    assert [(r["method"], r["status"]) for r in writes(backend.emulator)] == [("PATCH", 409)]


def test_a_role_assignment_exists_race_means_already_done(
    emulator_backend: BackendFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 409 RoleAssignmentExists from a race (the list showed no assignment) means it is there."""
    from wizard.emulator.wire import arm_error

    backend = emulator_backend("rbac-role-missing")
    gateway = backend.connect()
    cluster = gateway.get_cluster(backend.default_cluster_id() or "")
    identity = gateway.get_identity(cluster.key_identity_id or "")
    ref = gateway.find_vault("kv-cmk-demo")
    assert ref is not None
    writer = gateway.writer(AuditLog(tmp_path / "a.jsonl"))
    _refuse_writes_with(
        backend.emulator,
        monkeypatch,
        "PUT",
        lambda: arm_error(409, "RoleAssignmentExists", "The role assignment already exists."),
    )
    assert writer.apply(GrantCryptoRole(ref.id, identity.principal_id)).status == "already-done"


def test_a_step_that_fails_before_writing_cites_no_audit_record(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Its before-state could not be read: it wrote no record, so it must not cite the last step's."""
    from wizard.run.fix import FixSession

    backend = emulator_backend("multi-fault")
    audit = AuditLog(tmp_path / "a.jsonl")
    session = FixSession(backend.connect(), backend.default_cluster_id() or "", audit=audit)
    first = session.plan().next_step
    assert first is not None
    assert first.remediation == "extend-key-expiry"
    assert session.apply(first, confirmation=True).status == "ok"
    second = session.plan().next_step
    assert second is not None
    assert second.remediation == "allow-trusted-services"
    backend.emulator.set_faults(restrictions=["deny:vaults"])
    failed = session.apply(second, confirmation=True)
    assert failed.status == "error"
    assert failed.audit_ids == ()
    assert len(audit.written) == 2
