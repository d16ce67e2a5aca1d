"""The Fix screen on a vault that refuses the operator's network, by keyboard, through the real SDK:
the warning before the step, the network advice after the 403, the temporary rule typed, the rule
removed; leaving with the rule open is warned about first."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from screens.app import WizardApp
from screens.confirm import ConfirmStepScreen
from screens.fix import RemediationScreen
from tests.conftest import BackendFactory
from tests.ui.helpers import shown, until
from tests.ui.test_remediation import open_fix, top
from wizard.cli.wiring import EmulatorBackend

VAULT = "kv-cmk-demo"
OPERATOR_IP = "198.51.100.7"


def rules(backend: EmulatorBackend) -> list[str]:
    sub = backend.emulator.connection["subscriptionId"]
    vault_id = f"/subscriptions/{sub}/resourceGroups/rg-cmk-demo/providers/Microsoft.KeyVault/vaults/{VAULT}"
    return list(backend.connect().get_vault(vault_id).ip_rules)


async def apply_next(pilot: Pilot[int], screen: RemediationScreen, *keys: str) -> None:
    """a, then the confirmation keys; wait for the outcome and the fresh plan."""
    done = len(screen.outcomes)
    await pilot.press("a")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmStepScreen))
    await pilot.press(*keys)
    await until(pilot, lambda: len(screen.outcomes) > done and not screen.busy)


async def test_the_firewall_refusal_is_explained_and_fixed_by_keyboard(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("operator-network-denied")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=tmp_path / "audit.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        preview = shown(app, "#fix-detail")
        assert "Your network: the vault may refuse this" in preview
        assert "may be refused" in preview
        await apply_next(pilot, screen, "y")
        assert screen.outcomes[0].status == "error"
        result = shown(app, "#fix-detail")
        assert f"refused your address {OPERATOR_IP}" in result
        assert "not your permission" in result
        upcoming = screen.next_step()
        assert upcoming is not None
        assert upcoming.remediation == "allow-operator-ip"
        await apply_next(pilot, screen, *VAULT, "enter")
        assert screen.outcomes[-1].status == "ok"
        assert rules(backend) == ["203.0.113.0/24", f"{OPERATOR_IP}/32"]
        # leaving now is warned about: the rule is open
        await pilot.press("escape")
        await pilot.pause()
        assert top(app) is screen
        await apply_next(pilot, screen, "y")
        assert screen.outcomes[-1].step.remediation == "extend-key-expiry"
        assert screen.outcomes[-1].status == "ok"
        step = screen.next_step()
        assert step is not None
        assert step.remediation == "remove-operator-ip"
        await apply_next(pilot, screen, "y")
        assert screen.outcomes[-1].status == "ok"
        assert rules(backend) == ["203.0.113.0/24"]
        assert screen.session is not None
        assert screen.session.carry.open_rules == ()


async def test_my_ip_plans_the_rule_first_and_escape_twice_leaves_it_for_the_next_fix(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend("operator-network-denied")
    audit = tmp_path / "audit.jsonl"
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), audit_path=audit, my_ip=OPERATOR_IP)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_fix(pilot)
        assert screen.plan is not None
        assert [s.remediation for s in screen.plan.steps][:3] == [
            "allow-operator-ip",
            "extend-key-expiry",
            "remove-operator-ip",
        ]
        assert f"type the name {VAULT}" in shown(app, "#fix-detail")
        await apply_next(pilot, screen, *VAULT, "enter")
        await pilot.press("escape")
        await pilot.pause()
        assert top(app) is screen, "the first escape only warns"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RemediationScreen))
    assert rules(backend) == ["203.0.113.0/24", f"{OPERATOR_IP}/32"]
    from wizard.run.audit import pending_undos

    assert [r["undo"]["address"] for r in pending_undos(audit)] == [OPERATOR_IP]
