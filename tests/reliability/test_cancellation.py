"""Cancelling a slow diagnosis returns promptly: no exception, no warning, no leaked threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from typing import TypedDict

import pytest

from tests.reliability.conftest import REPO, BackendMaker, wait_until
from wizard.domain.models import CheckStatus
from wizard.engine.assess import Assessment
from wizard.run.diagnose import Diagnosis, DiagnosisRun


class _Outcome(TypedDict, total=False):
    """What the worker thread leaves behind: the diagnosis, or what it raised."""

    result: Diagnosis
    error: BaseException


def ours() -> list[str]:
    """Live threads, without the emulator's per-connection server threads (keep-alive
    connections of the SDK clients hold one each until the clients are closed) and the client
    factory's prewarm (opening connections and building clients; ends by itself)."""
    return sorted(
        t.name
        for t in threading.enumerate()
        if "process_request_thread" not in t.name and not t.name.startswith("cmk-client-prewarm")
    )


def test_cancel_a_slow_diagnosis(backend: BackendMaker, recwarn: pytest.WarningsRecorder) -> None:
    b = backend("multi-fault")
    gateway = b.connect()
    b.emulator  # noqa: B018 - start the emulator before taking the thread baseline
    baseline = ours()
    cancelled = threading.Event()
    updates: list[Assessment] = []
    run = DiagnosisRun(gateway, b.default_cluster_id() or "", cancelled=cancelled, on_update=updates.append)
    box: _Outcome = {}

    def work() -> None:
        try:
            box["result"] = run.run()
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            box["error"] = exc

    worker = threading.Thread(target=work)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # cancel while the first read (the cluster) is held in flight: the run returns without
        # waiting for Azure's answer
        b.emulator.hold()
        worker.start()
        wait_until(lambda: b.emulator.held() == 1, deadline_s=5, what="the cluster read in flight")
        assert any(c.status == CheckStatus.RUNNING for u in updates for c in u.checks)
        cancelled.set()
        worker.join(timeout=5)
        assert not worker.is_alive()
        assert b.emulator.held() == 1
        b.emulator.release()
    assert "error" not in box, box.get("error")
    result = box["result"]
    statuses = {c.id: c for c in result.assessment.checks}
    assert all(c.status.done for c in statuses.values())
    assert any(c.detail == "cancelled" for c in statuses.values())
    assert result.findings == ()
    assert result.verdict == "incomplete"
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]
    # the held read is answered, then the pool's threads go away
    wait_until(lambda: ours() == baseline, deadline_s=5, what=f"threads back to {baseline} (now {ours()})")
    assert not [t for t in threading.enumerate() if t.name.startswith("diagnose")]
    # cancelled during the first read (the cluster): no read of the next level was ever sent
    assert {r["kind"] for r in b.emulator.requests()} == {"clusters"}


def test_many_diagnoses_do_not_leak_threads(backend: BackendMaker) -> None:
    b = backend("healthy", latency_ms=5)
    gateway = b.connect()
    cluster = b.default_cluster_id() or ""
    DiagnosisRun(gateway, cluster).run()  # warm: clients and connections exist
    baseline = ours()
    for _ in range(5):
        assert DiagnosisRun(gateway, cluster).run().verdict == "healthy"
    wait_until(lambda: ours() == baseline, deadline_s=5, what=f"threads back to {baseline} (now {ours()})")


QUIT_WHILE_HELD = """
import threading, time
from wizard.cli.wiring import EmulatorBackend, Options
from wizard.run.diagnose import Diagnosis, DiagnosisRun

backend = EmulatorBackend(Options(retry_total=4, timeout_seconds=300), scenario="key-expired")
gateway = backend.connect()
backend.emulator.hold()
cancelled = threading.Event()
worker = threading.Thread(target=DiagnosisRun(gateway, backend.default_cluster_id(), cancelled=cancelled).run)
worker.start()
while backend.emulator.held() == 0:
    time.sleep(0.01)
cancelled.set()
worker.join()
print("returned", flush=True)
"""


def test_the_process_exits_while_azure_still_sits_on_a_cancelled_read() -> None:
    """Nobody releases the held read (the read timeout is 5 minutes): the process must still end,
    as it does when the operator quits the wizard during a stalled call."""
    done = subprocess.run(
        [sys.executable, "-c", QUIT_WHILE_HELD],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CMK_WIZARD_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "returned"
