"""Drill mode: the wizard on a hidden fault, scored; the briefing, naming the cause, the scorecard."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, SelectionList, Static
from textual.widgets.selection_list import Selection

from screens.app import WizardApp
from screens.diagnosis import DiagnosisScreen
from screens.findings import FindingsScreen
from screens.messages import DiagnosisFinished, StepApplied
from screens.widgets.context_bar import ContextBar
from screens.widgets.detail_pane import Block, DetailPane
from wizard.domain.catalog import load_catalog
from wizard.domain.models import CheckStatus, Severity
from wizard.domain.ports import Backend
from wizard.domain.results import OutcomeStatus, StepKind
from wizard.engine.tree import load_tree
from wizard.run.diagnose import Diagnosis
from wizard.training.scorecard import DrillJudge, DrillRecord, scorecard

NOT_ATTEMPTS = (OutcomeStatus.DECLINED, OutcomeStatus.CANCELLED)


def nameable_causes() -> list[tuple[str, str]]:
    """(code, title) of every critical cause of the catalogue: what a trainee may name."""
    findings = load_catalog().findings.values()
    return sorted(
        ((f.code, f.title) for f in findings if f.severity == Severity.CRITICAL and not f.symptom),
        key=lambda pair: pair[1],
    )


class DrillBriefing(Screen[None]):
    """The drill's first screen: what to do, never what is broken."""

    BINDINGS = [
        Binding("enter", "begin", "Begin", id="drill.begin", tooltip="Open the broken cluster"),
    ]

    def compose(self) -> ComposeResult:
        """The briefing in a box."""
        app = self.app
        assert isinstance(app, DrillApp)
        spec = app.record.spec
        yield ContextBar()
        with Vertical(id="drill-briefing"):
            yield Static(f"[b]Drill[/] · seed {spec.seed} · level {spec.level}", id="drill-title")
            yield Static(
                "A cluster has gone Inaccessible. Find out why and bring it back.\n\n"
                "  n  name the cause(s) when you know them\n"
                "  h  a hint (counts on your scorecard; so does opening Findings)\n"
                "  e  end the drill: your scorecard, then what was broken\n\n"
                + ("Teach mode: predict each check's answer before it is shown.\n\n" if app.teach else "")
                + "Press enter to begin.",
                id="drill-text",
            )
        yield Footer()

    def action_begin(self) -> None:
        """Open the drill's cluster: the checklist, or the teaching walk through the tree."""
        app = self.app
        assert isinstance(app, DrillApp)
        app.begin()


class NameCauseScreen(ModalScreen[tuple[str, ...] | None]):
    """Pick the causes from the catalogue (space toggles, enter submits, escape cancels)."""

    BINDINGS = [
        Binding(
            "enter", "submit", "Submit", id="name.submit", priority=True, tooltip="Submit the causes picked"
        ),
        Binding("escape", "cancel", "Cancel", id="name.cancel", tooltip="Back without naming"),
    ]

    def compose(self) -> ComposeResult:
        """The catalogue's causes as a checklist."""
        with Vertical(id="name-box"):
            yield Static("[b]Name the cause(s)[/]  ·  space picks, enter submits", id="name-title")
            yield SelectionList[str](
                *(Selection(escape(title), code) for code, title in nameable_causes()), id="name-list"
            )
        yield Footer()

    def action_submit(self) -> None:
        """Hand back what is picked."""
        self.dismiss(tuple(self.query_one("#name-list", SelectionList).selected))

    def action_cancel(self) -> None:
        """Hand back nothing."""
        self.dismiss(None)


def scorecard_blocks(card: dict[str, Any], saved: str) -> list[Block]:
    """The scorecard, then the reveal, from the saved JSON (so screen and file never disagree)."""
    diagnosis, writes, reveal = card["diagnosis"], card["writes"], card["reveal"]
    to_right = diagnosis["secondsToRight"]
    yes_no = {True: "yes", False: "no"}
    blocks: list[Block] = [
        ("title", f"Scorecard · {escape(card['trainee'])}"),
        ("field", "Right diagnosis: " + (f"after {to_right:.0f} s" if to_right is not None else "no")),
        ("field", f"Attempts at naming the cause: {len(diagnosis['attempts'])}"),
        ("field", f"Checks visited: {card['checksVisited']} of {len(load_tree())}"),
        (
            "field",
            f"Writes attempted: {writes['attempted']} ({writes['wrongOrUnnecessary']} wrong or unnecessary)",
        ),
        ("field", f"Hints used: {card['hintsUsed']}"),
        ("field", f"Cluster came back: {yes_no[card['clusterCameBack']]}"),
    ]
    if "teach" in card:
        blocks.append(
            ("field", f"Predictions right: {card['teach']['right']} of {card['teach']['predictions']}")
        )
    blocks.append(("heading", "What was broken"))
    blocks += [("field", f"{escape(c['code'])}: {escape(c['title'])}") for c in reveal["causes"]]
    if reveal["uncoveredLater"]:
        later = ", ".join(reveal["uncoveredLater"])
        blocks.append(("field", f"Seen only after an earlier fix: {escape(later)}"))
    if reveal["why"]:
        blocks.append(("field", escape(reveal["why"])))
    blocks.append(("heading", "The shortest path"))
    blocks += [
        ("field", f"{n}. {escape(s['remediation'])} (for {escape(s['finding'])}): {escape(s['title'])}")
        for n, s in enumerate(reveal["shortestPath"], 1)
    ]
    blocks.append(("line", f"Saved: {escape(saved)}"))
    return blocks


