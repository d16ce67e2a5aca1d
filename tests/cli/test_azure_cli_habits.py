"""The Azure CLI's habits where users expect them: --output (with --format kept), --query, --version,
-h; `scenarios` with what each one shows; emulator runs kept out of the live audit log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from wizard.cli import main
from wizard.emulator import scenario_names


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "wizard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_query_picks_fields_with_jmespath(capsys: pytest.CaptureFixture[str]) -> None:
    """`--query` is JMESPath over the diagnosis JSON, printed as JSON by default."""
    code = main(["diagnose", "--scenario", "multi-fault", "--query", "findings[].code"])
    assert code == 1
    assert json.loads(capsys.readouterr().out) == [
        "VAULT_FIREWALL_BLOCKS_SERVICE",
        "RBAC_ROLE_MISSING",
        "KEY_EXPIRED",
        "CLUSTER_INACCESSIBLE",
    ]


def test_output_yaml_and_format_alias(capsys: pytest.CaptureFixture[str]) -> None:
    """`--output yaml` parses back to the same object as `--format json` (the alias still works)."""
    main(["diagnose", "--scenario", "key-expired", "--format", "json"])
    as_json = json.loads(capsys.readouterr().out)
    main(["diagnose", "--scenario", "key-expired", "-o", "yaml"])
    as_yaml = yaml.safe_load(capsys.readouterr().out)

    def shape(out: dict[str, Any]) -> list[tuple[str, str, list[str]]]:  # dates move between runs
        return [(f["code"], f["severity"], f["remediations"]) for f in out["findings"]]

    assert shape(as_yaml) == shape(as_json)
    assert as_yaml["verdict"] == "unhealthy"


def test_output_tsv_is_one_row_per_item(capsys: pytest.CaptureFixture[str]) -> None:
    """tsv: one line per list item, scalar fields tab-separated, for `cut` and `while read`."""
    main(
        [
            "diagnose",
            "--scenario",
            "multi-fault",
            "-o",
            "tsv",
            "--query",
            "checks[?status=='fail'].[id,status]",
        ]
    )
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert ["key.dates", "fail"] in rows
    assert all(len(row) == 2 for row in rows)


def test_output_table_lists_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    """table without --query: a headed, ruled table of the findings."""
    main(["diagnose", "--scenario", "key-expired", "--output", "table"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Code", "Severity", "Summary"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("KEY_EXPIRED ")


def test_bad_query_is_one_line_exit_2_before_any_read() -> None:
    """A query that does not parse is a usage error: one line, exit 2, no traceback."""
    result = run_cli("diagnose", "--scenario", "healthy", "--query", "findings[")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "JMESPath" in result.stderr


@pytest.mark.parametrize("command", ["diagnose", "scan", "fix", "watch", "scenarios", "demo"])
def test_version_and_short_help_on_every_command(command: str) -> None:
    """`--version` and `-h` work after any command, as `az <group> -h` does."""
    version = run_cli(command, "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("cmk-wizard ")
    helped = run_cli(command, "-h")
    assert helped.returncode == 0
    assert f"usage: cmk-wizard {command}" in helped.stdout


def test_scan_takes_query_and_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    """scan's JSON answers --query too, in yaml."""
    code = main(["scan", "--scenario", "multi-fault", "-o", "yaml", "--query", "summary"])
    assert code == 1
    assert yaml.safe_load(capsys.readouterr().out)["critical"] == 1


def test_scenarios_say_what_each_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """Every scenario with its YAML description, as text and as JSON."""
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == scenario_names()
    firewalled = next(line for line in lines if line.startswith("operator-firewalled "))
    assert "blocks only the operator" in firewalled
    main(["scenarios", "--output", "json"])
    listed = json.loads(capsys.readouterr().out)
    assert all(item["description"] for item in listed)


def test_emulator_runs_keep_out_of_the_live_audit_log(tmp_path: Path) -> None:
    """A fix against a scenario writes its audit log to the demo directory, never the live one."""
    state = tmp_path / "state"
    result = run_cli(
        "fix", "--scenario", "key-expired", "--all", "--yes", "--wait-timeout", "30",
        env={"XDG_STATE_HOME": str(state), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not (state / "cmk-wizard" / "audit.jsonl").exists()
    demo_log = state / "cmk-wizard" / "demo" / "audit.jsonl"
    assert demo_log.exists()
    assert "extend-key-expiry" in demo_log.read_text()
