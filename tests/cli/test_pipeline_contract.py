"""The command line as a pipeline sees it: JSON fields, --help, reports (issue 12)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from wizard import __version__
from wizard.cli import EXAMPLES, build_parser
from wizard.domain.catalog import load_catalog


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wizard", *args], capture_output=True, text=True, timeout=120, check=False
    )


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    shown = {c.dest for c in sub._choices_actions if c.help != argparse.SUPPRESS}  # seat is internal
    return {name: command for name, command in sub.choices.items() if name in shown}


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_flag_has_a_help_line_and_every_command_an_example(name: str) -> None:
    command = _commands()[name]
    silent = [a.option_strings or [a.dest] for a in command._actions if not a.help]
    assert silent == [], f"{name}: flags without a help line"
    assert EXAMPLES[name], name
    shown = command.format_help()
    assert "examples:" in shown
    assert all(line in shown for line in EXAMPLES[name])


def test_json_findings_carry_title_check_time_and_version() -> None:
    done = run_cli("diagnose", "--scenario", "key-expired", "--format", "json")
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert out["tool"] == {"name": "cmk-wizard", "version": __version__}
    assert out["startedAt"].endswith("Z")
    assert out["finishedAt"] >= out["startedAt"]
    expired = next(f for f in out["findings"] if f["code"] == "KEY_EXPIRED")
    assert expired["title"] == load_catalog().finding("KEY_EXPIRED").title
    assert expired["check"] == "key.dates"
    assert expired["observedAt"] == out["finishedAt"]


def test_diagnose_report_hands_over_without_a_fix(tmp_path: Path) -> None:
    report = tmp_path / "diagnosis.md"
    done = run_cli("diagnose", "--scenario", "multi-fault", "--format", "json", "--report", str(report))
    assert done.returncode == 1, done.stderr
    json.loads(done.stdout)  # stdout stays one JSON object; the report's path goes to stderr
    assert str(report) in done.stderr
    text = report.read_text()
    assert "No fix was attempted" in text
    assert "## What would fix it" in text
    for remediation in ("extend-key-expiry", "allow-trusted-services", "grant-crypto-role"):
        assert remediation in text
    assert "['" not in text


def test_the_plans_wait_runs_and_is_reported_when_the_cluster_came_back_at_once(tmp_path: Path) -> None:
    report = tmp_path / "incident.md"
    done = run_cli(
        "fix", "--scenario", "key-expired", "--all", "--yes",
        "--audit-log", str(tmp_path / "audit.jsonl"), "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    applied = done.stdout.index("-> ok: applied")
    assert "step  wait-for-ready" in done.stdout[applied:]
    assert "-> ready:" in done.stdout[applied:]
    steps = report.read_text().split("## Steps taken")[1].split("## Final state")[0]
    assert "**wait-for-ready** for CLUSTER_INACCESSIBLE: ready" in steps


def test_the_report_has_no_python_reprs_and_says_what_became_of_the_old_identity(tmp_path: Path) -> None:
    report = tmp_path / "incident.md"
    done = run_cli(
        "fix", "--scenario", "identity-deleted", "--all", "--yes",
        "--audit-log", str(tmp_path / "audit.jsonl"), "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = report.read_text()
    assert "['" not in text
    assert "{'" not in text
    assert (
        "old identity: the old identity id-cmk-demo is no longer the key identity but is still attached"
        in text
    )


def test_deleting_the_failed_cluster_is_reported_as_done_with_the_next_step(tmp_path: Path) -> None:
    report = tmp_path / "incident.md"
    done = run_cli(
        "fix", "--scenario", "provisioning-failed", "--all", "--yes",
        "--confirm-name", "cluster-provisioning-failed",
        "--audit-log", str(tmp_path / "audit.jsonl"), "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = report.read_text()
    assert "Final verdict: **done: the failed cluster was deleted (exit 0)**" in text
    assert "az rest --method put" in text
    assert "CLUSTER_NOT_FOUND" not in text.split("## Final state")[1]
