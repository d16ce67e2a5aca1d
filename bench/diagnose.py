"""Diagnosis wall time against the emulator with injected latency, versus the critical path.

Run by hand: `.venv/bin/python bench/diagnose.py [--latency-ms 100] [--scenario NAME ...]`.
Prints, per scenario: wall time, requests sent, the critical-path depth of the reads that ran,
and the ratio wall / (depth x latency). Target: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import statistics
import time

from wizard.cli.wiring import EmulatorBackend, Options
from wizard.emulator import scenario_names
from wizard.run.diagnose import diagnose

TARGET_RATIO = 1.3


def measure(scenario: str, latency_ms: int, repeats: int) -> tuple[float, int, int, str]:
    """Median wall seconds, requests per run, critical-path depth and the verdict."""
    backend = EmulatorBackend(Options(retry_total=0), scenario=scenario, latency_ms=latency_ms)
    try:
        cluster_id = backend.default_cluster_id()
        assert cluster_id
        gateway = backend.connect()
        diagnose(gateway, cluster_id)  # warm: TLS sessions, the Key Vault challenge
        walls, requests, depth, verdict = [], 0, 0, ""
        for _ in range(repeats):
            before = len(backend.emulator.requests())
            started = time.perf_counter()
            result = diagnose(gateway, cluster_id)
            walls.append(time.perf_counter() - started)
            requests = len(backend.emulator.requests()) - before
            depth, verdict = result.depth, result.verdict
        return statistics.median(walls), requests, depth, verdict
    finally:
        backend.close()


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", action="append")
    args = parser.parse_args()
    names = args.scenario or scenario_names()
    latency = args.latency_ms / 1000
    print(
        f"latency {args.latency_ms} ms per request, median of {args.repeats} runs, "
        f"target ratio <= {TARGET_RATIO}"
    )
    print(f"{'scenario':<30}{'verdict':<12}{'wall ms':>9}{'requests':>10}{'depth':>7}{'ratio':>8}")
    worst = 0.0
    for name in names:
        wall, requests, depth, verdict = measure(name, args.latency_ms, args.repeats)
        ratio = wall / (depth * latency) if depth else float("nan")
        worst = max(worst, ratio)
        print(f"{name:<30}{verdict:<12}{wall * 1000:>9.0f}{requests:>10}{depth:>7}{ratio:>8.2f}")
    print(f"worst ratio {worst:.2f} (bound {TARGET_RATIO})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
