"""Reads that catch up: right after a key recover the key is 404 for a few seconds (recorded on the
data plane; `timing.keyLagSeconds`), and after a vault recovery its data plane answers only after
`vaultRecoverLagSeconds`. The fix's verification reads again with a deadline rather than calling a
just-recovered key missing. Real SDK against the emulator."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BackendFactory
from tests.emulator.conftest import RG, VAULT, make_clients, raw
from tests.emulator.test_lifecycle import Clock
from tests.estates import scenario_with
from wizard.domain.results import VerificationStatus
from wizard.emulator import Emulator
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession

KV_API = "?api-version=2025-07-01"


def _estate(tmp_path: Path, scenario: str, **timing: float) -> str:
    return scenario_with(tmp_path, scenario, timing=timing)


def test_a_just_recovered_key_is_verified_once_the_reads_catch_up(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(_estate(tmp_path, "key-soft-deleted", keyLagSeconds=0.6))
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    told: list[str] = []
    session = FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))
    session.on_notice = told.append
    result = session.run(auto_confirm)
    recovered = next(o for o in result.outcomes if o.step.remediation == "recover-key")
    assert recovered.verification is not None
    assert recovered.verification.status == VerificationStatus.VERIFIED, recovered.verification.detail
    assert any("does not show the change yet" in t for t in told), told
    assert not result.stopped, result.stopped
    assert result.final.verdict == "healthy"
    assert not [o for o in result.outcomes if o.step.kind == "escalate"]


def test_a_recovered_vaults_data_plane_answers_only_after_its_lag() -> None:
    clock = Clock()
    with Emulator("vault-soft-deleted", vault_recover_lag_seconds=10, clock=clock) as emu:
        c = make_clients(emu)
        body = {
            "location": "westus2",
            "properties": {
                "createMode": "recover",
                "tenantId": emu.connection["tenantId"],
                "sku": {"family": "A", "name": "standard"},
            },
        }
        vault_url = f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}"
        assert raw(c, "PUT", vault_url + "?api-version=2026-05-15", body)[0] == 200
        data_plane = emu.vault_endpoint(VAULT)
        status, _, error = raw(c, "GET", f"{data_plane}/keys/cmk/{KV_API}")
        assert status == 404
        assert isinstance(error, dict)
        assert error["error"]["code"] == "VaultNotFound"
        clock.now += 10
        assert raw(c, "GET", f"{data_plane}/keys/cmk/{KV_API}")[0] == 200
