"""A `fix` killed right after it opened the vault firewall to the operator leaves the rule's undo in
the audit log; the next `fix` with that audit log removes the rule first, says so, and records it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.conftest import EmulatorMaker, connection_path, killed_once_stuck, read_jsonl
from wizard.cli import main

SCENARIO = "operator-network-denied"
OPERATOR_IP = "198.51.100.7"
VAULT = "kv-cmk-demo"


def _rule_added(audit: Path) -> bool:
    if not audit.exists():
        return False
    text = audit.read_text(encoding="utf-8")
    return '"phase": "after", "intent"' in text and '"undo": {' in text


def _key_read_after_the_rule() -> Callable[[str, str, str], bool]:
    """Matches the first management-plane read of a key once the vault's rules were PATCHed (the
    data plane's own reads, the rule's probe, come before it)."""
    patched: list[bool] = []

    def matches(host: str, method: str, path: str) -> bool:
        if host == "arm" and method == "PATCH" and path.lower().endswith(f"/vaults/{VAULT}"):
            patched.append(True)
        return bool(patched) and host == "arm" and "/keys/" in path

    return matches


def test_killed_with_the_rule_open_then_the_next_fix_removes_it_first(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = running_emulator(SCENARIO, latency_ms=100)
    conn = connection_path(tmp_path, SCENARIO)
    audit = tmp_path / "audit.jsonl"
    fix = ["fix", "--emulator", conn, "--all", "--yes", "--my-ip", OPERATOR_IP, "--confirm-name", VAULT]
    fix += ["--audit-log", str(audit), "--retry-total", "0", "--wait-timeout", "30"]
    # Once the rule is added (its result, with its undo, on disk), Azure stops answering at the next
    # step's first read of the key: the fix is stuck there until it is killed.
    killed_once_stuck(emulator, fix, holding=_key_read_after_the_rule(), what="the rule")
    assert _rule_added(audit)
    records = read_jsonl(audit)
    [opened] = [r for r in records if r["phase"] == "after" and r["remediation"] == "allow-operator-ip"]
    assert opened["result"] == "ok"
    assert opened["undo"]["address"] == OPERATOR_IP
    rules = [str(r) for r in opened["after"]["ipRules"]]
    assert rules == ["203.0.113.0/24", f"{OPERATOR_IP}/32"], "the rule is open in Azure"

    code = main([*fix[:7], *fix[9:]])  # the same fix, without --confirm-name: it cannot open it again
    out = capsys.readouterr().out
    assert "first: remove the temporary IP rule: an earlier run added 198.51.100.7/32" in out
    after = [r for r in read_jsonl(audit)[len(records) :] if r["phase"] == "after"]
    assert (after[0]["remediation"], after[0]["result"]) == ("remove-operator-ip", "ok")
    assert after[0]["undoes"] == opened["intent"]
    assert [str(r) for r in after[0]["after"]["ipRules"]] == ["203.0.113.0/24"]
    assert "not done: allow-operator-ip on kv-cmk-demo" in out
    assert code == 1
    assert "temporary IP rule still open" not in out
