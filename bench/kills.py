"""Kills and lost sight, replayed: a fix killed around the replacement identity's writes and run
again in the next minute, and a fix that loses read access to role assignments while it runs.

Run by hand: `.venv/bin/python bench/kills.py [--repo DIR] [--trials N]`. `--repo DIR` replays
against another checkout (`git archive <commit> | tar -x -C DIR`) for the "before" figures. Each
re-run waits for the wall clock's next minute (the replacement identity's name carries a minute
stamp), so a trial takes up to a minute. Loopback only: every `cmk-wizard` runs with
CMK_WIZARD_OFFLINE=1 against an emulator of ours on 127.0.0.1.

Prints `N kill trials, N second identities, N re-runs not Ready` and, for the lost-sight run, its
exit code, whether it waited for Ready and for how long, and the line it stopped with.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.emulator import Emulator

REPO = Path(__file__).resolve().parents[1]
DEADLINE = 60.0


def _cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "wizard", *args]


def _env(repo: Path, state: Path) -> dict[str, str]:
    """The operator's own settings left out; offline; this run's own state directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMK_WIZARD_", "IDENTITY_", "MSI_"))}
    return env | {"CMK_WIZARD_OFFLINE": "1", "XDG_STATE_HOME": str(state), "PYTHONPATH": str(repo)}


def _poll(condition: Callable[[], bool], deadline: float = DEADLINE) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _done(emulator: Emulator, method: str, part: str) -> bool:
    return any(
        r["method"] == method and part in r["path"].lower() and 200 <= r["status"] < 300
        for r in emulator.requests()
    )


def _identities_made(emulator: Emulator) -> set[str]:
    return {
        r["path"].lower()
        for r in emulator.requests()
        if r["method"] == "PUT"
        and "/userassignedidentities/" in r["path"].lower()
        and r["status"] in (200, 201)
    }


@dataclass(frozen=True)
class KillPoint:
    """Where the first run dies: just after the write named by (method, path part) succeeded."""

    name: str
    method: str
    part: str


KILL_POINTS = (
    KillPoint("just after the identity PUT", "PUT", "/userassignedidentities/"),
    KillPoint("just after the role assignment PUT", "PUT", "/roleassignments/"),
)


def kill_trial(repo: Path, point: KillPoint, folder: Path) -> tuple[int, bool, float]:
    """(identities created, Ready at the end, seconds) for one kill and its next-minute re-run."""
    started = time.monotonic()
    with Emulator("identity-deleted") as emulator:
        conn, audit = folder / "conn.json", folder / "audit.jsonl"
        emulator.write_connection_file(conn)
        fix = [
            "fix",
            "--emulator",
            str(conn),
            "--all",
            "--yes",
            "--audit-log",
            str(audit),
            "--retry-total",
            "0",
        ]
        env = _env(repo, folder)
        first = subprocess.Popen(
            _cli(fix), cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _poll(lambda: _done(emulator, point.method, point.part) or first.poll() is not None)
            emulator.hold()
            _poll(lambda: emulator.held() > 0 or first.poll() is not None)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            emulator.release()
            if first.poll() is None:
                first.kill()
                first.wait(timeout=10)
        minute = time.gmtime().tm_min
        _poll(lambda: time.gmtime().tm_min != minute, deadline=61.0)
        subprocess.run(
            _cli([*fix, "--wait-timeout", "30"]),
            cwd=repo,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        ready = all(c["status"] == "Ready" for c in emulator.health()["clusters"].values())
        return len(_identities_made(emulator)), ready, time.monotonic() - started


def lost_sight_trial(repo: Path, folder: Path) -> dict[str, Any]:
    """multi-fault; role assignments unreadable from the first write's success until three cluster
    reads later (the issue's reproduction): what the run did."""
    with Emulator("multi-fault") as emulator:
        conn, audit = folder / "conn.json", folder / "audit.jsonl"
        emulator.write_connection_file(conn)
        stop = threading.Event()

        def restrict() -> None:
            if not _poll(
                lambda: stop.is_set() or any(r["write"] and r["status"] < 300 for r in emulator.requests())
            ):
                return
            emulator.set_faults(restrictions=["no-role-assignment-read"])
            since = emulator.requests()[-1]["seq"] if emulator.requests() else 0

            def cluster_reads() -> int:
                return sum(
                    1
                    for r in emulator.requests(since)
                    if r["method"] == "GET"
                    and r["path"].lower().endswith("/mongoclusters/cluster-multi-fault")
                )

            _poll(lambda: stop.is_set() or cluster_reads() >= 3)
            emulator.set_faults(restrictions=[])

        watcher = threading.Thread(target=restrict, daemon=True)
        watcher.start()
        fix = ["fix", "--emulator", str(conn), "--all", "--yes", "--audit-log", str(audit)]
        fix += ["--retry-total", "0", "--wait-timeout", "20"]
        started = time.monotonic()
        run = subprocess.run(
            _cli(fix), cwd=repo, env=_env(repo, folder), capture_output=True, text=True, timeout=180
        )
        seconds = time.monotonic() - started
        stop.set()
        watcher.join(timeout=5)
        lines = run.stdout.splitlines()
        return {
            "exit": run.returncode,
            "waited": any(line.strip().startswith("waiting:") for line in lines),
            "seconds": seconds,
            "stopped": next((line for line in lines if line.startswith("stopped:")), "(no stop line)"),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to replay against")
    parser.add_argument("--trials", type=int, default=1, help="trials per kill point")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    made = second = not_ready = 0
    for point in KILL_POINTS:
        for _ in range(args.trials):
            with tempfile.TemporaryDirectory(prefix="cmk-kills-") as folder:
                identities, ready, seconds = kill_trial(repo, point, Path(folder))
            made += 1
            second += identities > 1
            not_ready += not ready
            print(f"killed {point.name}: {identities} identities created, Ready {ready}, {seconds:.1f} s")
    print(f"{made} kill trials, {second} second identities, {not_ready} re-runs not Ready")
    with tempfile.TemporaryDirectory(prefix="cmk-kills-") as folder:
        seen = lost_sight_trial(repo, Path(folder))
    print(
        f"lost sight mid-fix: exit {seen['exit']}, waited for Ready {seen['waited']}, "
        f"{seen['seconds']:.1f} s; {seen['stopped'][:160]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
