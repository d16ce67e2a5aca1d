"""The operator's own network, through the real SDK against the emulator: the plan warns before a
data-plane step the vault will refuse, a temporary /32 rule (typed) gets the fix through and is
removed afterwards (also after a failure or an interruption), advice by the 403's inner code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory, until
from wizard.cli import main
from wizard.cli.wiring import EmulatorBackend
from wizard.domain.errors import Forbidden
from wizard.domain.results import ConfirmKind, OutcomeStatus
from wizard.engine.steps import Step
from wizard.run.audit import AuditLog, pending_undos, read_audit
from wizard.run.confirmation import Answer, auto_confirm
from wizard.run.fix import FixSession

SCENARIO = "operator-network-denied"
OPERATOR_IP = "198.51.100.7"
RULE = f"{OPERATOR_IP}/32"
VAULT = "kv-cmk-demo"
ORIGINAL_RULES = ["203.0.113.0/24"]
CONFIRM = {VAULT}

PRIVATE_VAULT = """
name: private-vault-expired-key
operator: {ip: 198.51.100.7}
identities: [{name: id-cmk}]
vaults:
  - name: kv-private
    publicNetworkAccess: Disabled
    keys: [{name: cmk, expires: -1d}]
clusters:
  - name: cluster-private
    identities: [id-cmk]
    encryption: {identity: id-cmk, vault: kv-private, key: cmk}
