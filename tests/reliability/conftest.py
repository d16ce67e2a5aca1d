"""Helpers for the reliability suite: emulators with faults, the CLI in and out of process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.conftest import until
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.models import CheckResult
from wizard.emulator import DEFAULT_TOKEN, Emulator
from wizard.run.diagnose import Diagnosis

REPO = Path(__file__).resolve().parents[2]


class BackendMaker(Protocol):
    """The `backend` fixture: an embedded-emulator backend with these client settings."""

    def __call__(
        self,
        scenario: str,
        *,
        retry_total: int = 0,
        timeout: float = 30.0,
        max_retry_after: float = 60.0,
        read_only: bool = False,
        latency_ms: int = 0,
    ) -> EmulatorBackend: ...


class EmulatorMaker(Protocol):
    """The `running_emulator` fixture: a started emulator with its connection file written."""

    def __call__(self, scenario: str, *, latency_ms: int = 0, token: str = DEFAULT_TOKEN) -> Emulator: ...


def codes(diagnosis: Diagnosis) -> list[str]:
    """The finding codes of a diagnosis, sorted (order is not what these tests compare)."""
    return sorted(f.code for f in diagnosis.findings)


def checks(diagnosis: Diagnosis) -> dict[str, CheckResult]:
    """Check id to its result."""
    return {c.id: c for c in diagnosis.assessment.checks}


def faults_served(emulator: Emulator) -> int:
    """How many requests the emulator answered with an injected fault (= retries the client made,
    as long as every read finally succeeded)."""
    return sum(1 for r in emulator.requests() if r["kind"] == "fault")


def assert_one_line(stderr: str) -> None:
    """One clear line on stderr, never a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith(("cmk-wizard: ", "cmk-wizard ")), stderr


def wait_until(condition: Callable[[], bool], *, deadline_s: float, what: str) -> None:
    """Poll (no fixed sleeps) until `condition` holds, or fail after the deadline."""
    if not until(condition, deadline_s):
        raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


def start_cli(args: Sequence[str]) -> subprocess.Popen[str]:
    """`python -m wizard ARGS` started in a subprocess (its stderr kept, as text; stdout dropped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "wizard", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def killed_once_stuck(
    emulator: Emulator,
    args: Sequence[str],
    *,
    reached: Callable[[], bool] | None = None,
    what: str,
    holding: Callable[[str, str, str], bool] | None = None,
    stuck: Callable[[], bool] = lambda: True,
    stuck_what: str = "a held read",
) -> None:
    """`python -m wizard ARGS`, SIGKILLed at a chosen point: Azure holds the requests
    `holding(host, method, path)` accepts (exact, whatever the machine's speed), or stops answering
    once `reached` holds (a write done); once a request is held (and `stuck` holds too) the run is
    killed. Fails if it finished first."""
    assert (reached is None) != (holding is None), "say when to stall Azure: `reached` or `holding`"
    if holding is not None:
        emulator.hold_matching(holding)
    process = start_cli(args)
    try:
        if reached is not None:
            wait_until(lambda: reached() or process.poll() is not None, deadline_s=45, what=what)
            emulator.hold()
        wait_until(
            lambda: (stuck() and emulator.held() > 0) or process.poll() is not None,
            deadline_s=45,
            what=stuck_what,
        )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        emulator.release()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL, "fix finished before it could be interrupted"


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m wizard ARGS` in a subprocess, with a clean debug flag."""
    full = {k: v for k, v in os.environ.items() if k != "CMK_WIZARD_DEBUG"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "wizard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full,
        cwd=cwd or REPO,
    )


@pytest.fixture
def backend() -> Iterator[BackendMaker]:
    """Emulator backends over the real SDK clients; every one closed after the test."""
    made: list[EmulatorBackend] = []

    def make(
        scenario: str,
        *,
        retry_total: int = 0,
        timeout: float = 30.0,
        max_retry_after: float = 60.0,
        read_only: bool = False,
        latency_ms: int = 0,
    ) -> EmulatorBackend:
        options = Options(
            read_only=read_only,
            retry_total=retry_total,
            timeout_seconds=timeout,
            max_retry_after=max_retry_after,
        )
        made.append(EmulatorBackend(options, scenario=scenario, latency_ms=latency_ms))
        return made[-1]

    yield make
    for b in made:
        b.close()


@pytest.fixture
def running_emulator(tmp_path: Path) -> Iterator[EmulatorMaker]:
    """A started emulator with its connection file at tmp_path/<name>.json; stopped after."""
    made: list[Emulator] = []

    def start(scenario: str, *, latency_ms: int = 0, token: str = DEFAULT_TOKEN) -> Emulator:
        emulator = Emulator(scenario, latency_ms=latency_ms, token=token).start()
        emulator.write_connection_file(tmp_path / f"{scenario.rsplit('/', 1)[-1]}.json")
        made.append(emulator)
        return emulator

    yield start
    for emulator in made:
        emulator.stop()


def connection_path(tmp_path: Path, scenario: str) -> str:
    """Where `running_emulator` wrote the scenario's connection file."""
    return str(tmp_path / f"{scenario.rsplit('/', 1)[-1]}.json")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line must be a JSON object (a torn last line fails the test)."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path}:{number}: blank line"
        record = json.loads(line)
        assert isinstance(record, dict), f"{path}:{number}: not an object"
        records.append(record)
    return records
