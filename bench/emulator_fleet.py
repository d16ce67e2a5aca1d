"""The emulator's per-request cost as the fleet grows: flat, because health is judged when the
estate changes (not per request) and lookups are indexed.

Run by hand: `.venv/bin/python bench/emulator_fleet.py [--sizes 100 1000 10000]`. For each fleet
size: median and p95 ms of 200 management-plane key reads and 200 cluster reads through the real
SDK clients (warm keep-alive connections, no injected latency), one Resource Graph page of 1,000
clusters, and how many times the emulator judged every cluster meanwhile.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from wizard.azure.fleet_queries import CLUSTERS
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.emulator import fleet_estate


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    walls = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        walls.append((time.perf_counter() - started) * 1000)
    walls.sort()
    return statistics.median(walls), walls[int(len(walls) * 0.95) - 1]


def measure(size: int, repeats: int) -> str:
    """One fleet size's row."""
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    estate = fleet_estate(size, keys=max(1, size // 20), subscriptions=20, broken=0.1, seed=1)
    backend = EmulatorBackend(Options(retry_total=0), estate=estate)
    try:
        gateway = backend.connect()
        cluster_id = backend.emulator.connection["clusters"][0]
        cluster = gateway.get_cluster(cluster_id)
        vault = gateway.find_vault((cluster.key_url or "").split("//")[1].split(".")[0])
        assert vault is not None
        key_name = (cluster.key_url or "").rstrip("/").rsplit("/", 1)[-1]
        before = backend.emulator.health_evaluations
        key = _timed(lambda: gateway.get_key(vault.id, key_name), repeats)
        get = _timed(lambda: gateway.get_cluster(cluster_id), repeats)
        request = QueryRequest(query=CLUSTERS, options=QueryRequestOptions(top=1000))
        page = _timed(lambda: gateway.factory.graph().resources(request), 5)
        judged = backend.emulator.health_evaluations - before
    finally:
        backend.close()
    return f"{size:>8}{key[0]:>10.2f}{key[1]:>9.2f}{get[0]:>10.2f}{get[1]:>9.2f}{page[0]:>12.1f}{judged:>9}"


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    print(f"{'clusters':>8}{'key med':>10}{'p95':>9}{'get med':>10}{'p95':>9}{'page 1000':>12}{'judged':>9}")
    for size in args.sizes:
        print(measure(size, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
