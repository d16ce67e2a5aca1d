"""Resource ids, connection files and numeric flags: refused in one line (exit 2) before any
request, with the offending value quoted short; the options' repr never shows the token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import EmulatorMaker, assert_one_line, connection_path, run_cli
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.errors import BadInput
from wizard.domain.ids import CLUSTER_TYPE, parse_resource_id

SUB = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
CLUSTERS = f"/subscriptions/{SUB}/resourceGroups/rg-cmk-demo/providers/Microsoft.DocumentDB/mongoClusters"
BAD_CLUSTER_IDS = [
    f"{CLUSTERS}/.",  # before: GET of the cluster LIST, reported healthy, exit 0
    f"{CLUSTERS}/..",
    f"{CLUSTERS}/...",
    f"{CLUSTERS}/c1.",
    f"/subscriptions/{SUB}/resourceGroups/../providers/Microsoft.DocumentDB/mongoClusters/c1",
    f"/subscriptions/{SUB}/resourceGroups/./providers/Microsoft.DocumentDB/mongoClusters/c1",
    f"/subscriptions/{SUB}/resourceGroups//providers/Microsoft.DocumentDB/mongoClusters/c1",
    f"//subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/c1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB//mongoClusters/c1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft..DocumentDB/mongoClusters/c1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/./mongoClusters/c1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/mongo.Clusters/c1",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/c1",
]


@pytest.mark.parametrize("cluster", BAD_CLUSTER_IDS)
def test_bad_cluster_ids_are_refused_by_the_parser(cluster: str) -> None:
    with pytest.raises(BadInput) as raised:
        parse_resource_id(cluster, CLUSTER_TYPE)
    assert "\n" not in str(raised.value)


def test_bad_cluster_ids_on_the_command_line_send_no_request(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    """Before: `.../mongoClusters/.` listed the clusters and exited 0 (healthy)."""
    emulator = running_emulator("healthy")
    conn = connection_path(tmp_path, "healthy")
    for cluster in BAD_CLUSTER_IDS[:3]:
        result = run_cli("diagnose", "--emulator", conn, "--cluster", cluster, "--retry-total", "0")
        assert result.returncode == 2, (cluster, result.stdout, result.stderr)
        assert_one_line(result.stderr)
    assert emulator.requests() == []


def _connection(emulator_conn: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(Path(emulator_conn).read_text())
    return {**data, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {"clusters": [f"{CLUSTERS}/."]},
        {
            "clusters": [
                f"/subscriptions/{SUB}/resourceGroups/../providers/Microsoft.DocumentDB/mongoClusters/x"
            ]
        },
        {"subscriptionId": "../../x"},
        {"armEndpoint": "https://127.0.0.1:99999"},  # before: 7.4 s of retries, then exit 3
        {"armEndpoint": "https://127.0.0.1"},
        {"armEndpoint": "https://127.0.0.1:443/../x"},
        {"vaults": {"kv": "https://127.0.0.1:0"}},
    ],
)
def test_bad_connection_files_are_exit_2_before_any_request(
    running_emulator: EmulatorMaker, tmp_path: Path, changes: dict[str, object]
) -> None:
    emulator = running_emulator("healthy")
    conn = tmp_path / "edited.json"
    conn.write_text(json.dumps(_connection(connection_path(tmp_path, "healthy"), **changes)))
    started = time.monotonic()
    result = run_cli("diagnose", "--emulator", str(conn))
    assert result.returncode == 2, result.stdout + result.stderr
    assert_one_line(result.stderr)
    assert time.monotonic() - started < 20
    assert emulator.requests() == []


def test_deeply_nested_connection_file_is_one_line(tmp_path: Path) -> None:
    """Before: RecursionError, reported as an internal error."""
    conn = tmp_path / "deep.json"
    conn.write_text("[" * 100_000 + "]" * 100_000)
    result = run_cli("diagnose", "--emulator", str(conn))
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr)
    assert "nested" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["fix", "--scenario", "key-expired", "--all", "--dry-run", "--expiry-days", "0"],
        ["fix", "--scenario", "key-expired", "--all", "--dry-run", "--expiry-days", "3000000"],
        ["fix", "--scenario", "key-expired", "--all", "--dry-run", "--expiry-days", "3651"],
        ["diagnose", "--scenario", "healthy", "--timeout", "1e308"],
        ["diagnose", "--scenario", "healthy", "--timeout", "3601"],
        ["diagnose", "--scenario", "healthy", "--retry-total", "21"],
        ["demo", "--revalidate-seconds", "nan"],
        ["demo", "--revalidate-seconds", "inf"],
        ["fix", "--scenario", "key-expired", "--all", "--dry-run", "--revalidate-seconds", "-1"],
        ["watch", "--scenario", "healthy", "--revalidate-seconds", "1e308"],
        ["watch", "--scenario", "healthy", "--wait-timeout", "1e308"],
        ["emulator", "--scenario", "healthy", "--revalidate-seconds", "nan"],
        ["emulator", "--scenario", "healthy", "--latency-ms", "60001"],
        ["emulator", "--scenario", "healthy", "--port", "65536"],
    ],
)
def test_numbers_out_of_bounds_are_one_line_exit_2(args: list[str]) -> None:
    result = run_cli(*args, timeout=30)
    assert result.returncode == 2, result.stdout[-500:] + result.stderr
    assert_one_line(result.stderr)
    assert "must be" in result.stderr
    assert result.stdout == ""


def test_a_long_bad_value_is_quoted_short() -> None:
    result = run_cli("diagnose", "--scenario", "healthy", "--cluster", "/" + "x" * 5000)
    assert result.returncode == 2
    assert_one_line(result.stderr)
    assert len(result.stderr) < 300


def test_the_options_repr_never_shows_the_emulator_token() -> None:
    options = Options(emulator_token="very-secret-emulator-token")
    backend = EmulatorBackend(options, scenario="healthy")
    assert "very-secret" not in repr(options)
    assert "very-secret" not in repr(backend)
