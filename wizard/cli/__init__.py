"""The command line and composition root: parses flags, picks a backend, runs a command.

Exit codes (a contract): 0 healthy, 1 critical findings, 2 bad input or usage,
3 incomplete (could not decide: auth, network, permission).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from wizard import __version__
from wizard.domain.errors import BadInput, WizardError
from wizard.domain.ids import CLUSTER_TYPE, parse_resource_id

if TYPE_CHECKING:
    from wizard.cli.wiring import EmulatorBackend, LiveBackend

EXIT_HEALTHY, EXIT_CRITICAL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
DEFAULT_DEMO_SCENARIO = "key-expired"
DEFAULT_RETRY_TOTAL = 4
RETRY_TOTAL_ENV = "CMK_WIZARD_RETRY_TOTAL"
EMULATOR_TOKEN_ENV = "CMK_WIZARD_EMULATOR_TOKEN"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _add_target(parser: argparse.ArgumentParser, *, cluster_required: bool = False) -> None:
    target = parser.add_argument_group("target (live Azure unless --scenario or --emulator)")
    target.add_argument(
        "--cluster",
        metavar="ID",
        required=cluster_required,
        help="resource ID of the Microsoft.DocumentDB/mongoClusters cluster",
    )
    source = target.add_mutually_exclusive_group()
    source.add_argument(
        "--scenario",
        metavar="NAME|FILE",
        help="run against an embedded emulator with this scenario or estate file",
    )
    source.add_argument(
        "--emulator", metavar="CONNECTION_FILE", help="run against a running emulator (its connection file)"
    )
    target.add_argument(
        "--read-only", action="store_true", help="make every write impossible (enforced in the gateway)"
    )
    _add_status_mode(target, "--scenario only: ")
    target.add_argument(
        "--auth",
        choices=("auto", "cli", "device-code"),
        default="auto",
        help="live sign-in: Azure CLI then azure-identity's chain (auto), or device code",
    )
    target.add_argument("--subscription", metavar="ID", help="default subscription (live)")
    target.add_argument(
        "--retry-total",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="retries per request on 429/5xx/timeouts before giving up "
        f"(default {DEFAULT_RETRY_TOTAL}, or ${RETRY_TOTAL_ENV})",
    )
    target.add_argument(
        "--timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="per-request read timeout (default 30)",
    )


def _number(text: str, cast: Callable[[str], float], ok: Callable[[float], bool], rule: str) -> float:
    """Parse a flag's number and check its range, as one argparse error line."""
    try:
        value = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a {'whole ' if cast is int else ''}number: {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {rule}: {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 0, "0 or more"))


def _positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < float("inf"), "a positive number")


