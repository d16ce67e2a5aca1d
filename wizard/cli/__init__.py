"""The command line and composition root: parses flags, picks a backend, runs a command.

Exit codes (a contract): 0 healthy, 1 critical findings, 2 bad input or usage,
3 incomplete (could not decide: auth, network, permission).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from wizard import __version__
from wizard.cli.collector import collector_paused, paused_until_first_frame
from wizard.cli.forensics import add_what_changed_flags, what_changed_for
from wizard.cli.output import add_output_flags
from wizard.cli.room_commands import ROOM_COMMANDS, add_room_parsers, run_room_command
from wizard.cli.scan import add_fleet_flags, add_scan_parser, fleet_estate
from wizard.cli.training import TRAINING_COMMANDS, add_training_parsers, run_training
from wizard.domain.errors import BadInput, WizardError
from wizard.domain.ids import CLUSTER_TYPE, parse_resource_id, quoted

if TYPE_CHECKING:
    from wizard.cli.wiring import EmulatorBackend, LiveBackend

EXIT_HEALTHY, EXIT_CRITICAL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
DEFAULT_DEMO_SCENARIO = "key-expired"
DIAGNOSE_OUTPUTS = ("text", "json", "table", "tsv", "yaml")
DIAGNOSE_TABLE = "findings[].{code: code, severity: severity, summary: summary}"
"""What `diagnose --output table|tsv` shows without --query: the findings, one row each."""
DEFAULT_RETRY_TOTAL = 4
RETRY_TOTAL_ENV = "CMK_WIZARD_RETRY_TOTAL"
EMULATOR_TOKEN_ENV = "CMK_WIZARD_EMULATOR_TOKEN"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line, with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _add_target(
    parser: argparse.ArgumentParser, *, cluster_required: bool = False, fleet: bool = False
) -> None:
    target = parser.add_argument_group("target (live Azure unless --scenario or --emulator)")
    if not fleet:
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
    if not fleet:
        target.add_argument("--subscription", metavar="ID", help="default subscription (live)")
    target.add_argument(
        "--retry-total",
        type=_retry_total_flag,
        default=None,
        metavar="N",
        help="retries per request on 429/5xx/timeouts before giving up "
        f"(default {DEFAULT_RETRY_TOTAL}, or ${RETRY_TOTAL_ENV}; at most {MAX_RETRY_TOTAL})",
    )
    target.add_argument(
        "--timeout",
        type=_timeout_seconds,
        default=30.0,
        metavar="SECONDS",
        help=f"per-request read timeout and sign-in bound (default 30, at most {MAX_TIMEOUT_SECONDS:g})",
    )


MAX_RETRY_TOTAL = 20
MAX_TIMEOUT_SECONDS = 3600.0
MAX_WAIT_SECONDS = 86400.0
EXPIRY_DAYS = (1, 3650)
MAX_REVALIDATE_SECONDS = 3600.0
MAX_LATENCY_MS = 60_000


def _number(text: str, cast: Callable[[str], float], ok: Callable[[float], bool], rule: str) -> float:
    """Parse a flag's number and check its range, as one argparse error line (nan and inf never pass)."""
    shown = quoted(text)
    try:
        value = cast(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not a {'whole ' if cast is int else ''}number: {shown}") from None
    if not math.isfinite(value) or not ok(value):
        raise argparse.ArgumentTypeError(f"must be {rule}: {shown}")
    return value


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        return int(_number(text, int, lambda v: low <= v <= high, f"a whole number from {low} to {high}"))

    return parse


def _seconds(high: float, *, zero: bool) -> Callable[[str], float]:
    """An argparse type: seconds, finite, at most `high` (0 allowed only when `zero`)."""
    rule = f"from 0 to {high:g}" if zero else f"more than 0 and at most {high:g}"
    low_ok: Callable[[float], bool] = (lambda v: v >= 0) if zero else (lambda v: v > 0)
    return lambda text: _number(text, float, lambda v: low_ok(v) and v <= high, rule)


_retry_total_flag = _whole(0, MAX_RETRY_TOTAL)
_timeout_seconds = _seconds(MAX_TIMEOUT_SECONDS, zero=False)
_wait_seconds = _seconds(MAX_WAIT_SECONDS, zero=False)
_revalidate_seconds = _seconds(MAX_REVALIDATE_SECONDS, zero=True)
_lag_seconds = _seconds(3600.0, zero=True)
_expiry_days = _whole(*EXPIRY_DAYS)
_latency_ms = _whole(0, MAX_LATENCY_MS)
_port = _whole(0, 65535)


def _fraction(text: str) -> float:
    return _number(text, float, lambda v: 0.0 <= v <= 1.0, "between 0 and 1")


def _my_ip(text: str) -> str:
    from wizard.domain.network import operator_address

    try:
        return operator_address(text)
    except BadInput as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--my-ip {text!r}: ")) from None


MY_IP_HELP = (
    "your public IPv4 address, as the vault sees it: when the vault firewall would refuse your "
    "data-plane calls, the wizard offers to add it as one temporary /32 rule (typed confirmation) "
    "and removes it after the fix (a firewall 403 also names it)"
)


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
        help=f"scenario to start with (default {DEFAULT_DEMO_SCENARIO}, unless --fleet)",
    )
    demo.add_argument("--cluster", metavar="ID", help="cluster to open (default: the scenario's)")
    demo.add_argument("--read-only", action="store_true", help="make every write impossible")
    _add_status_mode(demo)
    demo.add_argument(
        "--revalidate-seconds",
        type=_revalidate_seconds,
        default=5.0,
        metavar="S",
        help="how long a repaired cluster takes to turn Ready (default 5)",
    )
    _add_wizard_options(demo)
    add_fleet_flags(demo)

    diagnose = commands.add_parser("diagnose", help="non-interactive diagnosis")
    _add_target(diagnose)
    add_output_flags(diagnose, DIAGNOSE_OUTPUTS, "text")
    diagnose.add_argument(
        "--report",
        metavar="PATH",
        help="also write the Markdown diagnosis report here (findings, checks, what would fix it)",
    )
    add_what_changed_flags(diagnose)

    emulator = commands.add_parser("emulator", help="run the emulator standalone")
    emulator.add_argument("--scenario", metavar="NAME|FILE", help="a built-in scenario or an estate file")
    emulator.add_argument("--port", type=_port, default=0, help="ARM port (0 = any free port)")
    emulator.add_argument(
        "--connection-file",
        metavar="PATH",
        default="cmk-emulator.json",
        help="where to write its endpoints and token for --emulator (default cmk-emulator.json, mode 0600)",
    )
    emulator.add_argument(
        "--latency-ms",
        type=_latency_ms,
        default=0,
        metavar="N",
        help=f"added to every answer, as a slow Azure would be (default 0, at most {MAX_LATENCY_MS})",
    )
    emulator.add_argument(
        "--fault-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="share of requests answered 429 (Retry-After) or 503",
    )
    emulator.add_argument(
        "--revalidate-seconds",
        type=_revalidate_seconds,
        default=5.0,
        metavar="S",
        help="how long a repaired cluster takes to turn Ready (default 5)",
    )
    _add_status_mode(emulator)
    emulator.add_argument(
        "--grant-propagation-seconds",
        type=_lag_seconds,
        default=None,
        metavar="S",
        help="how long a new role assignment or access policy takes to be honoured (default: the "
        "estate's timing, else 0)",
    )
    emulator.add_argument(
        "--vault-recover-lag-seconds",
        type=_lag_seconds,
        default=None,
        metavar="S",
        help="how long a recovered vault's data plane still answers as if it were gone (default: "
        "the estate's timing, else 0)",
    )
    add_fleet_flags(emulator)

    scenarios = commands.add_parser(
        "scenarios", help="list the built-in emulator scenarios, each with what it shows"
    )
    add_output_flags(scenarios, ("text", "json", "table", "tsv", "yaml"), "text")
    add_room_parsers(commands, port=_port, seconds=_revalidate_seconds, seats=_whole(1, 500))
    _add_fix_parsers(commands)
    add_scan_parser(commands, lambda parser: _add_target(parser, fleet=True))
    add_training_parsers(commands, _add_target)
    parser.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[""])
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for name, command in commands.choices.items():
        command.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES.get(name, ()))
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    for command in commands.choices.values():
        command.add_argument("--version", action="version", version=f"cmk-wizard {__version__}")
    return parser


