"""Emulator start-up time and per-request overhead through the real SDK clients.

Run by hand: `.venv/bin/python bench/emulator.py [--starts 15] [--requests 200]`.
Prints a small table: median start (CA + certificate + listeners) and stop, and median/p95 ms of
`vaults.get` (ARM) and `KeyClient.get_key` (data plane) on warm connections.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken
from azure.keyvault.keys import KeyClient
from azure.mgmt.keyvault import KeyVaultManagementClient

from wizard.emulator import Emulator


class _Credential:
    """The emulator's token, for any scope."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Any scope, any tenant."""
        return AccessToken(self._token, int(time.time()) + 3600)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_start(starts: int) -> tuple[list[float], list[float]]:
    """Milliseconds per start (incl. CA generation) and per stop."""
    up, down = [], []
    for _ in range(starts):
        began = time.perf_counter()
        emu = Emulator("healthy").start()
        up.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        emu.stop()
        down.append((time.perf_counter() - began) * 1000)
    return up, down


def bench_requests(count: int) -> dict[str, list[float]]:
    """Milliseconds per SDK call, after one warm-up call each."""
    with Emulator("healthy") as emu:
        cred = _Credential(emu.token)
        sub = emu.connection["subscriptionId"]
        kvm = KeyVaultManagementClient(cred, sub, base_url=emu.arm_endpoint, connection_verify=emu.ca_path)
        keys = KeyClient(
            emu.connection["vaults"]["kv-cmk-demo"],
            cred,
            verify_challenge_resource=False,
            connection_verify=emu.ca_path,
        )
        calls: dict[str, Callable[[], object]] = {
            "vaults.get (ARM)": lambda: kvm.vaults.get("rg-cmk-demo", "kv-cmk-demo"),
            "KeyClient.get_key (data plane)": lambda: keys.get_key("cmk"),
        }
        result: dict[str, list[float]] = {}
        for name, call in calls.items():
            call()
            times = []
            for _ in range(count):
                began = time.perf_counter()
                call()
                times.append((time.perf_counter() - began) * 1000)
            result[name] = times
        kvm.close()
        keys.close()
        return result


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    up, down = bench_start(args.starts)
    rows = [
        (f"start (n={args.starts}, incl. CA)", statistics.median(up), _p95(up)),
        (f"stop (n={args.starts})", statistics.median(down), _p95(down)),
    ]
    for name, times in bench_requests(args.requests).items():
        rows.append((f"{name} x{args.requests}", statistics.median(times), _p95(times)))
    print(f"{'what':<44} {'median ms':>10} {'p95 ms':>8}")
    for name, median, p95 in rows:
        print(f"{name:<44} {median:>10.2f} {p95:>8.2f}")


if __name__ == "__main__":
    main()
