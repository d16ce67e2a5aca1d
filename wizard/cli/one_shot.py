"""Commands that start, do one job and exit, run with Python's cyclic garbage collector paused."""

from __future__ import annotations

import gc
from collections.abc import Iterator
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
