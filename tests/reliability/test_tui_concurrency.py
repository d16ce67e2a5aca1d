"""The TUI stays responsive while Azure is slow, and leaving or quitting cancels work cleanly.

The emulator holds its answers (`hold`/`release`) so requests are in flight for as long as each
test needs, however slow the machine: no race against a fixed latency."""

from __future__ import annotations

import threading
import time

import pytest

from screens.app import WizardApp
from screens.diagnosis import DiagnosisScreen
from screens.help import HelpScreen
from tests.reliability.conftest import BackendMaker
from tests.ui.helpers import until


def _our_threads() -> list[str]:
    """Live threads, without the emulator's per-connection threads, the event loop's default
    executor (`asyncio_N`, where Textual runs thread workers; reused, closed with the loop) and the
    client factory's prewarm (opening connections and building clients; ends by itself)."""
    return sorted(
        t.name
        for t in threading.enumerate()
        if "process_request_thread" not in t.name
        and not t.name.startswith(("asyncio_", "cmk-client-prewarm"))
    )


async def test_keys_are_answered_while_requests_are_in_flight(
    backend: BackendMaker, recwarn: pytest.WarningsRecorder
) -> None:
    b = backend("multi-fault")
    b.emulator.hold()
    app = WizardApp(b, cluster_id=b.default_cluster_id())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, DiagnosisScreen), seconds=5, what="the diagnosis screen"
        )
        diagnosis_screen = app.screen
        await until(pilot, lambda: b.emulator.held() > 0, seconds=5, what="a request in flight")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), seconds=5, what="the help screen")
        assert b.emulator.held() > 0
        assert any(w.group == "diagnosis" and not w.is_finished for w in app.workers)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is diagnosis_screen, seconds=5, what="back to the diagnosis")
        b.emulator.release()
        await app.workers.wait_for_complete()
        assert isinstance(diagnosis_screen, DiagnosisScreen)
        await until(pilot, lambda: diagnosis_screen.diagnosis is not None, seconds=10, what="the verdict")
    assert app.return_code in (None, 0, 1, 3)
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]


async def test_leaving_and_quitting_cancel_work_without_errors(
    backend: BackendMaker, recwarn: pytest.WarningsRecorder
) -> None:
    b = backend("multi-fault")
    b.connect()
    baseline = _our_threads()
    b.emulator.hold()
    app = WizardApp(b, cluster_id=b.default_cluster_id())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, DiagnosisScreen), seconds=5, what="the diagnosis screen"
        )
        screen = app.screen
        assert isinstance(screen, DiagnosisScreen)
        await until(pilot, lambda: b.emulator.held() > 0, seconds=5, what="a request in flight")
        first_cancel = screen.cancelled
        await pilot.press("r")  # re-run while the first run is in flight: the first is cancelled
        await until(pilot, first_cancel.is_set, seconds=5, what="the first run to be cancelled")
        second_cancel = screen.cancelled
        await pilot.press("escape")  # leave the screen mid-run
        await until(pilot, lambda: not isinstance(app.screen, DiagnosisScreen), seconds=5, what="leaving")
        await until(pilot, second_cancel.is_set, seconds=5, what="the second run to be cancelled")
        b.emulator.release()
        await pilot.press("q")
    deadline = time.monotonic() + 5
    while _our_threads() != baseline and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _our_threads() == baseline
    assert not [t for t in threading.enumerate() if t.name.startswith("diagnose")]
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]