EXAMPLES: dict[str, tuple[str, ...]] = {
    "": (
        "cmk-wizard demo                                   # the wizard on a broken scenario",
        "cmk-wizard diagnose --cluster ID --format json    # for a pipeline",
        "cmk-wizard fix --cluster ID --all                 # asks y/N before each write",
    ),
    "tui": (
        "cmk-wizard tui --cluster /subscriptions/SUB/resourceGroups/RG/providers/"
        "Microsoft.DocumentDB/mongoClusters/NAME",
        "cmk-wizard tui --auth device-code --read-only     # an SSH host, looking only",
    ),
    "demo": (
        "cmk-wizard demo --scenario multi-fault",
        "cmk-wizard demo --fleet 200 --broken 0.1",
    ),
    "diagnose": (
        "cmk-wizard diagnose --cluster ID",
        "cmk-wizard diagnose --cluster ID --format json | jq '.findings[].code'",
        "cmk-wizard diagnose --scenario key-expired --report diagnosis.md   # hand over without write rights",
        "cmk-wizard diagnose --cluster ID --what-changed --since 30d",
    ),
    "emulator": (
        "cmk-wizard emulator --scenario multi-fault --connection-file /tmp/emu.json",
        "cmk-wizard emulator --fleet 1000 --keys 50 --subscriptions 20 --broken 0.05",
    ),
    "scenarios": ("cmk-wizard scenarios",),
    "serve": (
        "cmk-wizard serve --scenario multi-fault --room /tmp/room   # a training room for browsers",
        "cmk-wizard serve --drill --level 2 --max-seats 12",
    ),
    "trainer": ("cmk-wizard trainer --room /tmp/room", "cmk-wizard trainer --emulator /tmp/emu.json"),
    "drill": (
        "cmk-wizard drill --seed 42 --level 2   # the same hidden faults for the whole room",
        "cmk-wizard drill --teach               # predict each answer before it is shown",
        "cmk-wizard drill --report ~/room       # every trainee's scorecard, side by side",
    ),
    "capture": (
        "cmk-wizard capture --cluster ID --output incident.yaml   # read-only, redacted",
        "cmk-wizard demo --scenario incident.yaml                 # replay it",
    ),
    "fix": (
        "cmk-wizard fix --scenario multi-fault --all --dry-run",
        "cmk-wizard fix --cluster ID --finding KEY_EXPIRED --report incident.md",
        "cmk-wizard fix --cluster ID --all --yes --confirm-name NAME   # typed steps need the name",
    ),
    "watch": (
        "cmk-wizard watch --cluster ID",
        "cmk-wizard watch --cluster ID --wait-timeout 1800",
    ),
    "scan": (
        "cmk-wizard scan",
        "cmk-wizard scan --subscription SUB --output json | jq '.summary'",
        "cmk-wizard scan --management-group mg-prod --expiring-within 14d --output csv",
    ),
}
"""Each command's --help ends with these (the README's examples, short)."""


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
    """Where the wizard writes, how it draws, and where the operator comes from."""
    parser.add_argument("--my-ip", type=_my_ip, metavar="ADDRESS", help=MY_IP_HELP)
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
    add_what_changed_flags(fix)
    fix.add_argument("--my-ip", type=_my_ip, metavar="ADDRESS", help=MY_IP_HELP)
    fix.add_argument(
        "--expiry-days",
        type=_expiry_days,
        default=365,
        metavar="N",
        help=f"new key expiry: now + N days (default 365; {EXPIRY_DAYS[0]} to {EXPIRY_DAYS[1]})",
    )
    fix.add_argument(
        "--wait-timeout",
        type=_wait_seconds,
        metavar="SECONDS",
        help="how long to wait for Ready (default 3600 live, 60 emulator)",
    )
    fix.add_argument(
        "--revalidate-seconds",
        type=_revalidate_seconds,
        default=0.0,
        metavar="S",
        help="--scenario only: emulator delay before a repaired cluster is Ready",
    )

    watch = commands.add_parser("watch", help="wait until the cluster is Ready (reads only)")
    _add_target(watch)
    watch.add_argument(
        "--wait-timeout",
        type=_wait_seconds,
        metavar="SECONDS",
        help="give up after this long (default 3600 live, 60 emulator); exit 3",
    )
    watch.add_argument(
        "--revalidate-seconds",
        type=_revalidate_seconds,
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
        return _retry_total_flag(env)
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
    if getattr(args, "fleet", None):
        if getattr(args, "scenario", None) or getattr(args, "emulator", None):
            raise BadInput("--fleet makes its own emulator: leave out --scenario and --emulator")
        return EmulatorBackend(
            options,
            estate=fleet_estate(args),
            cluster_id=cluster,
            revalidate_seconds=getattr(args, "revalidate_seconds", 0.0),
        )
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

    if args.report:
        from wizard.run.outputs import check_report_path

        check_report_path(args.report)
    backend = make_backend(args)
    backend.open_early()  # ARM dialled now; TLS starts in connect(), before the engine imports
    try:
        cluster_id = target_cluster(backend)
        reader = backend.connect()
        from wizard.run.diagnose import diagnose

        result = diagnose(reader, cluster_id)
        changed = what_changed_for(args, backend, result)
        if args.report:
            _write_diagnosis_report(args.report, result, changed, reader)
    finally:
        backend.close()
    if args.output != "text" or args.query is not None:
        from wizard.cli.output import jmespath_query, query, render

        out = result.to_json()
        out = out if changed is None else {**out, "whatChanged": changed.to_json()}
        shape = args.query
        if shape is None and args.output in ("table", "tsv"):
            shape = jmespath_query(DIAGNOSE_TABLE)
        print(render(query(out, shape), "json" if args.output == "text" else args.output))
    else:
        from wizard.run.text import diagnosis_text

        print(diagnosis_text(result))
        if changed is not None:
            from wizard.run.forensics import timeline_lines

            print("\n".join(timeline_lines(changed)))
    return result.exit_code


def _write_diagnosis_report(path: str, result: Any, changed: Any, reader: Any) -> None:
    """The incident report of a diagnosis alone (findings, checks, what would fix it), to hand over;
    where it went goes to stderr, so stdout stays the diagnosis (JSON stays one object)."""
    from wizard.run.incident import incident_markdown, save_report
    from wizard.run.incidents import Incident

    incident = Incident(result.cluster_id)
    incident.saw(result, "diagnose")
    saved = save_report(incident_markdown(incident, what_changed=changed, reader=reader), path)
    print(f"diagnosis report: {saved}", file=sys.stderr)


def _require_terminal(command: str) -> None:
    """The wizard draws on a terminal and reads keys from it: without one Textual would hang (stdin
    from /dev/null, stdout piped) or fail inside (stdin closed), so say so instead."""
    if not all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout)):
        raise BadInput(
            f"{command} needs a terminal on stdin and stdout; without one use diagnose, fix or watch"
        )


