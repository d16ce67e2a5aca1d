"""`serve` in a real headless browser (Debian's chromium and chromedriver, through Selenium): the page
loads, the seat's checklist fills in, keys typed into the page reach a finding and a fix, and the
seat's own emulator says the cluster can use its key again. CI installs chromium (.ci/run) and this
test fails there rather than skip."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from wizard.cli.room_files import Room
from wizard.cli.trainer_desk import EmulatorDesk
from wizard.domain.training import SeatProgress

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,800",
)
DEADLINE_S = 60.0
T = TypeVar("T")


def _need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {', '.join(missing)} missing (.ci/run installs them)")
    pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)")


def poll(what: str, probe: Callable[[], T | None], deadline_s: float = DEADLINE_S) -> T:
    """Probe until it answers, with a deadline (never a fixed sleep)."""
    deadline = time.monotonic() + deadline_s
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s:g} s waiting for {what}")
        time.sleep(0.1)  # the gap between probes, not a wait for something to happen


@pytest.fixture
def room(tmp_path: Path) -> Iterator[tuple[str, Room]]:
    """`cmk-wizard serve` on a free port, its URL and its room; closed (SIGTERM) after."""
    folder = tmp_path / "room"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wizard",
            "serve",
            "--port",
            "0",
            "--room",
            str(folder),
            "--revalidate-seconds",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + DEADLINE_S
    url = None
    while url is None and time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=1.0):
            found = re.search(r"room open at (http://127\.0\.0\.1:\d+/)", process.stdout.readline())
            url = found.group(1) if found else None
    try:
        assert url is not None, (
            f"serve did not open the room: {process.stderr.read() if process.stderr else ''}"
        )
        yield url, Room.open(str(folder))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # Closing the room closed every seat: its emulator, its connection file and (once it has
    # cleaned up after its last frame) its process.
    assert process.returncode == 0
    seats = Room.open(str(folder)).seats()
    assert seats
    assert all(seat.ended for seat in seats)
    poll("the seats' processes to end", lambda: not any(_alive(seat.pid) for seat in seats))
    assert not list((folder / "seats").glob("*.connection.json"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _seat(room: Room, check: Callable[[SeatProgress], bool]) -> Callable[[], SeatProgress | None]:
    def probe() -> SeatProgress | None:
        seats = room.seats()
        return seats[0] if len(seats) == 1 and check(seats[0]) else None

    return probe


def test_a_browser_seat_diagnoses_and_fixes(room: tuple[str, Room], tmp_path: Path) -> None:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    url, seats = room
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.get(url)
        assert driver.title == "cmk-wizard training room"
        # The checklist fills in: the seat (its own process and emulator) finished a diagnosis.
        seat = poll("the checklist", _seat(seats, lambda s: "KEY_EXPIRED" in s.findings))
        assert seat.screen == "DiagnosisScreen"
        assert seat.exercise == "key-expired"
        assert seat.connection_file is not None
        desk = EmulatorDesk.from_file(seat.connection_file)
        assert not any(h.can_use_key for h in desk.health())
        keys = poll("the terminal", lambda: driver.find_elements(By.CSS_SELECTOR, ".xterm-helper-textarea"))[
            0
        ]

        def press_until(key: str, screen: str) -> None:
            keys.send_keys(key)
            poll(f"{screen} after {key!r}", _seat(seats, lambda s: s.screen == screen))

        press_until("f", "FindingsScreen")
        press_until("x", "RemediationScreen")
        # The plan comes from a worker and `a` before it is ready does nothing: ask again, now and then.
        asked = [0.0]
        confirming = _seat(seats, lambda s: s.screen == "ConfirmStepScreen")

        def ask_to_apply() -> SeatProgress | None:
            if time.monotonic() - asked[0] > 3.0:
                keys.send_keys("a")
                asked[0] = time.monotonic()
            return confirming()

        poll("the confirmation", ask_to_apply)
        keys.send_keys("y")
        poll("the key usable again", lambda: all(h.can_use_key for h in desk.health()))
        assert desk.writes() >= 1
        shot = tmp_path / "serve-browser.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000  # a rendered terminal, not a blank page
        print(f"screenshot: {shot}")
    finally:
        driver.quit()
