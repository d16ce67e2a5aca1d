"""`cmk-wizard scan` through the real SDK against the emulator: paging, the quota, scope, output."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.scan.estates import HIDDEN, TWO_SUBSCRIPTIONS, VISIBLE
from wizard.azure.fleet import FleetGateway
from wizard.cli import main
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.fleet import ClusterState, FleetScope
from wizard.emulator import Estate, fleet_estate
from wizard.run.scan import scan


@pytest.fixture
def backends() -> Iterator[list[EmulatorBackend]]:
    """Backends made by a test, closed after it."""
    made: list[EmulatorBackend] = []
    yield made
    for backend in made:
        backend.close()


def _backend(made: list[EmulatorBackend], estate: Estate) -> EmulatorBackend:
    backend = EmulatorBackend(Options(retry_total=0), estate=estate)
    made.append(backend)
    return backend


def _graph_requests(backend: EmulatorBackend) -> list[dict[str, Any]]:
    return [r for r in backend.emulator.requests() if r["kind"] == "resource-graph"]


def test_more_clusters_than_one_page_are_all_scanned_with_one_read_per_key(
    backends: list[EmulatorBackend],
) -> None:
    backend = _backend(backends, fleet_estate(1203, keys=40, subscriptions=3, broken=0.1, seed=7))
    report = scan(backend.fleet())
    assert len(report.verdicts) == 1203
    assert len({v.cluster.id for v in report.verdicts}) == 1203
    assert report.complete
    assert not report.unreadable
    graph = _graph_requests(backend)
    assert len(graph) == 6  # subscriptions, clusters (2 pages), vaults+identities, assignments, roles
    key_reads = [r for r in backend.emulator.requests() if r["kind"] == "mgmt-keys"]
    assert len(key_reads) == len({v.key for v in report.verdicts if v.key})
    assert len(backend.emulator.requests()) / 1203 <= 0.2
    assert report.count(ClusterState.CRITICAL) >= 100


def test_a_soft_deleted_vault_is_found_in_one_deleted_list_per_subscription(
    backends: list[EmulatorBackend],
) -> None:
    backend = _backend(backends, fleet_estate(120, keys=30, subscriptions=2, broken=0.95, seed=6))
    report = scan(backend.fleet())
    gone = [v for v in report.verdicts if "VAULT_SOFT_DELETED" in v.causes]
    assert gone
    assert {v.vault_name for v in gone} == {gone[0].vault_name}
    listed = [r for r in backend.emulator.requests() if r["kind"] == "deleted-vaults"]
    # one list per subscription; a non-empty page is followed by its nextLink (the list ends empty)
    first_pages = {r["path"] for r in listed if "skiptoken" not in r["path"].lower()}
    assert len(first_pages) == 2
    assert report.complete


def test_a_throttled_query_waits_for_the_quota_reset_and_tries_again(backends: list[EmulatorBackend]) -> None:
    backend = _backend(backends, fleet_estate(40, keys=4, subscriptions=2, broken=0.0, seed=1))
    backend.emulator.set_graph_quota({"throttleNext": 3, "quotaWindowSeconds": 2})
    waits: list[float] = []
    reader = FleetGateway(backend.connect(), sleep=waits.append)
    report = scan(reader)
    assert report.complete
    assert not report.unreadable
    assert len(report.verdicts) == 40
    throttled = [r for r in _graph_requests(backend) if r["status"] == 429]
    assert len(throttled) == 3
    assert waits
    assert all(0 < w <= 2 for w in waits)


def test_a_spent_quota_holds_the_next_query_back(backends: list[EmulatorBackend]) -> None:
    """Five queries against a window of two: the scan waits out the window, never gets a 429."""
    backend = _backend(backends, fleet_estate(20, keys=2, subscriptions=1, broken=0.0, seed=1))
    backend.emulator.set_graph_quota({"quotaQueries": 2, "quotaWindowSeconds": 1, "enforceQuota": True})
    reader = FleetGateway(backend.connect())
    report = scan(reader)
    assert report.complete
    assert not report.unreadable
    assert reader.quota.waits
    statuses = [r["status"] for r in _graph_requests(backend)]
    assert statuses.count(200) == 5


def test_a_quota_that_resets_too_late_leaves_its_table_unread(backends: list[EmulatorBackend]) -> None:
    backend = _backend(backends, fleet_estate(20, keys=2, subscriptions=1, broken=0.0, seed=1))
    backend.emulator.set_graph_quota({"throttleNext": 100, "quotaWindowSeconds": 600})
    report = scan(FleetGateway(backend.connect(), sleep=lambda s: None))
    assert report.exit_code == 3
    assert {u.what.split(" (")[0] for u in report.unreadable} >= {"Resource Graph: resources"}
    assert all("600 s" in u.reason for u in report.unreadable)


def _exit_code(argv: list[str]) -> int | str | None:
    """main's return, or the code argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def _two_subscriptions(made: list[EmulatorBackend]) -> EmulatorBackend:
    return _backend(made, Estate.from_data(TWO_SUBSCRIPTIONS, "two-subscriptions"))