roleAssignments:
  - {principal: id-cmk, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-private"}
"""

DISABLED_BEHIND_FIREWALL = """
name: disabled-behind-firewall
operator: {ip: 198.51.100.7}
identities: [{name: id-cmk}]
vaults:
  - name: kv-walled
    networkAcls: {defaultAction: Deny, ipRules: [203.0.113.0/24]}
    keys: [{name: cmk, enabled: false, expires: +365d}]
clusters:
  - name: cluster-walled
    identities: [id-cmk]
    encryption: {identity: id-cmk, vault: kv-walled, key: cmk}
roleAssignments:
  - {principal: id-cmk, role: Key Vault Crypto Service Encryption User, scope: "vault:kv-walled"}
"""


def session(backend: EmulatorBackend, audit: Path, operator_ip: str | None = None) -> FixSession:
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    return FixSession(
        backend.connect(),
        cluster_id,
        audit=AuditLog(audit, secrets=[backend.token()]),
        operator_ip=operator_ip,
    )


def vault_rules(backend: EmulatorBackend, name: str = VAULT) -> list[str]:
    """The vault's IP rules as ARM reads them now."""
    sub = backend.emulator.connection["subscriptionId"]
    vault_id = f"/subscriptions/{sub}/resourceGroups/rg-cmk-demo/providers/Microsoft.KeyVault/vaults/{name}"
    return list(backend.connect().get_vault(vault_id).ip_rules)


def writes(backend: EmulatorBackend) -> list[dict[str, Any]]:
    return [r for r in backend.emulator.requests() if r["write"]]


def yes_and_vault(step: Step) -> Answer:
    return auto_confirm(step, CONFIRM)


def results(audit: Path) -> list[tuple[str, str]]:
    return [(r["remediation"], r["result"]) for r in read_audit(audit) if r["phase"] == "after"]


def estate(tmp_path: Path, text: str) -> str:
    path = tmp_path / "estate.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- the preview says it before the step --------------------------------------------------------


def test_the_preview_warns_before_the_key_step_and_offers_a_rule_only_for_a_known_address(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    unknown = session(backend, tmp_path / "a.jsonl").plan()
    assert [s.remediation for s in unknown.steps] == ["extend-key-expiry", "wait-for-ready"]
    warning = unknown.steps[0].network
    assert "may be refused (ForbiddenByFirewall)" in warning
    assert "--my-ip" in warning
    known = session(backend, tmp_path / "b.jsonl", OPERATOR_IP).plan()
    assert [s.remediation for s in known.steps] == [
        "allow-operator-ip",
        "extend-key-expiry",
        "remove-operator-ip",
        "wait-for-ready",
    ]
    allow, extend, remove = known.steps[:3]
    assert f"your address {OPERATOR_IP} is in none of its ipRules (203.0.113.0/24)" in extend.network
    assert "will be refused (ForbiddenByFirewall)" in extend.network
    assert (allow.confirm, allow.confirm_text) == (ConfirmKind.TYPED, VAULT)
    assert allow.after == {"ipRules": [*ORIGINAL_RULES, RULE]}
    assert remove.after == {"ipRules": ORIGINAL_RULES}
    assert "--ip-address 198.51.100.7/32" in allow.az
    assert remove.confirm == ConfirmKind.YES
    assert writes(backend) == []


def test_a_listed_address_gets_no_warning_and_no_rule(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    plan = session(backend, tmp_path / "a.jsonl", "203.0.113.9").plan()
    assert [s.remediation for s in plan.steps] == ["extend-key-expiry", "wait-for-ready"]
    assert plan.steps[0].network == ""


# -- end to end ---------------------------------------------------------------------------------


def test_fix_all_with_my_ip_reaches_ready_and_leaves_the_rules_as_they_were(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"
    during: list[list[str]] = []

    def confirm(step: Step) -> Answer:
        if step.remediation == "extend-key-expiry":
            during.append(vault_rules(backend))
        return yes_and_vault(step)

    result = session(backend, audit, OPERATOR_IP).run(confirm)
    assert not result.stopped, result.stopped
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("allow-operator-ip", "ok"),
        ("extend-key-expiry", "ok"),
        ("remove-operator-ip", "ok"),
        ("wait-for-ready", "ready"),
    ], "the rule is gone before the wait: the cluster revalidates through the trusted-services bypass"
    assert during == [[*ORIGINAL_RULES, RULE]], "exactly one /32 added, the existing rule kept"
    assert vault_rules(backend) == ORIGINAL_RULES
    assert result.outcomes[0].verification is not None
    assert result.outcomes[0].verification.status == "verified"
    assert "data plane reachable" in result.outcomes[0].verification.detail
    cluster_id = backend.default_cluster_id() or ""
    assert until(lambda: backend.emulator.health()["clusters"][cluster_id]["status"] == "Ready")
    assert result.exit_code == 0
    records = read_audit(audit)
    allow = next(r for r in records if r["phase"] == "after" and r["remediation"] == "allow-operator-ip")
    assert allow["undo"] == {
        "remediation": "remove-operator-ip",
        "vaultId": allow["target"],
        "address": OPERATOR_IP,
    }
    removal = next(r for r in records if r["phase"] == "after" and r["remediation"] == "remove-operator-ip")
    assert removal["undoes"] == allow["intent"]
    assert pending_undos(audit) == []
    patches = [r for r in writes(backend) if r["kind"] == "vaults"]
    assert [r["status"] for r in patches] == [200, 200]


def test_without_my_ip_the_403_names_the_address_and_the_fix_goes_on(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"
    result = session(backend, audit).run(yes_and_vault)
    refused, *rest = result.outcomes
    assert (refused.step.remediation, refused.status) == ("extend-key-expiry", OutcomeStatus.ERROR)
    assert "ForbiddenByFirewall" in refused.message
    assert f"refused your address {OPERATOR_IP} (ForbiddenByFirewall)" in refused.advice
    assert "not your permission" in refused.advice
    assert "Crypto Officer" not in refused.advice
    assert [(o.step.remediation, o.status) for o in rest] == [
        ("allow-operator-ip", "ok"),
        ("extend-key-expiry", "ok"),
        ("remove-operator-ip", "ok"),
        ("wait-for-ready", "ready"),
    ]
    assert not result.stopped
    assert vault_rules(backend) == ORIGINAL_RULES
    assert result.exit_code == 0


def test_cli_fix_all_yes_my_ip(emulator_backend: BackendFactory, tmp_path: Path, capsys: Any) -> None:
    """`fix --all --yes --my-ip ... --confirm-name <vault>` end to end, through the command line."""
    audit = tmp_path / "audit.jsonl"
    code = main(
        [
            "fix",
            "--scenario",
            SCENARIO,
            "--all",
            "--yes",
            "--my-ip",
            OPERATOR_IP,
            "--confirm-name",
            VAULT,
            "--audit-log",
            str(audit),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "NETWORK:    vault kv-cmk-demo's firewall denies by default" in out
    assert "verdict  healthy" in out
    assert results(audit) == [
        ("allow-operator-ip", "ok"),
        ("extend-key-expiry", "ok"),
        ("remove-operator-ip", "ok"),
    ]


def test_yes_alone_stops_before_opening_the_firewall_and_says_how(
    emulator_backend: BackendFactory, tmp_path: Path, capsys: Any
) -> None:
    code = main(["fix", "--scenario", SCENARIO, "--all", "--yes", "--audit-log", str(tmp_path / "a.jsonl")])
    out = capsys.readouterr().out
    assert code == 1
    assert "not done: allow-operator-ip on kv-cmk-demo" in out
    assert f"--confirm-name {VAULT} --my-ip {OPERATOR_IP}" in out
    assert results(tmp_path / "a.jsonl") == [("extend-key-expiry", "error")]


def test_a_wrong_address_is_corrected_from_the_403_and_both_rules_go(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    result = session(backend, tmp_path / "audit.jsonl", "192.0.2.44").run(yes_and_vault)
    done = [
        (o.step.remediation, o.status, o.step.action.subject if o.step.action else "")
        for o in result.outcomes
    ]
    assert done[:4] == [
        ("allow-operator-ip", "ok", "192.0.2.44"),
        ("extend-key-expiry", "error", ""),
        ("allow-operator-ip", "ok", OPERATOR_IP),
        ("extend-key-expiry", "ok", ""),
    ]
    assert sorted(done[4:6]) == [
        ("remove-operator-ip", "ok", "192.0.2.44"),
        ("remove-operator-ip", "ok", OPERATOR_IP),
    ]
    assert done[6:] == [("wait-for-ready", "ready", "")], "the wait comes after both rules are gone"
    assert vault_rules(backend) == ORIGINAL_RULES
    assert result.exit_code == 0


def test_a_disabled_key_behind_the_firewall_is_enabled_through_the_rule(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """The probe after adding the rule reads the key: 200 with enabled false means the network is open."""
    backend = emulator_backend(estate(tmp_path, DISABLED_BEHIND_FIREWALL))
    result = session(backend, tmp_path / "audit.jsonl", OPERATOR_IP).run(
        lambda s: auto_confirm(s, {"kv-walled"})
    )
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("allow-operator-ip", "ok"),
        ("enable-key", "ok"),
        ("remove-operator-ip", "ok"),
        ("wait-for-ready", "ready"),
    ]
    assert result.outcomes[0].after["dataPlane"] == "reachable"
    assert vault_rules(backend, "kv-walled") == ORIGINAL_RULES
    assert result.exit_code == 0


# -- the network is not the permission ----------------------------------------------------------


def test_public_access_disabled_offers_no_rule_and_says_private_endpoint(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(estate(tmp_path, PRIVATE_VAULT))
    fix = session(backend, tmp_path / "audit.jsonl", OPERATOR_IP)
    plan = fix.plan()
    assert [s.remediation for s in plan.steps] == ["extend-key-expiry", "wait-for-ready"]
    assert "ForbiddenByConnection" in plan.steps[0].network
    assert "an IP rule does not change that" in plan.steps[0].network
    result = fix.run(auto_confirm)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [("extend-key-expiry", "error")]
    advice = result.outcomes[0].advice
    assert "(ForbiddenByConnection)" in advice
    assert "private endpoint" in advice
    assert "offers none" in advice
    assert [r for r in writes(backend) if r["kind"] == "vaults"] == [], "no firewall change offered"
    assert result.exit_code == 1


def test_a_missing_data_plane_role_after_the_rule_is_the_permission_and_the_rule_still_goes(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    backend.emulator.set_faults(restrictions=["deny:data-plane"])
    audit = tmp_path / "audit.jsonl"
    result = session(backend, audit, OPERATOR_IP).run(yes_and_vault)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("allow-operator-ip", "ok"),
        ("extend-key-expiry", "error"),
        ("remove-operator-ip", "ok"),
    ]
    advice = result.outcomes[1].advice
    assert "you lack the permission for this write (ForbiddenByRbac)" in advice
    assert "Crypto Officer" in advice
    assert result.stopped == "extend-key-expiry: error"
    assert vault_rules(backend) == ORIGINAL_RULES
    assert pending_undos(audit) == []


def test_the_gateway_carries_the_inner_code_and_the_address(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend(SCENARIO)
    with pytest.raises(Forbidden) as err:
        backend.connect().get_deleted_key(f"https://{VAULT}.vault.azure.net", "cmk")
    assert err.value.inner_code == "ForbiddenByFirewall"
    assert err.value.code == "Forbidden/ForbiddenByFirewall"
    assert err.value.client_address == OPERATOR_IP
    assert "network access to the vault's data plane" in err.value.needs
    assert "Crypto Officer" not in err.value.needs


# -- interrupted, refused, read-only, dry run ---------------------------------------------------


def test_interrupted_after_the_rule_was_added_the_next_run_removes_it_first(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)
    audit = tmp_path / "audit.jsonl"

    def interrupt_at_the_key(step: Step) -> Answer:
        if step.remediation == "extend-key-expiry":
            raise KeyboardInterrupt
        return yes_and_vault(step)

    first = session(backend, audit, OPERATOR_IP)
    with pytest.raises(KeyboardInterrupt):
        first.run(interrupt_at_the_key)
    assert vault_rules(backend) == [*ORIGINAL_RULES, RULE]
    [left] = pending_undos(audit)
    assert left["undo"]["address"] == OPERATOR_IP

    second = session(backend, audit)
    plan = second.plan()
    assert [s.remediation for s in plan.steps] == ["remove-operator-ip"]
    assert any("an earlier run added 198.51.100.7/32" in n for n in plan.notes)
    assert any("removing it comes first" in e.text for e in second.timeline)
    result = second.run(yes_and_vault)
    assert result.outcomes[0].step.remediation == "remove-operator-ip"
    assert result.outcomes[0].status == OutcomeStatus.OK
    assert pending_undos(audit) == []
    removal = [
        r for r in read_audit(audit) if r["phase"] == "after" and r["remediation"] == "remove-operator-ip"
    ]
    assert removal[0]["undoes"] == left["intent"]
    # then the usual fix: refused, address learned, rule again, key, rule removed
    assert [o.step.remediation for o in result.outcomes[1:]] == [
        "extend-key-expiry",
        "allow-operator-ip",
        "extend-key-expiry",
        "remove-operator-ip",
        "wait-for-ready",
    ]
    assert vault_rules(backend) == ORIGINAL_RULES
    assert result.exit_code == 0


def test_declining_the_key_step_still_removes_the_rule(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    backend = emulator_backend(SCENARIO)

    def decline_the_key(step: Step) -> Answer:
        return "n" if step.remediation == "extend-key-expiry" else yes_and_vault(step)

    result = session(backend, tmp_path / "audit.jsonl", OPERATOR_IP).run(decline_the_key)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("allow-operator-ip", "ok"),
        ("extend-key-expiry", "declined"),
        ("remove-operator-ip", "ok"),
    ]
    assert vault_rules(backend) == ORIGINAL_RULES


def test_read_only_and_dry_run_send_no_write(
    emulator_backend: BackendFactory, tmp_path: Path, capsys: Any
) -> None:
    backend = emulator_backend(SCENARIO, read_only=True)
    result = session(backend, tmp_path / "audit.jsonl", OPERATOR_IP).run(yes_and_vault)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [("allow-operator-ip", "refused")]
    assert "read-only" in result.outcomes[0].advice
    assert writes(backend) == []
    code = main(["fix", "--scenario", SCENARIO, "--all", "--dry-run", "--my-ip", OPERATOR_IP])
    out = capsys.readouterr().out
    assert code == 1
    assert "allow-operator-ip" in out
    assert "dry run: nothing was written" in out


@pytest.mark.parametrize("bad", ["300.1.2.3", "2001:db8::1", "127.0.0.1", "me"])
def test_a_bad_my_ip_is_usage(bad: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fix", "--scenario", SCENARIO, "--all", "--dry-run", "--my-ip", bad])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--my-ip" in err
    assert len(err.strip().splitlines()) == 1


def test_a_rule_azure_has_not_applied_yet_is_removed_and_the_advice_says_wait(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """The emulator's `operator-ip-blocked` plays an Azure still applying the rule: the bounded
    probe gives up, the key step is refused again, the rule comes out before the run stops."""
    backend = emulator_backend(SCENARIO)
    backend.emulator.set_faults(restrictions=["operator-ip-blocked"])
    result = session(backend, tmp_path / "audit.jsonl", OPERATOR_IP).run(yes_and_vault)
    assert [(o.step.remediation, o.status) for o in result.outcomes] == [
        ("allow-operator-ip", "ok"),
        ("extend-key-expiry", "error"),
        ("remove-operator-ip", "ok"),
    ]
    opened = result.outcomes[0]
    assert opened.verification is not None
    assert opened.verification.status == "deferred"
    assert "still refused (ForbiddenByFirewall)" in opened.verification.detail
    assert "may still be applying it" in result.outcomes[1].advice
    assert result.stopped == "extend-key-expiry: error"
    assert vault_rules(backend) == ORIGINAL_RULES
