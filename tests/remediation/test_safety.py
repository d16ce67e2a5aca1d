"""Read-only, dry-run, idempotency and the fix/watch command line, against the emulator."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory
from tests.remediation.test_fix_scenarios import assert_audit_pairs, writes
from wizard.cli import build_parser, main
from wizard.cli.fix import run_fix, run_watch
from wizard.cli.wiring import EmulatorBackend
from wizard.domain.actions import (
    ACTION_TYPES,
    Action,
    AddAccessPolicy,
    AllowOperatorIp,
    AllowTrustedServices,
    AttachIdentityAndKey,
    ClearKeyNotBefore,
    CreateIdentity,
    DeleteFailedCluster,
    EnableKey,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    GrantCryptoRole,
    RecoverKey,
    RecoverVault,
    RecreateResourceGroup,
    RemoveOperatorIp,
)
from wizard.domain.errors import ReadOnlyViolation
from wizard.domain.models import VaultFacts
from wizard.run.audit import AuditLog, read_audit
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession


class KeepOpen:
    """Hands run_fix a backend whose close() leaves the emulator running for the assertions."""

    def __init__(self, backend: EmulatorBackend) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def close(self) -> None:
        pass


def fix_args(*extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["fix", "--scenario", "unused", *extra])


def _writer_calls(
    vault_id: str, vault_url: str, cluster_id: str, identity_id: str, key_url: str
) -> dict[str, Action]:
    sub, group = cluster_id.split("/")[2], cluster_id.split("/")[4]
    principal = "00000000-0000-0000-0000-000000000001"
    actions: list[Action] = [
        ExtendKeyExpiry(vault_id, vault_url, "cmk", None, datetime(2099, 1, 1, tzinfo=UTC)),
        EnableKey(vault_id, vault_url, "cmk", None),
        ClearKeyNotBefore(vault_id, vault_url, "cmk", None),
        RecoverKey(vault_id, vault_url, "cmk", None),
        RecoverVault(vault_id, "kv-cmk-demo", "westus2"),
        RecreateResourceGroup(sub, "rg-gone", "westus2"),
        AllowTrustedServices(vault_id),
        AllowOperatorIp(vault_id, "198.51.100.7", vault_url, "cmk"),
        RemoveOperatorIp(vault_id, "198.51.100.7"),
        EnablePurgeProtection(vault_id),
        AddAccessPolicy(vault_id, principal),
        GrantCryptoRole(vault_id, principal),
        CreateIdentity(sub, group, "id-new", "westus2"),
        AttachIdentityAndKey(cluster_id, identity_id, key_url),
        DeleteFailedCluster(cluster_id, cluster_id.rsplit("/", 1)[-1]),
    ]
    return {type(a).__name__: a for a in actions}


def _public_writes() -> list[str]:
    return sorted(t.__name__ for t in ACTION_TYPES)


@pytest.mark.parametrize("method", _public_writes())
def test_read_only_refuses_every_write_before_any_request(
    method: str, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("healthy", read_only=True)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    cluster = gateway.get_cluster(cluster_id)
    ref = gateway.find_vault("kv-cmk-demo")
    assert ref is not None
    assert cluster.key_identity_id
    assert cluster.key_url
    calls = _writer_calls(
        ref.id, "https://kv-cmk-demo.vault.azure.net/", cluster_id, cluster.key_identity_id, cluster.key_url
    )
    assert set(calls) == set(_public_writes()), "give every public write its arguments here"
    writer = gateway.writer(AuditLog(tmp_path / "audit.jsonl"))
    seen = len(backend.emulator.requests())
    with pytest.raises(ReadOnlyViolation):
        writer.apply(calls[method])
    assert backend.emulator.requests()[seen:] == []
    assert not (tmp_path / "audit.jsonl").exists()


def test_read_only_write_raises_before_any_request(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("key-disabled", read_only=True)
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    session = FixSession(gateway, cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    step = session.plan().steps[0]
    before = len(backend.emulator.requests())
    writer = gateway.writer(AuditLog(tmp_path / "audit.jsonl"))
    p = step.params
    with pytest.raises(ReadOnlyViolation):
        writer.apply(EnableKey(p["vault_id"], p["vault_url"], p["key_name"], p["version"]))
    assert len(backend.emulator.requests()) == before
    result = session.run(auto_confirm)
    assert [o.status for o in result.outcomes] == ["refused"]
    assert writes(backend.emulator) == []
    assert not (tmp_path / "audit.jsonl").exists()


@pytest.mark.parametrize("flags", [["--dry-run", "--yes"], ["--read-only", "--yes"]])
def test_dry_run_and_read_only_send_zero_writes(
    flags: list[str], emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("multi-fault", read_only="--read-only" in flags)
    out = io.StringIO()
    code = run_fix(
        fix_args("--all", "--audit-log", str(tmp_path / "a.jsonl"), *flags),
        lambda _: KeepOpen(backend),
        out=out,
    )
    assert code == 1
    text = out.getvalue()
    assert "extend-key-expiry" in text
    assert "allow-trusted-services" in text
    assert "grant-crypto-role" in text
    assert writes(backend.emulator) == []
    assert not (tmp_path / "a.jsonl").exists()


def test_each_step_twice_is_already_done(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("multi-fault")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    audit = AuditLog(tmp_path / "audit.jsonl")
    session = FixSession(gateway, cluster_id, audit=audit)
    steps = [s for s in session.plan().steps if s.writes]
    vault_id = next(s.params["vault_id"] for s in steps if s.remediation == "allow-trusted-services")
    vault_before = gateway.get_vault(vault_id)
    writer = gateway.writer(audit)
    for step in steps:
        first = session.apply(step, confirmation=True)
        assert first.status == "ok", first
        count = len(writes(backend.emulator))
        match step.action:
            case ExtendKeyExpiry() | AllowTrustedServices() | GrantCryptoRole():
                again = writer.apply(step.action)
            case other:
                raise AssertionError(other)
        assert again.status == "already-done", again
        assert len(writes(backend.emulator)) == count
    assert_audit_pairs(tmp_path / "audit.jsonl", backend.token())
    vault_after = gateway.get_vault(vault_id)
    assert vault_after.network_bypass == "AzureServices"
    assert vault_after.network_default_action == vault_before.network_default_action
    assert vault_after.ip_rules == vault_before.ip_rules
    assert vault_after.virtual_network_rules == vault_before.virtual_network_rules
    assert vault_after.public_network_access == vault_before.public_network_access


def test_access_policy_add_merges_and_keeps_other_entries(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("access-policy-revoked")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    session = FixSession(gateway, cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    step = session.plan().steps[0]
    assert step.remediation == "add-access-policy"
    before = gateway.get_vault(step.params["vault_id"])
    assert session.apply(step, confirmation="y").succeeded
    after = gateway.get_vault(step.params["vault_id"])
    principal = step.params["principal_id"].lower()

    def others(v: VaultFacts) -> set[tuple[str, frozenset[str]]]:
        return {
            (p.object_id, p.key_permissions) for p in v.access_policies if p.object_id.lower() != principal
        }

    assert others(after) == others(before)
    mine: set[str] = set()
    for p in after.access_policies:
        if p.object_id.lower() == principal:
            mine |= p.key_permissions
    assert {"get", "list", "wrapkey", "unwrapkey"} <= mine
    assert [r["path"].rsplit("/", 1)[-1] for r in writes(backend.emulator)] == ["add"]


def test_attach_and_enable_twice_are_already_done(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("healthy")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    cluster = gateway.get_cluster(cluster_id)
    assert cluster.key_url
    assert cluster.key_identity_id
    writer = gateway.writer(AuditLog(tmp_path / "audit.jsonl"))
    result = writer.apply(AttachIdentityAndKey(cluster_id, cluster.key_identity_id, cluster.key_url))
    assert result.status == "already-done"
    assert writes(backend.emulator) == []


def test_cli_fix_all_yes_writes_audit_and_report(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("key-disabled")
    token = backend.token()
    out = io.StringIO()
    code = run_fix(
        fix_args(
            "--all",
            "--yes",
            "--audit-log",
            str(tmp_path / "a.jsonl"),
            "--report",
            str(tmp_path / "incident.md"),
        ),
        lambda _: KeepOpen(backend),
        out=out,
    )
    assert code == 0, out.getvalue()
    assert "verdict  healthy" in out.getvalue()
    report = (tmp_path / "incident.md").read_text()
    assert "enable-key" in report
    assert "## Timeline" in report
    assert token not in report
    assert "bearer" not in report.lower()
    records = assert_audit_pairs(tmp_path / "a.jsonl", token)
    assert all(r["id"] in report for r in records)


def test_yes_alone_never_types_a_confirmation(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    """`fix --all --yes` on a failed cluster fixes the causes, then stops BEFORE deleting it."""
    backend = emulator_backend("provisioning-failed")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    out = io.StringIO()
    code = run_fix(
        fix_args("--all", "--yes", "--audit-log", str(tmp_path / "a.jsonl")),
        lambda _: KeepOpen(backend),
        out=out,
    )
    text = out.getvalue()
    assert code == 1, text
    assert not [r for r in writes(backend.emulator) if r["method"] == "DELETE"]
    assert cluster_id in backend.emulator.health()["clusters"]
    name = cluster_id.rsplit("/", 1)[-1]
    assert f"stopped: not done: delete-failed-cluster on {name}" in text
    assert f"--confirm-name {name}" in text
    records = read_audit(tmp_path / "a.jsonl")
    assert "delete-failed-cluster" not in {r.get("remediation") for r in records}


@pytest.mark.parametrize(
    ("names", "deleted"),
    [(["--confirm-name", "{name}"], True), (["--confirm-name", "not-the-cluster"], False)],
)
def test_confirm_name_types_the_confirmation(
    names: list[str], deleted: bool, emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("provisioning-failed")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    name = cluster_id.rsplit("/", 1)[-1]
    out = io.StringIO()
    code = run_fix(
        fix_args(
            "--all", "--yes", "--audit-log", str(tmp_path / "a.jsonl"), *[n.format(name=name) for n in names]
        ),
        lambda _: KeepOpen(backend),
        out=out,
    )
    deletes = [r for r in writes(backend.emulator) if r["method"] == "DELETE"]
    assert bool(deletes) is deleted, out.getvalue()
    assert code == (0 if deleted else 1)


def test_typed_confirmation_from_stdin_without_yes(emulator_backend: BackendFactory, tmp_path: Path) -> None:
    backend = emulator_backend("provisioning-failed")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    name = cluster_id.rsplit("/", 1)[-1]
    out = io.StringIO()

    class Operator(io.StringIO):
        """Answers y to each y/N prompt and types the name where it is asked for."""

        # typeshed types _io._IOBase.readline as returning bytes; its own _TextIOBase (StringIO's
        # base) overrides it with this same ignore, as must any text stream that answers lines.
        def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
            return f"{name}\n" if "type the name" in out.getvalue().rsplit("\n", 1)[-1] else "y\n"

    code = run_fix(
        fix_args("--all", "--audit-log", str(tmp_path / "a.jsonl")),
        lambda _: KeepOpen(backend),
        stdin=Operator(),
        out=out,
    )
    assert f"type the name {name!r}" in out.getvalue()
    assert [r for r in writes(backend.emulator) if r["method"] == "DELETE"], out.getvalue()
    assert code == 0


def test_cli_fix_asks_and_refuses_without_stdin(
    emulator_backend: BackendFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["fix", "--scenario", "key-disabled", "--all", "--audit-log", str(tmp_path / "a.jsonl")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--yes" in err
    backend = emulator_backend("key-disabled")
    out = io.StringIO()
    code = run_fix(
        fix_args("--all", "--audit-log", str(tmp_path / "b.jsonl")),
        lambda _: KeepOpen(backend),
        stdin=io.StringIO("y\n"),
        out=out,
    )
    assert code == 0, out.getvalue()
    assert "[y/N]" in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["fix", "--scenario", "key-expired", "--finding", "NOPE"], "unknown finding"),
        (["fix", "--scenario", "key-expired", "--finding", "KEY_DISABLED"], "not present"),
    ],
)
def test_cli_fix_bad_finding_is_one_line_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert len(err.strip().splitlines()) == 1


def test_cli_fix_needs_finding_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fix", "--scenario", "key-expired"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--finding" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_fix_one_finding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        [
            "fix",
            "--scenario",
            "vault-soft-deleted",
            "--finding",
            "VAULT_SOFT_DELETED",
            "--yes",
            "--audit-log",
            str(tmp_path / "a.jsonl"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.index("recover-vault") < out.rindex("grant-crypto-role")


def test_watch_exit_codes(capsys: pytest.CaptureFixture[str], emulator_backend: BackendFactory) -> None:
    assert main(["watch", "--scenario", "healthy"]) == 0
    assert "Ready" in capsys.readouterr().out
    backend = emulator_backend("key-expired")
    out = io.StringIO()
    code = run_watch(
        build_parser().parse_args(["watch", "--scenario", "x", "--wait-timeout", "0.3"]),
        lambda _: KeepOpen(backend),
        out=out,
    )
    assert code == 1  # the key is still expired: no wait at all, it says why (issue 12 item 1)
    assert "no wait for Ready" in out.getvalue()
    assert "KEY_EXPIRED (present" in out.getvalue()
    assert "waiting: cluster" not in out.getvalue()
