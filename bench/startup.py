"""Time to first frame, and launch to verdict, each from process start through the real CLI path.

Usage: python bench/startup.py [--runs N] [--latency-ms 100]. Every sample is a fresh process on
a pseudo-terminal (80x24, as a person's terminal would be: not headless), its clock started
before the process is spawned, so interpreter start-up and imports count. The first frame is
the moment the screen's first text arrives on the terminal: `hello` for a bare Textual app with
one Static, the context line for `cmk-wizard demo`. Launch to verdict: `cmk-wizard tui
--emulator FILE` against a standalone emulator with the given latency per request, until the
verdict is on screen. Runs are interleaved so machine noise hits each alike; medians and ratios
are printed. The wizard's own modules are compiled to bytecode first (`compileall`, into the
git-ignored `__pycache__`), as an installed wheel or any run without PYTHONDONTWRITEBYTECODE has
them and as Textual's installed modules already are; `--source` skips that, so every sample also
compiles the wizard's sources (what a checkout under PYTHONDONTWRITEBYTECODE=1 pays).
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("cmk-wizard"))
BARE = """
from textual.app import App
from textual.widgets import Static

class Bare(App[None]):
    def compose(self):
        yield Static("hello")

Bare().run()
"""
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")
FIRST_FRAME_TARGET = 1.3
VERDICT_TARGET_S = 1.2


def on_terminal(argv: list[str], marker: re.Pattern[bytes], deadline_s: float = 30.0) -> tuple[float, float]:
    """Seconds from spawn until `marker` is on the terminal, and the process's peak RSS in MB."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of 80x24
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen, at = b"", 0.0
    try:
        while time.perf_counter() - started < deadline_s:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if marker.search(ANSI.sub(b"", seen)):
                at = time.perf_counter() - started
                break
    finally:
        os.kill(pid, signal.SIGTERM)
        rusage = os.wait4(pid, 0)[2]
        os.close(fd)
    if not at:
        raise SystemExit(f"{argv[-2:]}: no {marker.pattern!r} on the terminal within {deadline_s:.0f} s")
    return at, rusage.ru_maxrss / 1024


def _emulator(latency_ms: int, folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    connection = folder / "emulator.json"
    process = subprocess.Popen(
        [
            CLI,
            "emulator",
            "--scenario",
            "key-expired",
            "--latency-ms",
            str(latency_ms),
            "--connection-file",
            str(connection),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline, pause = time.monotonic() + 60, threading.Event()
    while not connection.exists() and time.monotonic() < deadline:
        pause.wait(0.05)
    return process, connection


def main() -> int:
    """Interleave bare, wizard first frame and launch to verdict; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--source", action="store_true", help="do not compile the wizard to bytecode first")
    args = parser.parse_args()
    if not args.source:
        for package in ("wizard", "screens"):
            compileall.compile_dir(ROOT / package, quiet=1)
    folder = Path(tempfile.mkdtemp(prefix="cmk-bench-startup-"))
    emulator, connection = _emulator(args.latency_ms, folder)
    env_home = {"XDG_STATE_HOME": str(folder / "state")}
    os.environ.update(env_home)
    kinds = {
        "bare": ([sys.executable, "-c", BARE], re.compile(rb"hello")),
        "wizard": ([CLI, "demo"], re.compile("cmk-wizard ·".encode())),
        "verdict": (
            [CLI, "tui", "--emulator", str(connection)],
            re.compile("· (Healthy|Unhealthy|Incomplete)".encode()),
        ),
    }
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    try:
        for _ in range(args.runs):
            for kind, (argv, marker) in kinds.items():
                samples[kind].append(on_terminal(argv, marker))
    finally:
        emulator.terminate()
        emulator.wait(30)
    median = {k: statistics.median(s for s, _ in v) for k, v in samples.items()}
    for kind, runs in samples.items():
        rss = max(r for _, r in runs)
        print(f"{kind:<8} median {median[kind] * 1000:7.1f} ms  peak RSS {rss:6.1f} MB  ({args.runs} runs)")
    ratio = median["wizard"] / median["bare"]
    how = "from source, compiled every run" if args.source else "from bytecode"
    print(f"wizard {how}, load average {os.getloadavg()[0]:.1f}")
    print(f"first frame  wizard / bare = {ratio:.2f} (target <= {FIRST_FRAME_TARGET})")
    print(
        f"launch to verdict at {args.latency_ms} ms = {median['verdict']:.2f} s "
        f"(target <= {VERDICT_TARGET_S} s at 100 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