def test_a_subscription_you_cannot_read_is_named_and_the_scan_is_incomplete(
    backends: list[EmulatorBackend],
) -> None:
    backend = _two_subscriptions(backends)
    report = scan(backend.fleet(), FleetScope((VISIBLE, HIDDEN)))
    assert report.exit_code == 3
    assert [u.what for u in report.unreadable] == [f"subscription {HIDDEN}"]
    assert f"Reader on subscription {HIDDEN}" in report.unreadable[0].needs
    names = {v.cluster.name: v for v in report.verdicts}
    assert "cluster-hidden" not in names
    assert names["cluster-a"].state == ClusterState.HEALTHY
    blind = names["cluster-b"]
    assert blind.state == ClusterState.INCOMPLETE
    assert any(HIDDEN in q.needs for q in blind.open_questions)


def test_scan_exits_3_and_names_the_unreadable_subscription(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    estate = tmp_path / "two.json"
    estate.write_text(json.dumps(TWO_SUBSCRIPTIONS))
    code = main(["scan", "--scenario", str(estate), "--subscription", VISIBLE, "--subscription", HIDDEN])
    out = capsys.readouterr().out
    assert code == 3
    assert f"subscription {HIDDEN}: not in sight" in out


def test_a_management_group_limits_the_scan_to_its_subscriptions(backends: list[EmulatorBackend]) -> None:
    backend = _two_subscriptions(backends)
    report = scan(backend.fleet(), FleetScope(management_group="mg-prod"))
    assert {v.cluster.name for v in report.verdicts} == {"cluster-a", "cluster-b"}
    assert report.subscriptions == (VISIBLE,)


def test_json_csv_and_table_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["scan", "--fleet", "60", "--keys", "6", "--subscriptions", "3", "--broken", "0.2", "--seed", "3"]
    assert main([*flags, "--output", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "cmk-wizard/fleet-scan/v1"
    assert len(out["clusters"]) == 60
    assert out["summary"]["critical"] > 0
    assert out["exitCode"] == 1
    critical = next(c for c in out["clusters"] if c["state"] == "critical")
    assert critical["findings"][0]["severity"] == "critical"
    assert {"kind", "name", "clusters", "subscriptions", "line"} <= set(out["blastRadius"][0])
    assert main([*flags, "--output", "csv"]) == 1
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 60
    assert {r["state"] for r in rows} >= {"critical", "healthy"}
    assert main(flags) == 1
    table = capsys.readouterr().out
    assert "Blast radius" in table
    assert "clusters, " in table.split("Blast radius")[1]


def test_all_healthy_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--fleet", "30", "--keys", "3", "--broken", "0", "--expiring-within", "1d"]) == 0
    assert "healthy 30" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags",
    [
        ["--expiring-within", "soon"],
        ["--expiring-within", "0d"],
        ["--subscription", "not-a-guid"],
        ["--fleet", "10", "--broken", "nan"],
        ["--fleet", "10", "--keys", "11"],
        ["--fleet", "10", "--scenario", "healthy"],
        ["--management-group", "mg", "--subscription", VISIBLE],
    ],
)
def test_bad_scan_input_is_one_line_and_exit_2(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["scan", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["emulator"],
        ["emulator", "--fleet", "10", "--scenario", "healthy"],
        ["emulator", "--fleet", "0"],
        ["emulator", "--fleet", "100001"],
        ["demo", "--fleet", "10", "--subscriptions", "0"],
    ],
)
def test_bad_fleet_input_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
