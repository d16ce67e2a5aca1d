"""`--what-changed`: the Activity Log behind a diagnosis's findings, for `diagnose` and `fix --report`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from wizard.cli.scan import expiring_within
from wizard.domain.history import DEFAULT_DAYS, MAX_DAYS

if TYPE_CHECKING:
    from wizard.domain.forensics import WhatChanged


def history_days(text: str) -> int:
    """`14d`, `14`, `2w`: how far back to read the Activity Log, 1 to 90 days (an argparse type)."""
    days = expiring_within(text)
    if days > MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"the Activity Log keeps {MAX_DAYS} days: at most {MAX_DAYS}d, not {text!r}"
        )
    return days


def add_what_changed_flags(parser: argparse.ArgumentParser) -> None:
    """--what-changed and --since."""
    parser.add_argument(
        "--what-changed",
        action="store_true",
        help="read the Activity Log for the operations behind each finding (who, when, what)",
    )
    parser.add_argument(
        "--since",
        type=history_days,
        default=DEFAULT_DAYS,
        metavar="DAYS",
        help=f"how far back --what-changed looks (default {DEFAULT_DAYS}d, at most {MAX_DAYS}d)",
    )


def what_changed_for(args: argparse.Namespace, backend: Any, diagnosis: Any) -> WhatChanged | None:
    """The timeline, when --what-changed asks for it (over the backend's signed-in clients)."""
    if not getattr(args, "what_changed", False):
        return None
    from wizard.run.forensics import what_changed

    return what_changed(backend.activity(), diagnosis, days=args.since)
