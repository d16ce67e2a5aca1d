"""Time to first frame: the wizard app vs a bare Textual app, each in fresh subprocesses.

Usage: python bench/startup.py [--runs N]. Prints medians, the ratio and peak RSS, and fails if the
wizard imported the Azure SDK before its first frame (DESIGN.md: import azure lazily).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, resource, sys, time
started = time.perf_counter()
kind = sys.argv[1]
if kind == "wizard":
    from screens.app import WizardApp
    from wizard.cli.wiring import EmulatorBackend, Options
    backend = EmulatorBackend(Options(), scenario="key-expired")
    app = WizardApp(backend, cluster_id=backend.default_cluster_id(), terminal_colours=False)
else:
    from textual.app import App
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self):
            yield Static("hello")

    app = Bare()

first_frame = {}

def on_message(message) -> None:
    # Textual posts Ready once the DOM is mounted and the first frame has been displayed.
    from textual import events

    if isinstance(message, events.Ready) and "at" not in first_frame:
        first_frame["at"] = time.perf_counter()
        first_frame["azure"] = any(m == "azure" or m.startswith("azure.") for m in sys.modules)

async def measure() -> None:
    async with app.run_test(size=(80, 24), message_hook=on_message) as pilot:
        await pilot.pause()
        app.exit()

import asyncio
asyncio.run(measure())
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"ms": (first_frame["at"] - started) * 1000, "rss_mb": peak_kb / 1024,
                  "azure": first_frame["azure"]}))
"""


def sample(kind: str) -> dict[str, float]:
    """One fresh interpreter: import, construct, mount, first paint."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, kind], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    """Alternate the two apps so machine noise hits both alike."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    samples: dict[str, list[dict[str, float]]] = {"bare": [], "wizard": []}
    for _ in range(args.runs):
        for kind in samples:
            samples[kind].append(sample(kind))
    medians = {kind: statistics.median(s["ms"] for s in runs) for kind, runs in samples.items()}
    for kind, runs in samples.items():
        rss = max(s["rss_mb"] for s in runs)
        print(
            f"{kind:<7} first frame median {medians[kind]:7.1f} ms  "
            f"peak RSS {rss:6.1f} MB  ({args.runs} runs)"
        )
    print(f"ratio   wizard / bare = {medians['wizard'] / medians['bare']:.2f}")
    azure_loaded = any(s["azure"] for s in samples["wizard"])
    print(f"azure imported before first frame: {'YES (regression)' if azure_loaded else 'no'}")
    return 1 if azure_loaded else 0


if __name__ == "__main__":
    raise SystemExit(main())