class ScorecardScreen(Screen[None]):
    """Judges the drill in a worker (the emulator's verdict, the shortest path), saves and shows it."""

    BINDINGS = [Binding("q", "app.quit", "Quit", id="scorecard.quit", tooltip="Leave the drill")]

    def __init__(self) -> None:
        super().__init__()
        self.card: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        """The card, once judged."""
        yield ContextBar()
        yield DetailPane(id="scorecard")
        yield Footer()

    def on_mount(self) -> None:
        """Judge off the UI thread: the shortest path replays the drill on an emulator of its own."""
        self.query_one("#scorecard", DetailPane).show([("line", "Scoring the drill…")])
        self.judge()

    @work(thread=True, exclusive=True, group="scorecard")
    def judge(self) -> None:
        """The verdict, the path, the saved card."""
        app = self.app
        assert isinstance(app, DrillApp)
        seconds = app.record.elapsed()
        card = scorecard(
            app.record, came_back=app.judge.came_back(), path=app.judge.shortest_path(), seconds=seconds
        )
        saved = app.judge.save(card)
        self.app.call_from_thread(self._show, card, saved)

    def _show(self, card: dict[str, Any], saved: str) -> None:
        self.card = card
        self.query_one("#scorecard", DetailPane).show(scorecard_blocks(card, saved), scroll_home=True)


class DrillApp(WizardApp):
    """The wizard with the cause hidden: every scored move is recorded in a DrillRecord."""

    BINDINGS = [
        *WizardApp.BINDINGS,
        Binding("n", "name_cause", "Name cause", id="drill.name", tooltip="Name the cause(s) you found"),
        Binding("h", "hint", "Hint", id="drill.hint", tooltip="Point at a check worth reading (scored)"),
        Binding("e", "end_drill", "End drill", id="drill.end", tooltip="Your scorecard, then the reveal"),
    ]

    def __init__(self, backend: Backend, record: DrillRecord, judge: DrillJudge, **options: Any) -> None:
        super().__init__(backend, cluster_id=backend.default_cluster_id(), **options)
        self.record = record
        self.judge = judge
        self.teach = record.teach
        self.latest: Diagnosis | None = None
        self.ended = False
        self.hides_causes = True
        """The checklist leaves its cursor where the trainee put it, rather than on the cause."""

    def first_screen(self) -> Screen[None]:
        """The briefing instead of the cluster list (whose scan would name the cause)."""
        return DrillBriefing()

    def begin(self) -> None:
        """The clock starts when the trainee opens the cluster."""
        from screens.teach import TeachScreen

        self.record.started = self.record.clock()
        assert self.cluster_id is not None
        if self.teach:
            self.push_screen(TeachScreen(self.backend, self.cluster_id))
        else:
            self.push_screen(DiagnosisScreen(self.backend, self.cluster_id))

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """Opening the findings names the causes: it counts as a hint."""
        if isinstance(screen, FindingsScreen) and not self.ended:
            self.record.hint("findings")
        return super().push_screen(screen, *args, **kwargs)

    @on(DiagnosisFinished)
    def keep_diagnosis(self, message: DiagnosisFinished) -> None:
        """Hints point at what the latest diagnosis found."""
        self.latest = message.diagnosis

    @on(OptionList.OptionHighlighted, "#checks")
    def visited(self, message: OptionList.OptionHighlighted) -> None:
        """Each check the trainee moves to counts as visited."""
        specs = load_tree()
        if 0 <= message.option_index < len(specs):
            self.record.visit(specs[message.option_index].id)

    @on(StepApplied)
    def attempted(self, message: StepApplied) -> None:
        """Every write asked for counts (declined ones are not attempts)."""
        step, status = message.outcome.step, message.outcome.status
        if step.kind == StepKind.WRITE and status not in NOT_ATTEMPTS:
            self.record.write(step.remediation, step.finding, step.target, str(status))

    def action_hint(self) -> None:
        """The first failed check not visited yet (else the first failed one)."""
        if self.latest is None:
            self.notify("Open the cluster and let the checks answer first.", title="Hint")
            return
        catalog = load_catalog()
        causes = [f.check_id for f in self.latest.findings if not catalog.finding(f.code).symptom]
        failed = [c.id for c in self.latest.assessment.checks if c.status == CheckStatus.FAIL]
        pointers = list(dict.fromkeys([*causes, *failed]))
        if not pointers:
            self.notify("Every check passes now: is the cluster Ready yet?", title="Hint")
            return
        target = next((c for c in pointers if c not in self.record.visited), pointers[0])
        self.record.hint(target)
        spec = next(s for s in load_tree() if s.id == target)
        self.notify(f"Read the check “{spec.title}”: {spec.question}", title="Hint", timeout=8)

    def action_name_cause(self) -> None:
        """Ask for the causes, then say whether they are right (without saying which are wrong)."""
        if not self.ended and not isinstance(self.screen, NameCauseScreen):
            self.push_screen(NameCauseScreen(), callback=self._judge_guess)

    def _judge_guess(self, codes: tuple[str, ...] | None) -> None:
        if not codes:
            return
        guess = self.record.guess(codes)
        if guess.right:
            self.notify("Right: that is what broke it. Now bring the cluster back.", title="Diagnosis")
        else:
            self.notify("Not quite: read the checks again.", title="Diagnosis", severity="warning")

    def action_end_drill(self) -> None:
        """The scorecard and the reveal (once)."""
        if not self.ended:
            self.ended = True
            self.push_screen(ScorecardScreen())
