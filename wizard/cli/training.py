"""`cmk-wizard drill` (and its room report): the composition root of the training tools.

Registered on the parser by `add_training_parsers` and dispatched by `run_training`, so the main
parser module only carries a two-line hook. `drill_app` is what a browser server launches per seat.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.errors import BadInput
from wizard.training import LEVELS

if TYPE_CHECKING:  # scorecards load when a drill or the room report runs, not for every command
    from screens.drill import DrillApp
    from wizard.training.drill import DrillSpec
    from wizard.training.scorecard import PathStep

TRAINING_COMMANDS = ("drill", "capture")
MAX_SEED = 2**31 - 1
MAX_CARD_BYTES = 1 << 20
DEFAULT_REVALIDATE_SECONDS = 5.0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_SEED}: {text[:40]!r}")
    return value


def _trainee(text: str) -> str:
    name = text.strip()
    if not re.fullmatch(r"[\w .@-]{1,64}", name):
        raise argparse.ArgumentTypeError("a name of 1 to 64 letters, digits, spaces, dots, @, _ or -")
    return name


def add_training_parsers(commands: Any, add_target: Callable[..., None]) -> None:
    """The training subcommands (drill; capture lives in wizard/cli/capture.py)."""
    drill = commands.add_parser("drill", help="a seeded drill: a hidden fault, a scorecard, the reveal")
    drill.add_argument(
        "--seed", type=_seed, default=None, metavar="N", help="same seed, same drill (default: random)"
    )
    drill.add_argument(
        "--level", type=int, choices=LEVELS, default=1, help="1 one cause, 2 two, 3 interacting"
    )
    drill.add_argument("--teach", action="store_true", help="predict each check's answer, then read why")
    drill.add_argument("--trainee", type=_trainee, default=None, metavar="NAME", help="name on the scorecard")
    drill.add_argument(
        "--scorecard-dir",
        metavar="DIR",
        default=None,
        help="where the scorecard JSON is saved (default: <user state dir>/cmk-wizard/drills)",
    )
    drill.add_argument(
        "--report",
        metavar="DIR",
        default=None,
        help="do not drill: collect the scorecards in DIR into a room report",
    )
    drill.add_argument("--format", choices=("text", "json"), default="text", help="--report's output")
    drill.add_argument(
        "--colours",
        choices=("auto", "terminal", "theme"),
        default="auto",
        help="terminal: defer to the terminal's 16-colour palette (low-colour, SSH)",
    )
    from wizard.cli.capture import add_capture_parser

    add_capture_parser(commands, add_target)


def run_training(args: argparse.Namespace, make_backend: Callable[[argparse.Namespace], Any]) -> int:
    """Dispatch a training subcommand."""
    if args.command == "capture":
        from wizard.cli.capture import run_capture

        return run_capture(args, make_backend)
    if args.report is not None:
        return _room(Path(args.report), args.format)
    from wizard.cli import _require_terminal

    _require_terminal("drill")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    colours = {"terminal": True, "theme": False}.get(args.colours)
    app = drill_app(
        seed,
        args.level,
        teach=args.teach,
        trainee=args.trainee,
        scorecard_dir=Path(args.scorecard_dir) if args.scorecard_dir else None,
        terminal_colours=colours,
    )
    try:
        return int(app.run() or 0)
    finally:
        app.backend.close()


def default_scorecard_dir() -> Path:
    """`<user state dir>/cmk-wizard/drills`."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("cmk-wizard")) / "drills"


def drill_backend(
    spec: DrillSpec,
    *,
    revalidate_seconds: float = DEFAULT_REVALIDATE_SECONDS,
    emulator_token: str | None = None,
) -> EmulatorBackend:
    """An embedded emulator of the drill's own estate (no scenario list: switching would reveal it)."""
    from wizard.emulator import Estate
    from wizard.training.drill import drill_estate

    estate = Estate.from_data(drill_estate(spec), "drill")
    cluster_id = estate.build(0.0).clusters[0].id
    return DrillBackend(
        Options(emulator_token=emulator_token),
        estate=estate,
        cluster_id=cluster_id,
        revalidate_seconds=revalidate_seconds,
    )


class DrillBackend(EmulatorBackend):
    """An embedded emulator that never names its estate nor offers another one."""

    @property
    def label(self) -> str:
        """What the screens say we are talking to: a drill, never its causes."""
        return "drill"

    def scenarios(self) -> list[str]:
        """No scenario switching in a drill."""
        return []


