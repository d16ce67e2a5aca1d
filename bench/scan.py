"""Fleet scan: a whole `cmk-wizard scan` process against a standalone emulator holding a fleet.

Run by hand: `.venv/bin/python bench/scan.py [--clusters 1000] [--keys 50] [--subscriptions 20]
[--latency-ms 50]`. The emulator runs in its own process (`cmk-wizard emulator --fleet N`), so
the scan's figures are its own: wall time of the whole process (Python start-up, the Azure SDK
import, sign-in, every query and read, the report), requests sent (from the emulator's request
log), requests per cluster, and the scan process's peak RSS. Targets for 1,000 clusters at 50 ms:
<= 10 s and <= 0.2 requests per cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).with_name("cmk-wizard"))
TARGET_SECONDS = 10.0
TARGET_PER_CLUSTER = 0.2


def _wait_for(path: Path, process: subprocess.Popen[bytes], deadline_s: float) -> dict[str, Any]:
    """The connection file, once the emulator has written it (a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + deadline_s
    pause = threading.Event()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the emulator stopped (exit {process.returncode})")
        if path.exists():
            return dict(json.loads(path.read_text()))
        pause.wait(0.05)
    raise SystemExit(f"no connection file after {deadline_s:.0f} s")


def _request_log(connection: dict[str, Any]) -> list[dict[str, Any]]:
    context = ssl.create_default_context(cafile=connection["caBundle"])
    request = urllib.request.Request(
        f"{connection['armEndpoint']}/_emulator/requests",
        headers={"Authorization": f"Bearer {connection['token']}"},  # admin needs the emulator's token
    )
    with urllib.request.urlopen(request, context=context) as answer:
        return list(json.load(answer)["requests"])


def run(clusters: int, keys: int, subscriptions: int, latency_ms: int, broken: float) -> dict[str, Any]:
    """Start the emulator, time one scan process, read the emulator's request log, stop."""
    folder = Path(tempfile.mkdtemp(prefix="cmk-bench-scan-"))
    connection_file = folder / "emulator.json"
    emulator = subprocess.Popen(
        [
            CLI,
            "emulator",
            "--fleet",
            str(clusters),
            "--keys",
            str(keys),
            "--subscriptions",
            str(subscriptions),
            "--broken",
            str(broken),
            "--seed",
            "1",
            "--latency-ms",
            str(latency_ms),
            "--connection-file",
            str(connection_file),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        started = time.perf_counter()
        connection = _wait_for(connection_file, emulator, 300)
        emulator_start = time.perf_counter() - started
        env = {k: v for k, v in os.environ.items() if k != "CMK_WIZARD_OFFLINE"}
        began = time.perf_counter()
        scan = subprocess.run(
            [CLI, "scan", "--emulator", str(connection_file), "--output", "json"],
            capture_output=True,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - began
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if scan.returncode not in (0, 1, 3):
            raise SystemExit(f"scan failed ({scan.returncode}): {scan.stderr.decode()[-400:]}")
        report = json.loads(scan.stdout)
        log = _request_log(connection)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    kinds = Counter(entry["kind"] for entry in log)
    return {
        "clusters": len(report["clusters"]),
        "summary": {k: v for k, v in report["summary"].items() if v},
        "exit": scan.returncode,
        "wall_s": wall,
        "scan_ms": report["durationMs"],
        "requests": len(log),
        "per_cluster": len(log) / max(1, len(report["clusters"])),
        "kinds": dict(kinds),
        "rss_mb": rss_mb,
        "emulator_start_s": emulator_start,
    }


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--broken", type=float, default=0.1)
    args = parser.parse_args()
    figures = run(args.clusters, args.keys, args.subscriptions, args.latency_ms, args.broken)
    print(
        f"{figures['clusters']} clusters, {args.subscriptions} subscriptions, {args.keys} keys, "
        f"{args.latency_ms} ms per request (emulator up in {figures['emulator_start_s']:.1f} s)"
    )
    print(f"  verdicts        {figures['summary']} (exit {figures['exit']})")
    print(f"  whole process   {figures['wall_s']:.2f} s  (scan itself {figures['scan_ms'] / 1000:.2f} s)")
    print(f"  requests        {figures['requests']}  {figures['kinds']}")
    print(f"  per cluster     {figures['per_cluster']:.3f}")
    print(f"  peak RSS        {figures['rss_mb']:.0f} MB (the scan process)")
    if args.clusters == 1000 and args.latency_ms == 50:
        ok = figures["wall_s"] <= TARGET_SECONDS and figures["per_cluster"] <= TARGET_PER_CLUSTER
        print(
            f"  target          <= {TARGET_SECONDS:.0f} s and <= {TARGET_PER_CLUSTER} per cluster: "
            f"{'met' if ok else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