def _fraction(text: str) -> float:
    return _number(text, float, lambda v: 0.0 <= v <= 1.0, "between 0 and 1")


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Every command and flag of DESIGN.md's command-line contract."""
    parser = _Parser(
        prog="cmk-wizard",
        description=(
            "Guided troubleshooting for Azure DocumentDB clusters that lost access to their "
            "customer-managed key. Exit codes: 0 healthy, 1 critical findings, 2 bad input, "
            "3 incomplete."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cmk-wizard {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    tui = commands.add_parser("tui", help="the wizard, live against Azure (the default)")
    _add_target(tui)
    _add_wizard_options(tui)

    demo = commands.add_parser("demo", help="the wizard against an embedded emulator")
    demo.add_argument(
        "--scenario",
        metavar="NAME|FILE",
        default=DEFAULT_DEMO_SCENARIO,
        help=f"scenario to start with (default {DEFAULT_DEMO_SCENARIO})",
    )
    demo.add_argument("--cluster", metavar="ID", help="cluster to open (default: the scenario's)")
    demo.add_argument("--read-only", action="store_true", help="make every write impossible")
    _add_status_mode(demo)
    demo.add_argument(
        "--revalidate-seconds",
        type=float,
        default=5.0,
        metavar="S",
        help="how long a repaired cluster takes to turn Ready (default 5)",
    )
    _add_wizard_options(demo)

    diagnose = commands.add_parser("diagnose", help="non-interactive diagnosis")
    _add_target(diagnose)
    diagnose.add_argument("--format", choices=("text", "json"), default="text")

    emulator = commands.add_parser("emulator", help="run the emulator standalone")
    emulator.add_argument("--scenario", metavar="NAME|FILE", required=True)
    emulator.add_argument("--port", type=_port, default=0, help="ARM port (0 = any free port)")
    emulator.add_argument("--connection-file", metavar="PATH", default="cmk-emulator.json")
    emulator.add_argument("--latency-ms", type=_non_negative_int, default=0, metavar="N")
    emulator.add_argument(
        "--fault-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="share of requests answered 429 (Retry-After) or 503",
    )
    emulator.add_argument("--revalidate-seconds", type=float, default=5.0, metavar="S")
    _add_status_mode(emulator)

    commands.add_parser("scenarios", help="list the built-in emulator scenarios")
    _add_fix_parsers(commands)
    return parser


def _add_status_mode(parser: Any, prefix: str = "") -> None:
    """The emulator's status mode: whether lost key access shows in clusterStatus at all."""
    parser.add_argument(
        "--status-mode",
        choices=("documented", "arm-enum"),
        default=None,
        help=f"{prefix}how clusterStatus shows lost key access: Inaccessible (documented) or unchanged "
        "(arm-enum: only Resource Health tells); default: the estate's statusMode",
    )


def _add_wizard_options(parser: argparse.ArgumentParser) -> None:
    """Where the wizard writes, and how it draws."""
    parser.add_argument(
        "--audit-log", metavar="PATH", help="append-only JSONL audit log (default: the user state directory)"
    )
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help="where incident reports are saved (default: the user state directory)",
    )
    parser.add_argument(
        "--colours",
        choices=("auto", "terminal", "theme"),
        default="auto",
        help="terminal: defer to the terminal's 16-colour palette (low-colour, SSH)",
    )


def _add_fix_parsers(commands: Any) -> None:
    fix = commands.add_parser("fix", help="non-interactive remediation: plan, confirm, apply, verify")
    _add_target(fix)
    which = fix.add_mutually_exclusive_group(required=True)
    which.add_argument("--finding", metavar="CODE", help="fix this finding (and what it brings to light)")
    which.add_argument("--all", action="store_true", help="fix every finding that has a fix")
    fix.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
    fix.add_argument(
        "--yes",
        action="store_true",
        help="confirm y/N steps without asking; typed confirmations (irreversible or "
        "destructive steps) still need --confirm-name or a typed answer",
    )
    fix.add_argument(
        "--confirm-name",
        action="append",
        metavar="NAME",
        help="the typed confirmation of an irreversible or destructive step: the name of "
        "the resource it changes (repeatable)",
    )
    fix.add_argument(
        "--audit-log", metavar="PATH", help="append-only JSONL audit log (default: the user state dir)"
    )
    fix.add_argument("--report", metavar="PATH", help="write the Markdown incident report here")
    fix.add_argument(
        "--expiry-days",
        type=_non_negative_int,
        default=365,
        metavar="N",
        help="new key expiry: now + N days (default 365)",
    )
    fix.add_argument(
        "--wait-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="how long to wait for Ready (default 3600 live, 60 emulator)",
    )
    fix.add_argument(
        "--revalidate-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="--scenario only: emulator delay before a repaired cluster is Ready",
    )

    watch = commands.add_parser("watch", help="wait until the cluster is Ready (reads only)")
    _add_target(watch)
    watch.add_argument(
        "--wait-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="give up after this long (default 3600 live, 60 emulator); exit 3",
    )
    watch.add_argument(
        "--revalidate-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="--scenario only: emulator delay before a repaired cluster is Ready",
    )


def _retry_total(args: argparse.Namespace) -> int:
    """--retry-total, else $CMK_WIZARD_RETRY_TOTAL, else the default."""
    value = getattr(args, "retry_total", None)
    if value is not None:
        return int(value)
    env = os.environ.get(RETRY_TOTAL_ENV, "").strip()
    if not env:
        return DEFAULT_RETRY_TOTAL
    try:
        return _non_negative_int(env)
    except argparse.ArgumentTypeError as exc:
        raise BadInput(f"${RETRY_TOTAL_ENV}: {exc}") from None


def _options(args: argparse.Namespace) -> Any:
    from wizard.cli.wiring import Options

    return Options(
        read_only=bool(getattr(args, "read_only", False)),
        auth=getattr(args, "auth", "auto"),
        subscription_id=getattr(args, "subscription", None),
        retry_total=_retry_total(args),
        timeout_seconds=getattr(args, "timeout", 30.0),
        emulator_token=os.environ.get(EMULATOR_TOKEN_ENV) or None,
    )


def _cluster_arg(args: argparse.Namespace) -> str | None:
    cluster = getattr(args, "cluster", None)
    if cluster is None:
        return None
    return str(parse_resource_id(cluster, CLUSTER_TYPE))


def make_backend(args: argparse.Namespace) -> EmulatorBackend | LiveBackend:
    """The backend the flags ask for; emulator mode never builds DefaultAzureCredential."""
    from wizard.cli.wiring import EmulatorBackend, LiveBackend

    cluster = _cluster_arg(args)
    options = _options(args)
    if getattr(args, "scenario", None):
        return EmulatorBackend(
            options,
            scenario=args.scenario,
            cluster_id=cluster,
            revalidate_seconds=getattr(args, "revalidate_seconds", 0.0),
            status_mode=getattr(args, "status_mode", None),
        )
    if getattr(args, "emulator", None):
        return EmulatorBackend(options, connection_file=args.emulator, cluster_id=cluster)
    return LiveBackend(options, cluster)


def _run_diagnose(args: argparse.Namespace) -> int:
    from wizard.cli.wiring import target_cluster
    from wizard.run.diagnose import diagnose
    from wizard.run.text import diagnosis_text

    backend = make_backend(args)
    try:
        cluster_id = target_cluster(backend)
        result = diagnose(backend.connect(), cluster_id)
    finally:
        backend.close()
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(diagnosis_text(result))
    return result.exit_code


def _run_tui(args: argparse.Namespace) -> int:
    from screens.app import WizardApp

    backend = make_backend(args)
    try:
        if getattr(args, "auth", "auto") == "device-code" and not backend.scenarios():
            # The TUI owns the terminal once it runs, so the device code must be shown (and the
            # sign-in finished) before it starts.
            backend.connect().operator()
        colours = {"terminal": True, "theme": False}.get(args.colours)
        app = WizardApp(
            backend,
            cluster_id=backend.default_cluster_id(),
            terminal_colours=colours,
            audit_path=args.audit_log,
            report_dir=args.report_dir,
        )
        result = app.run()
    finally:
        backend.close()
    return int(result or 0)


def _run_emulator(args: argparse.Namespace) -> int:
    from wizard.emulator.standalone import serve

    return serve(
        args.scenario,
        port=args.port,
        connection_file=args.connection_file,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        revalidate_seconds=args.revalidate_seconds,
        status_mode=args.status_mode,
        token=os.environ.get(EMULATOR_TOKEN_ENV) or None,
    )


def _run_scenarios(args: argparse.Namespace) -> int:
    from wizard.emulator import scenario_names

    print("\n".join(scenario_names()))
    return EXIT_HEALTHY


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command or "tui"
    if args.command is None:
        args = build_parser().parse_args(["tui"])
    if command in ("tui", "demo"):
        return _run_tui(args)
    if command == "diagnose":
        return _run_diagnose(args)
    if command == "emulator":
        return _run_emulator(args)
    if command == "fix":
        from wizard.cli.fix import run_fix

        return run_fix(args, make_backend)
    if command == "watch":
        from wizard.cli.fix import run_watch

        return run_watch(args, make_backend)
    return _run_scenarios(args)


def _is_estate_error(exc: Exception) -> bool:
    """A bad scenario name or estate file (the emulator's own error type) is bad input."""
    from wizard.emulator import EstateError

    return isinstance(exc, EstateError)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure is one line on stderr and a documented exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BadInput as exc:
        print(f"cmk-wizard: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except WizardError as exc:
        print(f"cmk-wizard: could not decide: {_one_line(exc)}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except KeyboardInterrupt:
        print("cmk-wizard: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if _is_estate_error(exc):
            print(f"cmk-wizard: {_one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        if os.environ.get("CMK_WIZARD_DEBUG"):
            raise
        print(
            f"cmk-wizard: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(set CMK_WIZARD_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