class EmulatorJudge:
    """The end of a drill: the emulator's own verdict, the path the wizard's fix takes, the file."""

    def __init__(self, backend: EmulatorBackend, spec: DrillSpec, scorecard_dir: Path | None) -> None:
        self.backend = backend
        self.spec = spec
        self.scorecard_dir = scorecard_dir

    def came_back(self) -> bool:
        """The emulator (never the wizard's engine) says whether the cluster is Ready and can use its key."""
        cluster_id = self.backend.default_cluster_id()
        row = self.backend.emulator.health()["clusters"].get(cluster_id, {})
        return bool(row.get("status") == "Ready" and row.get("canUseKey"))

    def shortest_path(self) -> list[PathStep]:
        """The steps `fix --all --yes` applies to a fresh copy of the drill's estate."""
        return shortest_path(self.spec)

    def save(self, card: dict[str, Any]) -> str:
        """Write the card owner-only; a failure is said in place of the path, never raised."""
        folder = self.scorecard_dir or default_scorecard_dir()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        who = re.sub(r"[^\w.-]", "_", str(card["trainee"]))
        path = folder / f"{who}-seed{self.spec.seed}-level{self.spec.level}-{stamp}.json"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(card, out, indent=2)
        except OSError as exc:
            return f"not saved: {exc.strerror or exc}"
        return str(path)


def shortest_path(spec: DrillSpec) -> list[PathStep]:
    """Replay the drill on an emulator of its own and let the wizard's own fix run it to Ready."""
    from wizard.domain.catalog import load_catalog
    from wizard.domain.results import StepKind
    from wizard.run.audit import audit_log
    from wizard.run.confirmation import auto_confirm
    from wizard.run.fix import FixSession
    from wizard.run.fix_settings import FixSettings
    from wizard.training.scorecard import PathStep

    backend = drill_backend(spec, revalidate_seconds=0.0)
    remediations = load_catalog().remediations
    with tempfile.TemporaryDirectory(prefix="cmk-wizard-drill-") as folder:
        try:
            cluster_id = backend.default_cluster_id()
            assert cluster_id is not None
            session = FixSession(
                backend.connect(),
                cluster_id,
                audit=audit_log(backend, str(Path(folder) / "audit.jsonl")),
                settings=FixSettings.for_mode("emulator", wait_timeout=30.0),
            )
            result = session.run(auto_confirm)
        finally:
            backend.close()
    return [
        PathStep(o.step.remediation, o.step.finding, remediations[o.step.remediation].title)
        for o in result.outcomes
        if o.step.kind == StepKind.WRITE and o.succeeded
    ]


def drill_app(
    seed: int,
    level: int,
    *,
    teach: bool = False,
    trainee: str | None = None,
    scorecard_dir: Path | None = None,
    terminal_colours: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
    revalidate_seconds: float = DEFAULT_REVALIDATE_SECONDS,
    audit_path: Path | None = None,
    report_dir: Path | None = None,
    emulator_token: str | None = None,
    app_class: type[DrillApp] | None = None,
    **app_options: Any,
) -> DrillApp:
    """One seat's drill: its own embedded emulator and estate. The caller runs the app and then
    closes `app.backend` (which stops the emulator).

    Its writes are audited in a log of the seat's own (a temporary one unless `audit_path`): a
    pending undo of one drill must never be carried into another drill on the same cluster id.
    `app_class` and `app_options` let a training-room seat add its own reporting (wizard.cli.seat)."""
    from screens.drill import DrillApp
    from wizard.training.drill import draw_drill
    from wizard.training.scorecard import DrillRecord

    spec = draw_drill(seed, level)
    backend = drill_backend(spec, revalidate_seconds=revalidate_seconds, emulator_token=emulator_token)
    record = DrillRecord(spec, trainee or os.environ.get("USER") or "trainee", clock, teach=teach)
    judge = EmulatorJudge(backend, spec, scorecard_dir)
    seat = Path(tempfile.mkdtemp(prefix="cmk-wizard-drill-"))
    return (app_class or DrillApp)(
        backend,
        record=record,
        judge=judge,
        terminal_colours=terminal_colours,
        audit_path=audit_path or seat / "audit.jsonl",
        report_dir=report_dir or seat / "reports",
        **app_options,
    )


def _room(folder: Path, output: str) -> int:
    """Every scorecard in the folder, side by side; unreadable files are named, not fatal."""
    from wizard.training.scorecard import room_lines, room_report

    if not folder.is_dir():
        raise BadInput(f"--report: not a directory: {str(folder)[:80]!r}")
    cards, skipped = [], []
    for path in sorted(folder.glob("*.json")):
        try:
            if not path.is_file() or path.stat().st_size > MAX_CARD_BYTES:
                raise ValueError("not a regular file up to 1 MiB")
            card = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(card, dict) or card.get("schema") != "cmk-wizard/drill-scorecard/v1":
                raise ValueError("not a drill scorecard")
            cards.append(card)
        except (OSError, ValueError) as exc:
            skipped.append(f"{path.name}: {exc}")
    room = room_report(cards)
    if output == "json":
        print(json.dumps({**room, "skipped": skipped}, indent=2))
    else:
        print("\n".join(room_lines(room)))
        for line in skipped:
            print(f"skipped {line}")
    return 0