def _run_tui(args: argparse.Namespace) -> int:
    with paused_until_first_frame() as resume:
        return _tui(args, resume)


def _tui(args: argparse.Namespace, after_first_frame: Callable[[], None]) -> int:
    from wizard.run.outputs import check_audit_path, check_report_dir

    if args.audit_log:
        check_audit_path(args.audit_log)
    if args.report_dir:
        check_report_dir(args.report_dir)
    backend = make_backend(args)
    try:
        _require_terminal(args.command or "tui")
        from screens.app import WizardApp

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
            my_ip=args.my_ip,
            after_first_frame=after_first_frame,
        )
        result = app.run()
    finally:
        backend.close()
    return int(result or 0)


def _run_emulator(args: argparse.Namespace) -> int:
    from wizard.emulator.standalone import serve

    if bool(args.scenario) == bool(args.fleet):
        raise BadInput("emulator needs exactly one of --scenario NAME|FILE and --fleet N")
    return serve(
        fleet_estate(args) if args.fleet else args.scenario,
        port=args.port,
        connection_file=args.connection_file,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        revalidate_seconds=args.revalidate_seconds,
        status_mode=args.status_mode,
        grant_propagation_seconds=args.grant_propagation_seconds,
        vault_recover_lag_seconds=args.vault_recover_lag_seconds,
        token=os.environ.get(EMULATOR_TOKEN_ENV) or None,
    )


