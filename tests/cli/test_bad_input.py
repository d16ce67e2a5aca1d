"""Bad input anywhere it enters: one clear line on stderr, a documented exit code, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.cli import main
from wizard.cli.connection import load_connection
from wizard.domain.errors import BadInput
from wizard.domain.ids import CLUSTER_TYPE, parse_key_url, parse_resource_id

GOOD_CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.DocumentDB/mongoClusters/c1"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wizard", *args], capture_output=True, text=True, timeout=60)


def assert_one_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    "args",
    [
        ["diagnose", "--cluster", "not-an-id", "--scenario", "healthy"],
        ["diagnose", "--cluster", GOOD_CLUSTER.replace("mongoClusters", "databaseAccounts")],
        ["diagnose", "--scenario", "no-such-scenario"],
        ["diagnose", "--scenario", "/nonexistent/estate.yaml"],
        ["diagnose", "--emulator", "/nonexistent/connection.json"],
        ["diagnose", "--retry-total", "-1", "--scenario", "healthy"],
        ["diagnose", "--format", "xml", "--scenario", "healthy"],
        ["emulator", "--scenario", "healthy", "--port", "70000"],
        ["emulator", "--scenario", "healthy", "--fault-rate", "2"],
        ["frobnicate"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr)
    assert result.stdout == ""


def test_malformed_connection_file(tmp_path: Path) -> None:
    broken = tmp_path / "conn.json"
    broken.write_text("{not json")
    result = run_cli("diagnose", "--emulator", str(broken))
    assert result.returncode == 2
    assert_one_line(result.stderr)
    assert "not JSON" in result.stderr


def test_connection_file_must_point_at_loopback(tmp_path: Path) -> None:
    conn = tmp_path / "conn.json"
    conn.write_text(
        json.dumps(
            {
                "armEndpoint": "https://management.azure.com",
                "caBundle": "x",
                "tenantId": "t",
                "subscriptionId": "s",
            }
        )
    )
    with pytest.raises(BadInput, match=r"127\.0\.0\.1"):
        load_connection(conn)


def test_malformed_estate_file(tmp_path: Path) -> None:
    estate = tmp_path / "estate.yaml"
    estate.write_text("clusters: [unclosed\n")
    result = run_cli("diagnose", "--scenario", str(estate))
    assert result.returncode == 2
    assert_one_line(result.stderr)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_resource_id_parser_never_crashes(text: str) -> None:
    try:
        parse_resource_id(text, CLUSTER_TYPE)
        message = ""
    except BadInput as exc:
        message = str(exc)
    assert "\n" not in message


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_key_url_parser_never_crashes(text: str) -> None:
    try:
        parse_key_url(text)
        message = ""
    except BadInput as exc:
        message = str(exc)
    assert "\n" not in message


_flag_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cluster=_flag_values,
    retry=_flag_values,
    timeout=_flag_values,
    fmt=st.sampled_from(["json", "text", "yaml", ""]),
)
def test_fuzzed_diagnose_flags_fail_cleanly(
    cluster: str, retry: str, timeout: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "diagnose",
        "--cluster",
        cluster,
        "--retry-total",
        retry,
        "--timeout",
        timeout,
        "--format",
        fmt,
        "--scenario",
        "no-such-scenario",
    ]
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(argv))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert_one_line(err)


def test_tests_can_never_go_live() -> None:
    result = run_cli("diagnose", "--cluster", GOOD_CLUSTER)
    assert result.returncode == 2
    assert_one_line(result.stderr)
    assert "CMK_WIZARD_OFFLINE" in result.stderr
