"""`cmk-wizard emulator`: one estate until Ctrl-C/SIGTERM, with a connection file for other terminals."""

from __future__ import annotations

import secrets
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from wizard.emulator.estate import Estate, load_estate
from wizard.emulator.server import Emulator


def serve(
    scenario: str | Estate,
    *,
    port: int = 0,
    connection_file: str | None = None,
    latency_ms: int = 0,
    fault_rate: float = 0.0,
    revalidate_seconds: float = 5.0,
    status_mode: str | None = None,
    grant_propagation_seconds: float | None = None,
    vault_recover_lag_seconds: float | None = None,
    token: str | None = None,
    out: TextIO = sys.stdout,
    stop: threading.Event | None = None,
) -> int:
    """Start, write the connection file, say where it is, block until a signal (or `stop`), stop cleanly.

    Without a `token` (CMK_WIZARD_EMULATOR_TOKEN), the run makes a random one: the connection file
    (mode 0600) carries it to the other terminal, and nobody else on the machine can use the emulator
    or its admin endpoints. The well-known `fake-emulator-token` is used only when asked for.
    """
    estate = scenario if isinstance(scenario, Estate) else load_estate(scenario)
    done = stop or threading.Event()
    path = Path(connection_file or "cmk-emulator.json").resolve()
    previous: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    emulator = Emulator(
        estate,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        revalidate_seconds=revalidate_seconds,
        status_mode=status_mode,
        grant_propagation_seconds=grant_propagation_seconds,
        vault_recover_lag_seconds=vault_recover_lag_seconds,
        port=port,
        token=token or secrets.token_urlsafe(24),
    )
    try:
        emulator.start()
        emulator.write_connection_file(path, with_token=True)
        print(
            f"cmk-wizard emulator: scenario {estate.name} at {emulator.arm_endpoint}; "
            f"connection file {path} (Ctrl-C to stop)",
            file=out,
            flush=True,
        )
        while not done.wait(0.5):
            pass
    finally:
        emulator.stop()
        path.unlink(missing_ok=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