def _run_scenarios(args: argparse.Namespace) -> int:
    """Each built-in scenario with the one-line description its YAML file gives it."""
    from wizard.cli.output import query, render
    from wizard.emulator import scenario_descriptions

    described = scenario_descriptions()
    if args.output == "text" and args.query is None:
        width = max(map(len, described), default=0)
        print("\n".join(f"{name:<{width}}  {text}" for name, text in described.items()))
        return EXIT_HEALTHY
    listed = [{"name": name, "description": text} for name, text in described.items()]
    print(render(query(listed, args.query), "json" if args.output == "text" else args.output))
    return EXIT_HEALTHY


def _demo_outputs(args: argparse.Namespace) -> None:
    """Against an emulator (demo, --scenario, --emulator, --fleet) the audit log and reports go to a
    demo directory of their own unless asked otherwise: never into the live audit log."""
    if not any(getattr(args, name, None) for name in ("scenario", "emulator", "fleet")):
        return
    from wizard.run.audit import demo_state_dir

    if hasattr(args, "audit_log") and not args.audit_log:
        args.audit_log = str(demo_state_dir() / "audit.jsonl")
    if hasattr(args, "report_dir") and not args.report_dir:
        args.report_dir = str(demo_state_dir() / "reports")


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command or "tui"
    if args.command is None:
        args = build_parser().parse_args(["tui"])
    if command == "demo" and not args.fleet and not args.scenario:
        args.scenario = DEFAULT_DEMO_SCENARIO
    _demo_outputs(args)
    if command in ("tui", "demo"):
        return _run_tui(args)
    if command == "diagnose":
        return _run_diagnose(args)
    if command == "emulator":
        return _run_emulator(args)
    if command in ROOM_COMMANDS:
        return run_room_command(args)
    if command == "fix":
        from wizard.cli.fix import run_fix

        return run_fix(args, make_backend)
    if command == "watch":
        from wizard.cli.fix import run_watch

        return run_watch(args, make_backend)
    if command == "scan":
        from wizard.cli.scan import run_scan

        return run_scan(args, make_backend)
    if command in TRAINING_COMMANDS:
        return run_training(args, make_backend)
    return _run_scenarios(args)


def _is_estate_error(exc: Exception) -> bool:
    """A bad scenario name or estate file (the emulator's own error type) is bad input."""
    from wizard.emulator import EstateError

    return isinstance(exc, EstateError)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush stays quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure is one line on stderr and a documented exit code."""
    if sys.stdin is None:  # started with stdin closed: reading it is the same as end of file
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    args = build_parser().parse_args(argv)
    try:
        with collector_paused(args.command, whole_process=argv is None):
            return _dispatch(args)
    except BrokenPipeError:
        _silence_stdout()
        print("cmk-wizard: stopped: standard output was closed (broken pipe)", file=sys.stderr)
        return EXIT_INCOMPLETE
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
