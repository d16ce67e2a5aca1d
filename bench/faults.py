"""Diagnosis under injected faults: do the findings match the fault-free run, how long, how many retries.

Run by hand: `.venv/bin/python bench/faults.py [--latency-ms 100] [--rates 0,0.1,0.3] [--scenario NAME ...]`.
Each scenario runs against its own embedded emulator with `latency_ms` on every request and the
given share of requests answered 429 or 503, each 429 as its service sends it (ARM: Retry-After 1 s
and x-ms-ratelimit-remaining-*; Resource Graph: quota headers, reset in 1 s, no Retry-After; Key
Vault: with and without Retry-After), a 503 with Retry-After 1 s. Retries are counted from
the emulator's request log (requests it answered with an injected fault, which the client retried).
Clients use the CLI's default retry budget (`--retry-total 4`).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from datetime import date

from wizard.cli.wiring import EmulatorBackend, Options
from wizard.emulator import scenario_names
from wizard.run.diagnose import diagnose


def run(scenario: str, latency_ms: int, rate: float) -> tuple[list[str], str, float, int]:
    """Finding codes, verdict, wall seconds and retries of one diagnosis (cold clients)."""
    backend = EmulatorBackend(
        Options(retry_total=4, timeout_seconds=5.0), scenario=scenario, latency_ms=latency_ms
    )
    try:
        backend.emulator.set_faults(fault_rate=rate, fault_kinds=["429", "503"])
        cluster_id = backend.default_cluster_id() or ""
        gateway = backend.connect()
        started = time.perf_counter()
        result = diagnose(gateway, cluster_id)
        wall = time.perf_counter() - started
        retries = sum(1 for r in backend.emulator.requests() if r["kind"] == "fault")
        return sorted(f.code for f in result.findings), result.verdict, wall, retries
    finally:
        backend.close()


def main() -> int:
    """Print the table (Markdown)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--rates", default="0,0.1,0.3")
    parser.add_argument("--scenario", action="append")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    names = args.scenario or scenario_names()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(
        f"{date.today().isoformat()}, {nproc} CPUs (`nproc`), Python {platform.python_version()}, "
        f"{platform.machine()}; latency {args.latency_ms} ms; 429 as each service signals it, 503 with "
        "Retry-After 1 s; "
        "--retry-total 4\n"
    )
    head = " | ".join(f"{int(r * 100)} %: match / wall s / retries" for r in rates)
    print(f"| scenario | {head} |")
    print("|---|" + "---|" * len(rates))
    mismatches, total_retries = 0, 0
    for name in names:
        baseline: tuple[list[str], str] | None = None
        cells = []
        for rate in rates:
            codes, verdict, wall, retries = run(name, args.latency_ms, rate)
            if baseline is None:
                baseline = (codes, verdict)
            same = (codes, verdict) == baseline
            mismatches += not same
            total_retries += retries
            cells.append(f"{'yes' if same else 'NO (' + verdict + ')'} / {wall:.2f} / {retries}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nmismatches: {mismatches}; retries in all: {total_retries}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
