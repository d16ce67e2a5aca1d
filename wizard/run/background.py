"""One call on a daemon thread, its answer as a Future: a read Azure sits on never holds up the exit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def in_background(call: Callable[[], T], name: str) -> Future[T]:
    """Start `call` on a daemon thread (a pool's threads are joined at exit; a cancelled wait must
    return at once); its result or exception lands in the Future, which a caller may drop."""
    future: Future[T] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(call())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=work, name=name, daemon=True).start()
    return future
