"""WizardApp: the Textual shell; it owns the backend, theme, help and palette, and screens do the rest."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from screens.commands import WizardCommands
from screens.diagnosis import DiagnosisScreen
from screens.errors import explain
from screens.fix_paths import FixPaths
from screens.messages import (
    DiagnosisFailed,
    DiagnosisFinished,
    OperatorKnown,
    ReportReady,
    ScenarioSwitched,
    VerdictChanged,
)
from screens.start import StartScreen
from screens.themes import (
    FULL_COLOUR_THEME,
    NO_COLOUR_THEME,
    TERMINAL_COLOUR_THEME,
    THEME_LABELS,
    no_colour_theme,
    terminal_theme,
)
from wizard.domain.ports import Backend, Operator

if TYPE_CHECKING:  # the help, the findings and incidents load on first use, after the first frame
    from screens.help import HelpSection
    from wizard.run.incidents import Incident

EXIT_INCOMPLETE = 3
LATER_CSS = Path(__file__).with_name("app_later.tcss")
"""The other screens' look, parsed after the first frame (app.tcss holds what a first frame draws)."""
KEY_NAMES = {"up,down,j,k": "↑↓ j k", "pgup,pgdn,j,k": "pgup pgdn j k", "pgup,pgdn": "pgup pgdn"}
"""How the help writes keys that come in groups."""
SCREEN_NAMES = {
    "StartScreen": "Clusters",
    "DiagnosisScreen": "Checklist",
    "FindingsScreen": "Findings",
    "RemediationScreen": "Fix",
}
"""What escape from a report opened by the palette goes back to, as its footer says."""
APP_KEYS = ("quit", "help", "toggle_colours", "command_palette")
"""The app's own actions, hidden and off under a modal."""


def prefers_terminal_colours(environ: Mapping[str, str]) -> bool:
    """16-colour terminals (the Linux console, plain xterm/screen without COLORTERM) get their own palette."""
    if environ.get("CMK_WIZARD_COLOURS", "").lower() in ("terminal", "ansi", "16"):
        return True
    if environ.get("COLORTERM") or "256" in environ.get("TERM", ""):
        return False
    return environ.get("TERM", "") in ("linux", "vt100", "vt220", "xterm", "screen", "tmux")


def only_bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    """The Binding objects of a BINDINGS list (tuples carry no id or tooltip to show)."""
    return [b for b in bindings if isinstance(b, Binding)]


def describe_operator(label: str, operator: Operator) -> str:
    """The context bar's words for who is asking, and through what."""
    if operator.mode == "emulator":
        return f"cmk-wizard · {label} · {operator.account}"
    subscription = f" · subscription {operator.subscription_id}" if operator.subscription_id else ""
    return f"cmk-wizard · {label} · {operator.account} · tenant {operator.tenant_id}{subscription}"


