"""Diagnosis: the decision tree as a live checklist, and the evidence behind the selected check."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState

from screens.errors import explain
from screens.messages import DiagnosisFailed, DiagnosisFinished, DiagnosisProgress
from screens.presentation import (
    STATUS_WORDS,
    VERDICT_WORDS,
    evidence_blocks,
    field,
    scenario_line,
    show_duration,
    status_mark,
)
from screens.widgets.checklist import CheckList
from screens.widgets.context_bar import ContextBar
from screens.widgets.detail_pane import Block, DetailPane
from wizard.domain.errors import BadInput
from wizard.domain.ports import Backend
from wizard.domain.status import CheckStatus
from wizard.engine.tree import CheckSpec, load_tree

if TYPE_CHECKING:  # the checks' code loads when the first diagnosis starts, after the first frame
    from wizard.domain.models import CheckResult
    from wizard.engine.assess import Assessment
    from wizard.run.diagnose import Diagnosis, DiagnosisRun

EXIT_BAD_INPUT = 2


def check_detail(spec: CheckSpec, result: CheckResult | None) -> list[Block]:
    """One check: status, question, what would let it run, evidence, its source and the seed passage."""
    status = result.status if result else CheckStatus.PENDING
    detail = f": {escape(result.detail)}" if result and result.detail else ""
    if result and result.needs:
        # a refusal's full text (403 code, action, scope) runs several lines at 80 columns: the
        # role that would let the check run comes first, Azure's words after
        short = f": {escape(collapsed(result.detail))}" if result.detail else ""
        blocks: list[Block] = [
            ("title", escape(spec.title)),
            ("line", f"{status_mark(status)} [b]{STATUS_WORDS[status]}[/]{short}"),
            ("heading-warning", "To answer this you need"),
            ("field", escape(result.needs)),
            ("line", field("Question", spec.question)),
        ]
        if result.detail and collapsed(result.detail) != result.detail:
            blocks += [("heading", "What Azure answered"), ("field", escape(result.detail))]
    else:
        blocks = [
            ("title", escape(spec.title)),
            ("line", f"{status_mark(status)} [b]{STATUS_WORDS[status]}[/]{detail}"),
            ("line", field("Question", spec.question)),
        ]
    if result and result.evidence:
        blocks += [("heading", "Evidence"), *evidence_blocks(result.evidence)]
    sources = ", ".join(result.sources) if result and result.sources else "not asked yet"
    blocks += [
        ("heading", "Where the answer comes from"),
        ("field", field("API", spec.api)),
        ("field", field("Reads", sources)),
        ("field", field("Took", show_duration(result.duration_ms if result else None))),
        ("field", field("Check", spec.id)),
    ]
    from wizard.domain.catalog import load_catalog

    passage = load_catalog().passages.get(spec.passage, "")
    if passage:
        blocks += [("heading", "From the troubleshooting page"), ("passage", escape(passage))]
    return blocks


COLLAPSED_DETAIL = 40


def collapsed(detail: str) -> str:
    """The start of a long refusal: its words before the first `:` (the code and action follow), at
    most 40 characters."""
    short = detail.split(": ", 1)[0]
    return short if len(short) <= COLLAPSED_DETAIL else short[: COLLAPSED_DETAIL - 1].rstrip() + "…"


def progress_line(assessment: Assessment) -> str:
    """How far the diagnosis has got, counting answered checks."""
    answered = sum(1 for c in assessment.checks if c.status.done)
    return f"{answered} of {len(assessment.checks)} checks answered"


class DiagnosisScreen(Screen[None]):
    """Runs one diagnosis in a thread worker; progress messages repaint the checklist in place."""

    BINDINGS = [
        Binding("escape", "back", "Clusters", id="diagnosis.back", tooltip="Back to the cluster list"),
        Binding("r", "rerun", "Re-run", id="diagnosis.rerun", tooltip="Ask Azure every question again"),
        Binding(
            "f",
            "findings",
            "Findings",
            id="diagnosis.findings",
            tooltip="The causes, most fundamental first, with their fix plans",
        ),
        Binding(
            "x",
            "fix",
            "Fix",
            id="diagnosis.fix",
            tooltip="Fix the cluster's causes: the findings, then preview, confirm, apply, verify, "
            "wait for Ready, report",
        ),
        Binding(
            "enter",
            "focus_detail",
            "Details",
            id="diagnosis.detail",
            show=False,
            tooltip="Move into the selected check's details to scroll them",
        ),
    ]

    def __init__(self, backend: Backend, cluster_id: str) -> None:
        super().__init__()
        self.backend = backend
        self.cluster_id = cluster_id
        self.specs = load_tree()
        self.results: dict[str, CheckResult] = {}
        self.diagnosis: Diagnosis | None = None
        self.generation = 0
        self.cancelled = threading.Event()

    @property
    def cluster_name(self) -> str:
        """The last segment of the resource ID, readable before the cluster has been read."""
        return self.cluster_id.rstrip("/").rsplit("/", 1)[-1]

    def compose(self) -> ComposeResult:
        """Context, one summary line, then the checklist beside the selected check's details."""
        yield ContextBar()
        yield Static(id="diagnosis-summary")
        yield Static(id="diagnosis-scenario")
        with Horizontal(id="diagnosis-body"):
            yield CheckList(self.specs, id="checks")
            yield DetailPane(id="check-detail", back_to="#checks", back_label="Checklist")
        yield Footer()

    def on_mount(self) -> None:
        """Start diagnosing at once, with the first check selected."""
        self.query_one("#checks", CheckList).highlighted = 0
        scenario = self.query_one("#diagnosis-scenario", Static)
        scenario.update(scenario_line(self.backend))
        scenario.display = bool(scenario_line(self.backend))
        self.call_after_refresh(self.start)

    def on_unmount(self) -> None:
        """Leaving the screen stops the run's remaining reads."""
        self.cancelled.set()

    def start(self) -> None:
        """A fresh run: cancel the previous one, reset the checklist, start the worker."""
        self.cancelled.set()
        self.cancelled = threading.Event()
        self.generation += 1
        self.results = {}
        self.diagnosis = None
        self.query_one("#checks", CheckList).reset()
        self.refresh_bindings()
        self._summary(f"Diagnosing [b]{escape(self.cluster_name)}[/]: connecting…")
        self.show_selected()
        # The checks' code loads here, on the UI thread after the first frame: not in the worker,
        # beside the connect worker's imports.
        from wizard.run.diagnose import DiagnosisRun

        self.run_diagnosis(self.generation, self.cancelled, DiagnosisRun)

    @work(thread=True, exclusive=True, exit_on_error=False, group="diagnosis")
    def run_diagnosis(self, generation: int, cancelled: threading.Event, run: type[DiagnosisRun]) -> None:
        """Blocking run in a thread; it only posts messages (post_message is thread-safe)."""
        reader = self.backend.connect()

        def publish(assessment: Assessment) -> None:
            self.post_message(DiagnosisProgress(assessment, generation))

        diagnosis = run(
            reader, self.cluster_id, on_update=publish, cancelled=cancelled, clock=self.backend.clock
        ).run()
        self.post_message(DiagnosisFinished(diagnosis, generation))

    @on(DiagnosisProgress)
    def show_progress(self, message: DiagnosisProgress) -> None:
        """Repaint statuses as answers arrive; stale runs are ignored."""
        if message.generation != self.generation or self.diagnosis is not None:
            return
        self._apply(message.assessment)
        self._summary(f"Diagnosing [b]{escape(self.cluster_name)}[/]: {progress_line(message.assessment)}…")

    @on(DiagnosisFinished)
    def show_verdict(self, message: DiagnosisFinished) -> None:
        """Final statuses, the verdict, and where to go next."""
        if message.generation != self.generation:
            return
        self.diagnosis = message.diagnosis
        incident_for = getattr(self.app, "incident_for", None)
        incident = incident_for(self.cluster_id) if callable(incident_for) else None
        if incident is not None:
            incident.saw(message.diagnosis, "checklist")
        self._apply(message.diagnosis.assessment)
        verdict, style = VERDICT_WORDS[message.diagnosis.verdict]
        cluster = message.diagnosis.cluster
        state = f" ({escape(cluster.cluster_status)})" if cluster else ""
        count = len(message.diagnosis.findings)
        hint = f" · {count} finding{'s' if count != 1 else ''}: press f" if count else " · nothing to fix"
        if incident is not None and incident.deleted_cluster:
            self._summary(
                f"[b]{escape(self.cluster_name)}[/] · [b $success]deleted by this incident's fix[/] (the "
                "documented end) · provision it again: ctrl+p Open report has the command"
            )
            return
        self._summary(f"[b]{escape(self.cluster_name)}[/]{state} · [b {style}]{verdict}[/]{hint}")
        self._point_at_the_cause(message.diagnosis)
        self.refresh_bindings()

    def _point_at_the_cause(self, diagnosis: Diagnosis) -> None:
        """Unless the operator has moved, put the cursor on the check that found the most
        fundamental finding: at 3 a.m. that is the one to read first."""
        checks = self.query_one("#checks", CheckList)
        if getattr(self.app, "hides_causes", False):  # a drill: finding the check is the exercise
            return
        if checks.highlighted not in (None, 0) or not diagnosis.findings:
            return
        ids = [spec.id for spec in self.specs]
        if diagnosis.findings[0].check_id in ids:
            checks.highlighted = ids.index(diagnosis.findings[0].check_id)

    @on(Worker.StateChanged)
    def explain_failure(self, event: Worker.StateChanged) -> None:
        """A run that could not even start (no sign-in, no network) is explained in place."""
        if event.worker.group != "diagnosis":
            return
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            why = explain(event.worker.error, doing=f"diagnosing {self.cluster_name}")
            bad_input = isinstance(event.worker.error, BadInput)
            self.post_message(DiagnosisFailed(why.headline, EXIT_BAD_INPUT if bad_input else 3))
            self._summary(f"[b $error]{escape(why.headline)}[/]")
            self.query_one("#check-detail", DetailPane).show(
                [
                    ("title-error", escape(why.headline)),
                    ("line", escape(why.detail)),
                    ("heading", "What to do"),
                    ("line", escape(why.advice)),
                ],
                scroll_home=True,
            )

    def _apply(self, assessment: Assessment) -> None:
        self.results = {c.id: c for c in assessment.checks}
        self.query_one("#checks", CheckList).show(assessment.checks)
        self.show_selected()

    @on(OptionList.OptionHighlighted, "#checks")
    def show_selected(self) -> None:
        """The details pane follows the checklist cursor."""
        checks = self.query_one("#checks", CheckList)
        index = checks.highlighted if checks.highlighted is not None else 0
        spec = self.specs[index]
        self.query_one("#check-detail", DetailPane).show(check_detail(spec, self.results.get(spec.id)))

    @on(OptionList.OptionSelected, "#checks")
    def check_selected(self) -> None:
        """Enter on a check moves into its details so long evidence can be scrolled."""
        self.action_focus_detail()

    def _summary(self, markup: str) -> None:
        self.query_one("#diagnosis-summary", Static).update(markup)

    def action_back(self) -> None:
        """Back to the cluster list (the run stops)."""
        self.dismiss()

    def action_rerun(self) -> None:
        """Ask every question again, e.g. after a fix or a permission grant."""
        self.start()

    def action_findings(self, fix: bool = False) -> None:
        """Open the findings once the diagnosis has finished (and, with `fix`, x on them at once)."""
        from screens.findings import FindingsScreen

        if self.diagnosis is None:
            self.notify("Still diagnosing: the findings open when every check has answered.", title="Not yet")
            return
        paths = getattr(self.app, "fix_paths", None)
        self.app.push_screen(
            FindingsScreen(self.diagnosis, self.backend, paths, fix_at_once=fix),
            callback=self._after_findings,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """x shows once the diagnosis has found something (dimmed while it runs)."""
        if action == "fix":
            if self.diagnosis is None:
                return None
            return bool(self.diagnosis.findings)
        return True

    def action_fix(self) -> None:
        """The findings, then the fix of the cluster's causes on top: escape from the fix comes back
        to the findings, one level at a time, as if x had been pressed there."""
        if self.diagnosis is None or not self.diagnosis.findings:
            return
        self.action_findings(fix=True)

    def _after_findings(self, rerun: bool | None) -> None:
        if rerun:
            self.start()

    def action_focus_detail(self) -> None:
        """Focus the details pane."""
        self.query_one("#check-detail", DetailPane).focus()
