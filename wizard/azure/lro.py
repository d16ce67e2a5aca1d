"""Long-running operations waited on in our own cadence, with progress the operator can see.

mongoClusters answer 201/202 with Azure-AsyncOperation and Location and never a Retry-After
(recorded), so azure-core would poll every 30 s unless told otherwise: every poller here gets the
factory's polling interval, and while it runs `report` hears its status and the time so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Report = Callable[[str], None]
_ENDED = frozenset({"succeeded", "failed", "canceled", "cancelled"})


def wait_reporting(poller: Any, what: str, interval: float, report: Report | None) -> Any:
    """The poller once its operation is done (its result not taken yet), reporting `what`, its
    status and the elapsed time after each wait."""
    started = time.monotonic()
    step = max(interval, 0.05)
    while not poller.done():
        try:
            poller.wait(timeout=step)
        except Exception:  # the operation ended badly: the caller's `result()` raises it again
            return poller
        status = str(poller.status() or "")
        if report is not None and not poller.done() and status.lower() not in _ENDED:
            elapsed = time.monotonic() - started
            report(
                f"{what}: {status}, {elapsed:.0f} s so far (the wizard polls every "
                f"{interval:g} s; Azure gives no Retry-After for it)"
            )
    return poller
