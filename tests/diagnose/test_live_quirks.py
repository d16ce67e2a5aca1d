"""What real Azure does that the happy path does not: pinned key versions, a lagging Resource Graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BackendFactory
from wizard.emulator.model import State
from wizard.engine.assess import critical_causes
from wizard.run.diagnose import diagnose

TWO_VERSIONS = """
name: pinned
identities: [{name: id-cmk-demo}]
vaults:
  - name: kv-pinned
    keys: [{name: cmk, size: 4096, olderVersions: 1}]
clusters:
  - name: cluster-pinned
    identities: [id-cmk-demo]
    encryption: {identity: id-cmk-demo, vault: kv-pinned, key: cmk}
roleAssignments:
  - {principal: id-cmk-demo, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-pinned"}
"""


@pytest.mark.parametrize(("disable", "causes"), [("latest", set()), ("pinned", {"KEY_DISABLED"})])
def test_the_pinned_version_is_judged_not_the_latest(
    tmp_path: Path, emulator_backend: BackendFactory, disable: str, causes: set[str]
) -> None:
    estate = tmp_path / "pinned.yaml"
    estate.write_text(TWO_VERSIONS)
    backend = emulator_backend(str(estate))
    cluster_id = backend.default_cluster_id()
    assert cluster_id

    def pin_to_older(state: State) -> None:
        key = state.vaults[0].keys["cmk"]
        older, latest = key.versions[0], key.versions[-1]
        state.clusters[0].key_url = f"https://kv-pinned.vault.azure.net/keys/cmk/{older.version}"
        (latest if disable == "latest" else older).enabled = False

    backend.emulator.mutate(pin_to_older)
    result = diagnose(backend.connect(), cluster_id)
    assert backend.emulator.health()["clusters"][cluster_id]["canUseKey"] is (not causes)
    assert critical_causes(result.findings) == causes
    assert "CLUSTER_KEY_URL_VERSIONED" in {f.code for f in result.findings}


def test_a_lagging_resource_graph_falls_back_to_arm(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("healthy")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    backend.emulator.set_faults(restrictions=["stale-resource-graph"])
    result = diagnose(backend.connect(), cluster_id)
    assert result.verdict == "healthy"
    listed = [
        r
        for r in backend.emulator.requests()
        if r["method"] == "GET" and r["path"].split("?")[0].endswith("/Microsoft.KeyVault/vaults")
    ]
    assert len(listed) == 1


ELSEWHERE = """
name: deleted-elsewhere
identities: [{name: id-cmk-demo}]
vaults:
  - {name: kv-elsewhere, location: eastus, deleted: -1d, keys: [{name: cmk, size: 4096}]}
clusters:
  - name: cluster-elsewhere
    identities: [id-cmk-demo]
    encryption: {identity: id-cmk-demo, vault: kv-elsewhere, key: cmk}
"""


def test_a_vault_deleted_in_another_region_is_found_recoverable(
    tmp_path: Path, emulator_backend: BackendFactory
) -> None:
    estate = tmp_path / "elsewhere.yaml"
    estate.write_text(ELSEWHERE)
    backend = emulator_backend(str(estate))
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    result = diagnose(backend.connect(), cluster_id)
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    finding = next(f for f in result.findings if f.code == "VAULT_SOFT_DELETED")
    assert "kv-elsewhere" in finding.evidence["vaultId"]
