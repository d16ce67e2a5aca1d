"""The training room's commands (serve, trainer, and the seat each browser session runs), registered on
the main parser through one hook so the composition root stays small (drills live beside them)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from wizard.domain.errors import BadInput
from wizard.training import LEVELS

ROOM_COMMANDS = ("serve", "trainer", "seat")
DEFAULT_ROOM_SCENARIO = "key-expired"
DEFAULT_MAX_SEATS = 40


def add_room_parsers(
    commands: Any, *, port: Callable[[str], int], seconds: Callable[[str], float], seats: Callable[[str], int]
) -> None:
    """`serve`, `trainer` and the internal `seat` (the flag types come from the main parser)."""
    serve = commands.add_parser("serve", help="serve the wizard to browsers: a training room (emulator only)")
    exercise = serve.add_mutually_exclusive_group()
    exercise.add_argument(
        "--scenario", metavar="NAME|FILE", help=f"every seat's scenario (default {DEFAULT_ROOM_SCENARIO})"
    )
    exercise.add_argument("--drill", action="store_true", help="every seat gets the same seeded drill")
    serve.add_argument("--seed", type=int, metavar="N", help="--drill: the drill's seed (default: random)")
    serve.add_argument("--level", type=int, choices=LEVELS, default=1, help="--drill: how many causes")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other needs the room token it prints)",
    )
    serve.add_argument("--port", type=port, default=8000, help="port (default 8000; 0 = any free port)")
    serve.add_argument("--room", metavar="DIR", help="the room folder (default: a new temporary one)")
    serve.add_argument(
        "--max-seats",
        type=seats,
        default=DEFAULT_MAX_SEATS,
        metavar="N",
        help=f"browser sessions at once (default {DEFAULT_MAX_SEATS}; each runs its own emulator)",
    )
    serve.add_argument(
        "--revalidate-seconds",
        type=seconds,
        default=5.0,
        metavar="S",
        help="how long a repaired cluster takes to turn Ready (default 5)",
    )

    trainer = commands.add_parser("trainer", help="break a running emulator live, undo it, watch the room")
    target = trainer.add_mutually_exclusive_group(required=True)
    target.add_argument("--emulator", metavar="CONNECTION_FILE", help="a running emulator's connection file")
    target.add_argument("--room", metavar="DIR", help="a room `serve` opened: list its seats, break any")
    trainer.add_argument(
        "--log",
        metavar="PATH",
        help="append every change here as JSONL (default: the room folder or state dir)",
    )

    seat = commands.add_parser("seat", help=argparse.SUPPRESS)
    seat.add_argument("--room", required=True)
    kind = seat.add_mutually_exclusive_group(required=True)
    kind.add_argument("--scenario")
    kind.add_argument("--drill", action="store_true")
    seat.add_argument("--seed", type=int, default=0)
    seat.add_argument("--level", type=int, choices=LEVELS, default=1)
    seat.add_argument("--revalidate-seconds", type=seconds, default=5.0)


def run_room_command(args: argparse.Namespace) -> int:
    """Run serve, trainer or seat."""
    if args.command == "seat":
        from wizard.cli.seat import run_seat

        return run_seat(args)
    if args.command == "trainer":
        from wizard.cli.trainer import run_trainer

        return run_trainer(args)
    return _run_serve(args)


def _run_serve(args: argparse.Namespace) -> int:
    from wizard.cli.room import exercise_args, serve_room

    if not args.drill and (args.seed is not None or args.level != 1):
        raise BadInput("--seed and --level go with --drill")
    if not args.drill:
        from wizard.emulator import load_estate

        args.scenario = args.scenario or DEFAULT_ROOM_SCENARIO
        load_estate(args.scenario)  # a bad name or file is one line before the room opens
    flags, described = exercise_args(args)
    return serve_room(
        flags,
        described=described,
        host=args.host,
        port=args.port,
        room_folder=args.room,
        max_seats=args.max_seats,
    )
