"""When Python's cyclic garbage collector runs: start-up imports about 600 modules, and the
collections that triggers walk every object made so far again and again, for nothing."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ONE_SHOT_COMMANDS = frozenset({"diagnose"})
"""Short-lived and bounded: a diagnosis makes a few dozen reads (a 100-subscription sweep about
200) and exits. Interactive and long-running commands (the TUI, fix, watch) keep the collector."""


@contextmanager
def collector_paused(command: str | None, *, whole_process: bool) -> Iterator[None]:
    """Pause the cyclic collector for a one-shot command: its start-up imports about 600 modules,
    and the collections that triggers walk every object made so far again and again (about 45 ms
    of a 0.6 s diagnose, measured); what the job itself leaves to the collector is small (a
    200-read sweep: about 4,000 objects, 1 MB). Reference counting frees everything else as usual.
    When the process exits right after (`whole_process`: main() was handed the real command
    line), the survivors are frozen so the interpreter's exit does not walk them all once more;
    a caller in the same process (a test) gets the collector back, nothing frozen."""
    if command not in ONE_SHOT_COMMANDS or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if whole_process:
            gc.freeze()
        gc.enable()


@contextmanager
def paused_until_first_frame() -> Iterator[Callable[[], None]]:
    """For the TUI: the collector paused through start-up (about 30 ms of collections before the
    first frame, measured); the context gives the `resume` to call once the first frame is shown
    (the TUI runs long: it needs its collector). What exists then is frozen out of later
    collections. Resumed on the way out too, if the TUI never drew (calling it twice does nothing)."""
    if not gc.isenabled():
        yield lambda: None
        return
    gc.disable()

    def resume() -> None:
        if not gc.isenabled():
            gc.freeze()
            gc.enable()

    try:
        yield resume
    finally:
        resume()
