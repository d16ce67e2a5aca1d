"""A fix never makes a cluster worse, end to end through the real SDK against the emulator.

Warnings on a healthy cluster are fixed only when named; a versionless key URL only when its
newest version is usable; a key write only on the version the cluster uses. The emulator's own
verdict and its request log are the judges.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.conftest import BackendFactory, until
from tests.remediation.test_fix_scenarios import writes
from tests.remediation.test_safety import KeepOpen, fix_args
from wizard.cli import main
from wizard.cli.fix import run_fix
from wizard.cli.wiring import EmulatorBackend
from wizard.emulator.model import State

PINNED = "6b1f0e8c2d4a4e7f9a3c5b7d9e1f2a4c"
"""The older version the built-in key-url-pinned-newest-disabled cluster is pinned to."""

PINNED_WITH_WARNINGS = """
name: pinned-with-warnings
identities: [{name: id-cmk}]
vaults:
  - name: kv-warned
    purgeProtection: false
    keys:
      - name: cmk
        expires: +365d
        olderVersions:
          - {version: 0123456789abcdef0123456789abcdef, expires: +10d}
clusters:
  - name: cluster-warned
    identities: [id-cmk]
    encryption: {identity: id-cmk, vault: kv-warned, key: cmk, version: 0123456789abcdef0123456789abcdef}
roleAssignments:
  - {principal: id-cmk, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-warned"}
"""


def run_cli(
    backend_factory: BackendFactory, scenario: str, tmp_path: Path, *args: str
) -> tuple[int, str, EmulatorBackend]:
    """`cmk-wizard fix` on the scenario, the emulator kept running for the assertions."""
    backend = backend_factory(scenario)
    out = io.StringIO()
    audit = ("--audit-log", str(tmp_path / "audit.jsonl"))
    code = run_fix(fix_args(*args, *audit), lambda _: KeepOpen(backend), out=out)
    return code, out.getvalue(), backend


def test_a_pinned_cluster_whose_newest_version_is_disabled_is_left_alone(
    emulator_backend: BackendFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The held-out case: healthy, pinned to an enabled older version, newest disabled on purpose.
    No step under --all, nothing offered when named, nothing written either way."""
    assert main(["diagnose", "--scenario", "key-url-pinned-newest-disabled", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    versioned = next(f for f in report["findings"] if f["code"] == "CLUSTER_KEY_URL_VERSIONED")
    assert versioned["severity"] == "warning"
    assert versioned["remediations"] == []
    assert "disabled" in versioned["summary"]
    assert "disabled" in versioned["evidence"]["versionlessNotOffered"]
    newest = next(c for c in report["checks"] if c["id"] == "key.newest")
    assert newest["status"] == "fail"

    code, text, _ = run_cli(
        emulator_backend, "key-url-pinned-newest-disabled", tmp_path, "--all", "--dry-run"
    )
    assert code == 0
    assert "nothing to fix" in text
    assert "y/N" not in text
    assert "CLUSTER_KEY_URL_VERSIONED" in text

    for args in (("--all", "--yes"), ("--finding", "CLUSTER_KEY_URL_VERSIONED", "--yes")):
        code, text, backend = run_cli(emulator_backend, "key-url-pinned-newest-disabled", tmp_path, *args)
        assert code == 0, text
        assert writes(backend.emulator) == [], args
        cluster_id = backend.default_cluster_id() or ""
        health = backend.emulator.health()["clusters"][cluster_id]
        assert health["status"] == "Ready"
        assert backend.emulator.mutate(lambda s: s.clusters[0].key_url).endswith(f"/{PINNED}")
    assert "not offered" in text
    assert "enable-key" not in text
    assert not (tmp_path / "audit.jsonl").exists()


def estate_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "estate.yaml"
    path.write_text(text)
    return str(path)


def test_a_named_versioned_url_moves_only_to_a_usable_newest_version(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Newest version enabled and in date: `--finding CLUSTER_KEY_URL_VERSIONED` moves the cluster
    (one PATCH) and it stays Ready; `--all` on the same healthy cluster writes nothing."""
    estate = estate_file(
        tmp_path, PINNED_WITH_WARNINGS.replace("purgeProtection: false", "purgeProtection: true")
    )
    code, text, backend = run_cli(emulator_backend, estate, tmp_path, "--all", "--yes")
    assert code == 0, text
    assert writes(backend.emulator) == []
    code, text, backend = run_cli(
        emulator_backend, estate, tmp_path, "--finding", "CLUSTER_KEY_URL_VERSIONED", "--yes"
    )
    assert code == 0, text
    emulator = backend.emulator
    assert [(r["method"], r["kind"]) for r in writes(emulator)] == [("PATCH", "clusters")]
    cluster_id = backend.default_cluster_id() or ""
    assert until(lambda: emulator.health()["clusters"][cluster_id]["status"] == "Ready")
    assert emulator.mutate(lambda s: s.clusters[0].key_url) == "https://kv-warned.vault.azure.net/keys/cmk"


def test_fix_all_on_a_healthy_cluster_writes_nothing_for_its_warnings(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Versioned URL, a key expiring in 10 days, purge protection off: all warnings, no cause."""
    estate = estate_file(tmp_path, PINNED_WITH_WARNINGS)
    code, text, backend = run_cli(
        emulator_backend, estate, tmp_path, "--all", "--yes", "--confirm-name", "kv-warned"
    )
    assert code == 0, text
    assert writes(backend.emulator) == []
    for finding in ("CLUSTER_KEY_URL_VERSIONED", "KEY_EXPIRING_SOON", "VAULT_PURGE_PROTECTION_OFF"):
        assert finding in text
    assert "warnings are fixed only when you name one" in text


def test_a_named_warning_changes_only_the_key_version_in_use(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """KEY_EXPIRING_SOON on a pinned cluster extends the pinned version, never the newest."""
    estate = estate_file(tmp_path, PINNED_WITH_WARNINGS)
    code, text, backend = run_cli(
        emulator_backend, estate, tmp_path, "--finding", "KEY_EXPIRING_SOON", "--yes"
    )
    assert code == 0, text
    # the first data-plane request is the anonymous one the vault answers with its 401 challenge
    key_writes = {(r["method"], r["path"]) for r in writes(backend.emulator)}
    assert key_writes == {("PATCH", "/keys/cmk/0123456789abcdef0123456789abcdef")}

    def expiries(state: State) -> list[int | None]:
        return [v.expires for v in state.vaults[0].keys["cmk"].versions]

    older, newest = backend.emulator.mutate(expiries)
    assert older is not None
    assert newest is not None
    assert older > newest - 30 * 86_400


def test_an_unsupported_key_in_use_is_a_cause_escalated_with_nothing_written(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    code, text, _ = run_cli(emulator_backend, "key-type-unsupported", tmp_path, "--all", "--yes")
    assert code == 1
    assert "ESCALATE KEY_TYPE_UNSUPPORTED" in text
    assert "new RSA or RSA-HSM key" in text
    assert "point the cluster at it" in text
    assert not (tmp_path / "audit.jsonl").exists()
