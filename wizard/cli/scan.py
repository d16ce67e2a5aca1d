"""`cmk-wizard scan`: every DocumentDB cluster in sight, judged from a handful of Resource Graph queries.

Also the `--fleet N` flags that `emulator`, `demo` and `scan` share: a generated estate of N
clusters over S subscriptions sharing K keys, a seeded share of them broken.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wizard.cli.output import add_output_flags
from wizard.domain.errors import BadInput
from wizard.domain.ids import quoted

MAX_EXPIRING_DAYS = 3650
MAX_FLEET = 100_000
_DAYS = re.compile(r"^\s*(\d{1,5})\s*(d|days?)?\s*$", re.I)
_WEEKS = re.compile(r"^\s*(\d{1,4})\s*(w|weeks?)\s*$", re.I)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_GROUP = re.compile(r"^[A-Za-z0-9._()-]{1,90}$")


def expiring_within(text: str) -> int:
    """`30d`, `30`, `2w`: the warning window in days, 1 to 3650 (an argparse type)."""
    days = _DAYS.match(text or "")
    weeks = _WEEKS.match(text or "")
    value = int(days.group(1)) if days else int(weeks.group(1)) * 7 if weeks else None
    if value is None or not 1 <= value <= MAX_EXPIRING_DAYS:
        raise argparse.ArgumentTypeError(
            f"must be a number of days (30d) or weeks (2w), 1 to {MAX_EXPIRING_DAYS} days: {quoted(text)}"
        )
    return value


def subscription_id(text: str) -> str:
    """A subscription GUID (an argparse type)."""
    if not _GUID.match(text.strip()):
        raise argparse.ArgumentTypeError(f"not a subscription GUID: {quoted(text)}")
    return text.strip()


def management_group(text: str) -> str:
    """A management group name (an argparse type)."""
    if not _GROUP.match(text.strip()):
        raise argparse.ArgumentTypeError(f"not a management group name: {quoted(text)}")
    return text.strip()


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number: {quoted(text)}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low} to {high}: {quoted(text)}")
        return value

    return parse


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--broken must be a share from 0 to 1: {quoted(text)}") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"--broken must be a share from 0 to 1: {quoted(text)}")
    return value


def add_fleet_flags(parser: argparse.ArgumentParser, *, alone: bool = False) -> None:
    """--fleet N and its shape (--keys, --subscriptions, --broken, --seed)."""
    group = parser.add_argument_group("generated fleet (emulator)")
    if not alone:
        group.add_argument(
            "--fleet",
            type=_whole(1, MAX_FLEET, "--fleet"),
            metavar="N",
            help="an embedded emulator with N generated clusters",
        )
    group.add_argument(
        "--keys", type=_whole(1, MAX_FLEET, "--keys"), metavar="K", help="distinct keys (default N/20)"
    )
    group.add_argument(
        "--subscriptions", type=_whole(1, 1000, "--subscriptions"), default=5, metavar="S", help="default 5"
    )
    group.add_argument(
        "--broken", type=_share, default=0.1, metavar="F", help="share of clusters broken (0.1)"
    )
    group.add_argument("--seed", type=_whole(0, 2**31, "--seed"), default=1, metavar="N", help="default 1")


def fleet_estate(args: argparse.Namespace) -> Any:
    """The generated estate the --fleet flags describe (bad combinations are bad input)."""
    from wizard.emulator import EstateError, fleet_estate

    clusters = int(args.fleet)
    keys = args.keys if args.keys is not None else max(1, clusters // 20)
    try:
        return fleet_estate(
            clusters, keys=keys, subscriptions=args.subscriptions, broken=args.broken, seed=args.seed
        )
    except EstateError as exc:
        raise BadInput(str(exc).replace("estate --fleet: fleet.", "--")) from None


def add_scan_parser(commands: Any, add_connection: Callable[[argparse.ArgumentParser], None]) -> None:
    """The `scan` subcommand and its flags."""
    scan = commands.add_parser("scan", help="every DocumentDB cluster in sight, from Resource Graph")
    add_connection(scan)
    where = scan.add_mutually_exclusive_group()
    where.add_argument(
        "--subscription",
        dest="subscriptions_in_scope",
        action="append",
        type=subscription_id,
        metavar="ID",
        help="scan this subscription (repeatable; default: every one you can see)",
    )
    where.add_argument(
        "--management-group", type=management_group, metavar="NAME", help="scan a management group"
    )
    add_output_flags(scan, ("table", "json", "csv", "tsv", "yaml"), "table")
    scan.add_argument(
        "--expiring-within",
        type=expiring_within,
        default=30,
        metavar="DAYS",
        help="warn about keys that expire within this window (default 30d; diagnose always uses 30)",
    )
    scan.add_argument("--all", action="store_true", help="table: list healthy clusters too")
    scan.add_argument(
        "--max-parallel",
        type=_whole(1, 64, "--max-parallel"),
        default=32,
        metavar="N",
        help="key reads at once",
    )
    add_fleet_flags(scan)


def run_scan(args: argparse.Namespace, make_backend: Callable[[argparse.Namespace], Any]) -> int:
    """Scan, print the report in the asked format, exit 0 healthy / 1 critical / 3 incomplete."""
    from wizard.cli.output import query, render
    from wizard.domain.fleet import FleetScope
    from wizard.run.scan import scan
    from wizard.run.scan_output import table, to_csv, to_json

    if args.query is not None and args.output == "csv":
        raise BadInput("--query shapes JSON: use --output json, yaml, tsv or table with it")
    scope = FleetScope(tuple(args.subscriptions_in_scope or ()), args.management_group)
    backend = make_backend(args)
    now = datetime.now(UTC)
    try:
        report = scan(
            backend.fleet(),
            scope,
            expiring_days=args.expiring_within,
            max_parallel=args.max_parallel,
            now=now,
        )
    finally:
        backend.close()
    if args.query is not None or args.output in ("tsv", "yaml"):
        print(render(query(to_json(report, now), args.query), args.output))
    elif args.output == "json":
        print(json.dumps(to_json(report, now)))  # one line: thousands of clusters stay fast to write
    elif args.output == "csv":
        print(to_csv(report), end="")
    else:
        print(table(report, now, show_all=args.all))
    return report.exit_code
