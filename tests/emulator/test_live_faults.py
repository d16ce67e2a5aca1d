"""Live faults a trainer applies to a running emulator: each breaks the cluster the way its finding
says (the wizard's own diagnosis through the real SDK names it), and undo puts back only what it
changed; over HTTP the admin door wants the token."""

from __future__ import annotations

import pytest

from tests.conftest import BackendFactory
from tests.emulator.conftest import admin
from wizard.emulator import Emulator
from wizard.emulator.live_faults import LIVE_FAULTS, LiveFaultError
from wizard.run.diagnose import diagnose

RBAC_FAULTS = sorted(name for name in LIVE_FAULTS if name != "access-policy-removed")


def _healthy(emu: Emulator) -> bool:
    return all(c["canUseKey"] for c in emu.health()["clusters"].values())


@pytest.mark.parametrize("name", RBAC_FAULTS)
def test_each_fault_leads_to_its_finding_and_undo_heals(emulator_backend: BackendFactory, name: str) -> None:
    backend = emulator_backend("healthy")
    emu = backend.emulator
    cluster = backend.default_cluster_id()
    assert cluster is not None
    assert _healthy(emu)
    change = emu.apply_live_fault(name)
    assert change["cluster"] == cluster
    assert not _healthy(emu)
    codes = {f.code for f in diagnose(backend.connect(), cluster).findings}
    assert LIVE_FAULTS[name].finding in codes
    emu.undo_live_fault(change["id"])
    assert _healthy(emu)
    assert diagnose(backend.connect(), cluster).exit_code == 0


def test_access_policy_fault_on_an_access_policy_vault(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("access-policy-revoked")
    emu = backend.emulator
    with pytest.raises(LiveFaultError, match="uses access policies"):
        emu.apply_live_fault("role-removed")  # not an RBAC vault

    def policies() -> int:
        return int(emu.mutate(lambda state: sum(len(v.access_policies) for v in state.vaults)))

    before = policies()
    change = emu.apply_live_fault("access-policy-removed")
    assert policies() == before - 1
    emu.undo_live_fault(change["id"])
    assert policies() == before
    with pytest.raises(LiveFaultError, match="RBAC"):
        Emulator("healthy").apply_live_fault("access-policy-removed")


def test_undo_keeps_what_the_trainee_changed_in_between() -> None:
    emu = Emulator("healthy")
    first = emu.apply_live_fault("key-expired")
    second = emu.apply_live_fault("key-disabled")
    emu.undo_live_fault(first["id"])
    assert not _healthy(emu)  # the key is still disabled
    emu.undo_live_fault(second["id"])
    assert _healthy(emu)
    with pytest.raises(LiveFaultError, match="no change 2"):
        emu.undo_live_fault(second["id"])
    changes = emu.live_faults()["changes"]
    assert [c["fault"] for c in changes] == ["key-expired", "key-disabled"]
    assert all(c["undoneAt"] is not None for c in changes)


def test_a_vault_delete_shows_in_the_activity_log_by_the_trainer() -> None:
    emu = Emulator("healthy")
    emu.apply_live_fault("vault-deleted")
    operations = emu.mutate(lambda state: [(a.operation, a.caller) for a in state.activity])
    assert ("Microsoft.KeyVault/vaults/delete", "trainer@emulator.local") in operations


def test_the_admin_door_applies_and_undoes() -> None:
    with Emulator("healthy", token="live-fault-token") as emu:
        status, listing = admin(emu, "/_emulator/live-faults")
        assert status == 200
        assert {f["name"] for f in listing["faults"]} == set(LIVE_FAULTS)
        status, change = admin(emu, "/_emulator/live-faults", {"apply": "firewall-closed"})
        assert status == 200
        assert change["finding"] == "VAULT_FIREWALL_BLOCKS_SERVICE"
        assert not _healthy(emu)
        status, error = admin(emu, "/_emulator/live-faults", {"apply": "no-such-fault"})
        assert status == 400
        assert "no live fault named" in error["error"]["message"]
        status, error = admin(emu, "/_emulator/live-faults", {"undo": "1"})
        assert status == 400
        status, undone = admin(emu, "/_emulator/live-faults", {"undo": change["id"]})
        assert status == 200
        assert undone["undoneAt"] is not None
        assert _healthy(emu)