class WizardApp(App[int]):
    """Returns the last diagnosis' exit code (0 healthy, 1 critical findings, 3 could not decide)."""

    TITLE = "cmk-wizard"
    CSS_PATH = ["app.tcss"]
    COMMANDS = App.COMMANDS | {WizardCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave the wizard (exit code: the verdict)"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key, on one page"),
        Binding(
            "ctrl+t",
            "toggle_colours",
            "Colours",
            id="app.colours",
            show=False,
            tooltip="Switch between full colour and the terminal's own palette",
        ),
    ]

    context_line: reactive[str] = reactive("")
    read_only: reactive[bool] = reactive(False)

    def __init__(
        self,
        backend: Backend,
        *,
        cluster_id: str | None = None,
        terminal_colours: bool | None = None,
        audit_path: str | Path | None = None,
        report_dir: str | Path | None = None,
        my_ip: str | None = None,
        after_first_frame: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.after_first_frame = after_first_frame
        """Called once the first frame is on the terminal (the CLI turns the garbage collector back on)."""
        self.cluster_id = cluster_id
        self.fix_paths = FixPaths(
            Path(audit_path) if audit_path else None, Path(report_dir) if report_dir else None, my_ip
        )
        self.last_report: ReportReady | None = None
        self.scenario_names: list[str] = []
        self.scenario_notes: dict[str, str] = {}
        playing = backend.current_scenario()
        self.playing: str | None = playing[0] if playing else None
        """The scenario the palette marks as playing now."""
        self.last_exit_code = 0
        self.incidents: dict[str, Incident] = {}
        """One incident per cluster while the wizard runs: every diagnosis and fix pass of it."""
        self.register_theme(terminal_theme())
        self.register_theme(no_colour_theme())
        use_terminal = prefers_terminal_colours(os.environ) if terminal_colours is None else terminal_colours
        self.full_colour_theme = NO_COLOUR_THEME if self.no_color else FULL_COLOUR_THEME
        """NO_COLOR (Textual greys every colour then) has a palette of its own, readable in grey."""
        self.theme = self.full_colour_theme if self.no_color or not use_terminal else TERMINAL_COLOUR_THEME

    def on_mount(self) -> None:
        """Show the start screen at once; connecting (which imports Azure) waits for the first frame."""
        self.read_only = self.backend.read_only
        self.context_line = f"cmk-wizard · {self.backend.label} · connecting…"
        self.push_screen(self.first_screen())
        self.call_after_refresh(self.first_frame_shown)

    def first_frame_shown(self) -> None:
        """After the first frame: tell whoever asked, then start connecting and load the other
        screens' look (only that file is parsed: the first frame's rules are cached)."""
        if self.after_first_frame is not None:
            self.after_first_frame()
        self.connect_backend()
        if not self.stylesheet.has_source(str(LATER_CSS)):
            self.stylesheet.read(LATER_CSS)
            self.stylesheet.parse()
            self.stylesheet.update(self)

    def first_screen(self) -> Screen[None]:
        """The fleet view, opening the cluster named on the command line (a drill opens a briefing)."""
        return StartScreen(self.backend, open_cluster=self.cluster_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="connect")
    def connect_backend(self) -> None:
        """Build the gateway (imports the Azure SDK) off the UI thread and learn who we are."""
        reader = self.backend.connect()
        operator = reader.operator()
        self.scenario_names = self.backend.scenarios()
        self.scenario_notes = self.backend.scenario_descriptions()
        self.post_message(OperatorKnown(operator))

    @on(OperatorKnown)
    def show_operator(self, message: OperatorKnown) -> None:
        """Every screen's context bar follows this line."""
        self.context_line = describe_operator(self.backend.label, message.operator)

    def incident_for(self, cluster_id: str) -> Incident:
        """The cluster's incident (made on first use): its report covers every diagnosis and pass."""
        from wizard.run.incidents import Incident

        key = cluster_id.lower()
        if key not in self.incidents:
            self.incidents[key] = Incident(cluster_id)
        return self.incidents[key]

    @on(DiagnosisFinished)
    def remember_verdict(self, message: DiagnosisFinished) -> None:
        """Quitting returns the verdict of the last diagnosis as the exit code (0 once a fix of this
        incident deleted the failed cluster: the documented end)."""
        incident = self.incident_for(message.diagnosis.cluster_id)
        incident.saw(message.diagnosis, "checklist")
        self.last_exit_code = incident.exit_code

    @on(ReportReady)
    def remember_report(self, message: ReportReady) -> None:
        """The palette's "Open report" shows the latest one; one written here opens at once."""
        self.last_report = message
        if message.open_here:
            from screens.incident import ReportScreen

            self.push_screen(ReportScreen(message.markdown, message.path, save_error=message.save_error))

    @on(DiagnosisFailed)
    def remember_failure(self, message: DiagnosisFailed) -> None:
        """A diagnosis that could not run leaves the question open (3), or the input was bad (2)."""
        self.last_exit_code = message.exit_code

    @on(VerdictChanged)
    def remember_fix_verdict(self, message: VerdictChanged) -> None:
        """A fix's fresh diagnosis (or a deleted failed cluster, exit 0) is the verdict now."""
        self.last_exit_code = message.exit_code

    @on(Worker.StateChanged)
    def explain_failure(self, event: Worker.StateChanged) -> None:
        """No app-level worker error ends the app; each becomes words (screens explain their own)."""
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        if event.worker.group == "connect":
            why = explain(error, doing="connecting")
            self.context_line = f"cmk-wizard · {self.backend.label} · not connected: {why.headline}"
            self.notify(f"{why.detail}\n{why.advice}", title=why.headline, severity="error", timeout=10)
        elif event.worker.group == "scenario":
            why = explain(error, doing="switching scenario")
            self.notify(f"{why.detail}\n{why.advice}", title=why.headline, severity="error", timeout=10)

    def help_sections(self) -> list[HelpSection]:
        """Keys by screen, from each screen's own bindings plus the widgets' built-in keys."""
        from screens.confirm import ConfirmStepScreen
        from screens.findings import FindingsScreen
        from screens.fix import RemediationScreen
        from screens.incident import ReportScreen

        def keys(*pairs: tuple[str, str]) -> list[Binding]:
            return [Binding(key, "", what, key_display=KEY_NAMES.get(key)) for key, what in pairs]

        return [
            (
                "Everywhere",
                [
                    *only_bindings(self.BINDINGS),
                    *keys(
                        ("ctrl+p", "Command palette: re-run, switch cluster or scenario, colours, report"),
                        ("tab", "Next pane"),
                        ("shift+tab", "Previous pane"),
                        ("ctrl+q", "Quit at once"),
                    ),
                ],
            ),
            (
                "Cluster list",
                [
                    *keys(("up,down,j,k", "Move in the list"), ("enter", "Diagnose the cluster")),
                    *only_bindings(StartScreen.BINDINGS),
                ],
            ),
            (
                "Checklist",
                [
                    *keys(("up,down,j,k", "Move between checks; details follow")),
                    *only_bindings(DiagnosisScreen.BINDINGS),
                    *keys(("escape", "In the details: back to the checklist")),
                ],
            ),
            (
                "Findings",
                [
                    *keys(
                        ("up,down,j,k", "Move between findings; plan follows"),
                        ("enter", "Into the plan, to scroll it (escape: back to the list)"),
                    ),
                    *only_bindings(FindingsScreen.BINDINGS),
                ],
            ),
            (
                "Fix",
                [
                    *keys(
                        ("up,down,j,k", "Move between steps and results; the preview follows"),
                        ("enter", "Into the preview, to scroll it (escape: back to the steps)"),
                    ),
                    *only_bindings(RemediationScreen.BINDINGS),
                ],
            ),
            (
                "Confirm a step",
                [
                    *only_bindings(ConfirmStepScreen.BINDINGS),
                    *keys(("enter", "Irreversible steps: apply once the name is typed")),
                ],
            ),
            (
                "Report",
                [*keys(("pgup,pgdn,j,k", "Scroll the report")), *only_bindings(ReportScreen.BINDINGS)],
            ),
        ]

    def action_help(self) -> None:
        """Open the key list (once)."""
        from screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Under a modal (a confirmation, the help) only the modal's keys are live and shown."""
        return not (isinstance(self.screen, ModalScreen) and action in APP_KEYS)

    async def action_quit(self) -> None:
        """Leave with the verdict of the last diagnosis."""
        self.exit(self.last_exit_code)

    def action_toggle_colours(self) -> None:
        """Switch between full colour and the terminal's own palette."""
        self.theme = self.full_colour_theme if self.theme == TERMINAL_COLOUR_THEME else TERMINAL_COLOUR_THEME
        self.notify(THEME_LABELS[self.theme], title="Colours", timeout=2)

    def action_rerun_diagnosis(self) -> None:
        """Re-run the diagnosis on screen, from the checklist or the findings."""
        open_diagnoses = [s for s in self.screen_stack if isinstance(s, DiagnosisScreen)]
        if open_diagnoses:
            while self.screen is not open_diagnoses[-1]:
                self.pop_screen()
            open_diagnoses[-1].start()
            return
        self.notify("Open a cluster first.", title="Nothing to re-run")

    def action_switch_cluster(self) -> None:
        """Back to the cluster list, with the filter focused."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, StartScreen):
            self.pop_screen()
        if isinstance(self.screen, StartScreen):
            self.screen.action_focus_filter()

    def action_open_report(self) -> None:
        """A fix on screen writes a fresh report of its incident; a finished diagnosis on screen, a
        diagnosis report of its incident (to hand over without write rights); else the last one."""
        from screens.fix import RemediationScreen
        from screens.incident import ReportScreen

        if isinstance(self.screen, ReportScreen):
            return
        fixes = [s for s in self.screen_stack if isinstance(s, RemediationScreen)]
        diagnosed = [s for s in self.screen_stack if isinstance(s, DiagnosisScreen) and s.diagnosis]
        if fixes and fixes[-1].session is not None and not fixes[-1].busy:
            while self.screen is not fixes[-1]:
                self.pop_screen()
            fixes[-1].action_report()
        elif diagnosed and not fixes:
            self.notify("Writing the diagnosis report…", title="Report", timeout=3)
            self.run_incident_report(self.incident_for(diagnosed[-1].cluster_id), self.fix_paths.reports())
        elif self.last_report is not None:
            report = self.last_report
            back = SCREEN_NAMES.get(type(self.screen).__name__, "Back")
            self.push_screen(
                ReportScreen(report.markdown, report.path, save_error=report.save_error, back_label=back)
            )
        else:
            self.notify(
                "No report yet: open a cluster and let its diagnosis finish; then Open report writes "
                "the diagnosis report (x on the findings fixes it, and the report records that too).",
                title="Report",
            )

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def run_incident_report(self, incident: Incident, folder: Path) -> None:
        """The incident's report (a diagnosis only, or its fixes too), saved; it opens when ready."""
        from screens.incident import write_report

        self.post_message(write_report(self.backend, incident, folder, open_here=True))

    def switch_scenario(self, name: str) -> None:
        """Restart the embedded emulator on another scenario, in a worker."""
        self.context_line = f"cmk-wizard · switching to scenario {name}…"
        self.run_scenario_switch(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="scenario")
    def run_scenario_switch(self, name: str) -> None:
        """Slow: stops one emulator and starts another; only posts messages."""
        self.backend.switch_scenario(name)
        self.playing = name
        reader = self.backend.connect()
        default = self.backend.default_cluster_id()
        self.post_message(OperatorKnown(reader.operator()))
        self.post_message(ScenarioSwitched(name, default))

    @on(ScenarioSwitched)
    def reopen_for_scenario(self, message: ScenarioSwitched) -> None:
        """Back to the (new) cluster list, then straight into the scenario's cluster."""
        self.action_switch_cluster()
        if isinstance(self.screen, StartScreen):
            self.screen.reload_for_scenario(message.default_cluster_id)
