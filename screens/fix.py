"""Remediation: preview each planned step, confirm, apply, verify, wait for Ready, report.

Every Azure call runs in a `remedy` thread worker that calls the FixSession and posts messages;
the handlers here own the state. The words come from the plan (the catalogue), never from here.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from screens.confirm import ConfirmStepScreen
from screens.errors import explain
from screens.fix_blocks import OUTCOME_WORDS, elapsed_text, outcome_detail, step_preview
from screens.fix_paths import FixPaths
from screens.incident import ReportScreen, write_report
from screens.messages import (
    FixOpened,
    ReportReady,
    StepApplied,
    VerdictChanged,
    WaitFinished,
    WaitProgressed,
)
from screens.presentation import field
from screens.widgets.context_bar import ContextBar
from screens.widgets.detail_pane import Block, DetailPane
from screens.widgets.keys import KeyedOptionList
from wizard.domain.models import CheckStatus
from wizard.domain.ports import Backend
from wizard.domain.results import OutcomeStatus, StepKind
from wizard.engine.steps import Plan, Step
from wizard.run.confirmation import Answer
from wizard.run.diagnose import Diagnosis
from wizard.run.fix import FixSession, open_session
from wizard.run.incident import after_deletion
from wizard.run.incidents import Incident
from wizard.run.outcomes import StepOutcome
from wizard.run.wait import WaitProgress
from wizard.run.wait_gate import Blocker, blocked_text

Row = StepOutcome | Step


class RemediationScreen(Screen[bool]):
    """Drives one FixSession; dismisses True when Azure was changed, so the findings re-run."""

    BINDINGS = [
        Binding("escape", "back", "Findings", id="fix.back", tooltip="Back to the findings; stops a wait"),
        Binding(
            "a",
            "apply",
            "Apply",
            id="fix.apply",
            tooltip="Confirm and apply the next step, or start the wait",
        ),
        Binding("s", "skip", "Skip", id="fix.skip", tooltip="Leave the next step out; it is noted"),
        Binding(
            "u",
            "unskip",
            "Unskip",
            id="fix.unskip",
            tooltip="Take a skip back: the skipped step under the cursor, else the last one skipped",
        ),
        Binding("w", "wait", "Wait", id="fix.wait", tooltip="Poll the cluster until it is Ready"),
        Binding("c", "stop_wait", "Stop", id="fix.stop", tooltip="Stop waiting for Ready"),
        Binding(
            "p",
            "report",
            "Report",
            id="fix.report",
            tooltip="The incident report: read, saved to a file, copy",
        ),
    ]

    def __init__(
        self,
        backend: Backend,
        diagnosis: Diagnosis,
        *,
        paths: FixPaths | None = None,
        scope: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.scope = scope
        self.cluster_id = diagnosis.cluster_id
        self.cluster_name = (
            diagnosis.cluster.name
            if diagnosis.cluster
            else diagnosis.cluster_id.rstrip("/").rsplit("/", 1)[-1]
        )
        self.paths = paths or FixPaths()
        self.read_only = backend.read_only
        self.session: FixSession | None = None
        self.plan: Plan | None = None
        self.outcomes: tuple[StepOutcome, ...] = ()
        self.rows: list[Row] = []
        self.busy = ""
        self.changed = False
        self.cancel_wait = threading.Event()
        self.wait_started = 0.0
        self.last_progress: WaitProgress | None = None
        self.wait_timer: Timer | None = None
        self.noticed = 0
        self.warned_open_rule = False
        self.incident: Incident | None = None
        """The cluster's incident (the app's): this fix is one pass of it."""

    def compose(self) -> ComposeResult:
        """Context, the stage, the steps beside (or above) the selected one, the wait progress."""
        yield ContextBar()
        yield Static(id="fix-summary")
        with Vertical(id="fix-wait"):
            yield Static(id="fix-wait-line")
            yield ProgressBar(total=3600, show_eta=False, id="fix-wait-bar")
        with Horizontal(id="fix-body"):
            yield KeyedOptionList(id="fix-steps")
            yield DetailPane(id="fix-detail", back_to="#fix-steps", back_label="Steps")
        yield Footer()

    def on_mount(self) -> None:
        """Open the session (diagnose again, plan) in a worker."""
        incident_for = getattr(self.app, "incident_for", None)
        self.incident = incident_for(self.cluster_id) if callable(incident_for) else None
        self.query_one("#fix-wait").display = False
        self._busy("opening")
        self._summary(f"Fixing [b]{escape(self.cluster_name)}[/]: diagnosing again and planning…")
        self.query_one("#fix-detail", DetailPane).show(
            [
                ("title", "Planning"),
                (
                    "line",
                    "Asking Azure every question again, so the plan starts from the cluster as it is now.",
                ),
            ]
        )
        self.open_fix()

    def on_unmount(self) -> None:
        """Leaving stops a wait and frees the cluster's fix lock (a write in flight keeps it till exit)."""
        self.cancel_wait.set()
        self._stop_ticking()
        if self.session is not None and self.busy != "applying":
            self.session.close()

    # -- workers: they call the session and post messages, nothing else ------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="remedy")
    def open_fix(self) -> None:
        """Open the session over the backend's gateway, diagnose, plan."""
        audit = str(self.paths.audit_path) if self.paths.audit_path else None
        session = open_session(
            self.backend,
            self.cluster_id,
            audit_path=audit,
            operator_ip=self.paths.my_ip,
            scope=self.scope,
            incident=self.incident,
        )
        # said while a write runs: a long operation's status, an attach tried again after a grant
        session.on_notice = lambda text: self.app.call_from_thread(
            self.notify, text, title="Working", timeout=10
        )
        session.diagnose()
        self.post_message(FixOpened(session, session.preview()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="remedy")
    def run_apply(self, session: FixSession, step: Step, answer: Answer) -> None:
        """Write (the gateway guards and audits it), diagnose again, verify, re-plan."""
        outcome = session.apply(step, confirmation=answer)
        self.post_message(StepApplied(outcome, tuple(session.outcomes), session.preview()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="remedy")
    def run_skip(self, session: FixSession, step: Step) -> None:
        """Leave the step out (the session records it as declined), then re-plan."""
        outcome = session.skip(step)
        self.post_message(StepApplied(outcome, tuple(session.outcomes), session.preview()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="remedy")
    def run_wait(self, session: FixSession, cancel: threading.Event) -> None:
        """Poll until Ready (reads only), cancellable through the event."""

        def progress(poll: WaitProgress) -> None:
            self.post_message(WaitProgressed(poll))

        outcome = session.wait(on_progress=progress, cancel=cancel)
        self.post_message(WaitFinished(outcome, tuple(session.outcomes), session.preview()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def run_report(self, session: FixSession, folder: Path) -> None:
        """Write the Markdown report of the whole incident; a failed save still shows the report."""
        self.post_message(write_report(self.backend, session.incident, folder))

    # -- handlers: all state changes happen here --------------------------------------------

    @on(FixOpened)
    def show_plan(self, message: FixOpened) -> None:
        """The plan is known: preview the first step."""
        self.session = message.session
        self._busy("")
        self._show(message.plan, (), focus_next=True)
        self._verdict()

    @on(StepApplied)
    def show_outcome(self, message: StepApplied) -> None:
        """The result, its verification and the fresh plan (e.g. a role grant after a vault recovery)."""
        if message.outcome.status in (OutcomeStatus.OK, OutcomeStatus.UNKNOWN):  # Azure may have changed
            self.changed = True
        self._busy("")
        self._show(message.plan, message.outcomes, focus_next=False)
        self._verdict()
        if self.session is not None:  # a stale lock taken over, a torn log, earlier writes settled
            for notice in self.session.notices[self.noticed :]:
                self.notify(notice, title="Before the first write", timeout=12)
            self.noticed = len(self.session.notices)
        if message.outcome.status in (OutcomeStatus.ERROR, OutcomeStatus.REFUSED, OutcomeStatus.UNKNOWN):
            self.notify(
                f"{message.outcome.step.title}: {message.outcome.message}",
                title="Step failed",
                severity="error",
                timeout=8,
            )

    @on(WaitProgressed)
    def show_wait(self, message: WaitProgressed) -> None:
        """The latest poll: status, polls and the documented bound."""
        self.last_progress = message.progress
        self._tick()

    @on(WaitFinished)
    def wait_done(self, message: WaitFinished) -> None:
        """Ready (or not): show how it ended and what is left."""
        self._stop_ticking()
        self.query_one("#fix-wait").display = False
        self._busy("")
        self._show(message.plan, message.outcomes, focus_next=False)
        self._verdict()

    def _verdict(self) -> None:
        """Tell the app the fix's latest verdict: quitting exits with it."""
        if self.session is not None:
            self.post_message(VerdictChanged(self.session.incident.exit_code))

    @on(ReportReady)
    def show_report(self, message: ReportReady) -> None:
        """Open the report; the app remembers it for the palette (the message bubbles on)."""
        self._busy("")
        self.app.push_screen(
            ReportScreen(message.markdown, message.path, save_error=message.save_error, back_label="Fix")
        )

    @on(Worker.StateChanged)
    def explain_failure(self, event: Worker.StateChanged) -> None:
        """A session that could not open or a step that blew up is explained in place, never raised."""
        if event.worker.group not in ("remedy", "report"):
            return
        if event.state is WorkerState.CANCELLED:
            self._busy("")
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        doing = {
            "opening": f"planning the fix of {self.cluster_name}",
            "applying": "applying a step",
            "waiting": "waiting for Ready",
            "reporting": "writing the report",
        }.get(self.busy, "fixing")
        why = explain(event.worker.error, doing=doing)
        self._stop_ticking()
        self.query_one("#fix-wait").display = False
        self._busy("")
        self._summary(f"[b $error]{escape(why.headline)}[/]")
        self.query_one("#fix-detail", DetailPane).show(
            [
                ("title-error", escape(why.headline)),
                ("line", escape(why.detail)),
                ("heading", "What to do"),
                ("line", escape(why.advice)),
                ("note", "Nothing more was changed. escape goes back to the findings."),
            ],
            scroll_home=True,
        )

    @on(OptionList.OptionHighlighted, "#fix-steps")
    def show_selected(self, event: OptionList.OptionHighlighted) -> None:
        """The detail pane follows the list cursor."""
        self._detail(event.option_index)

    @on(OptionList.OptionSelected, "#fix-steps")
    def step_selected(self) -> None:
        """Enter moves into the detail so it can be scrolled."""
        self.query_one("#fix-detail", DetailPane).focus()

    # -- rendering --------------------------------------------------------------------------

    @property
    def skipped(self) -> frozenset[str]:
        """The steps left out so far and not taken back (the session keeps them)."""
        return self.session.skipped if self.session is not None else frozenset()

    def _rows_of(self, plan: Plan, outcomes: tuple[StepOutcome, ...]) -> list[Row]:
        """One row per step: a skip is shown on the planned step it left out, never as a row of its
        own, unless that step has left the plan; a skip taken back leaves no row."""
        skipped, planned = self.skipped, {s.key for s in plan.steps}
        kept: list[StepOutcome] = []
        seen: set[str] = set()
        for outcome in reversed(outcomes):
            key = outcome.step.key
            if outcome.status == OutcomeStatus.SKIPPED:
                if key in planned or key not in skipped or key in seen:
                    continue
                seen.add(key)
            kept.append(outcome)
        return [*reversed(kept), *plan.steps]

    def _first_skipped(self) -> int | None:
        """The row of the first step left out, if any."""
        return next(
            (i for i, r in enumerate(self.rows) if isinstance(r, Step) and r.key in self.skipped), None
        )

    def _row_of_last(self, outcomes: tuple[StepOutcome, ...]) -> int:
        """Where the latest outcome shows: its own row, or the skipped step it left out."""
        last = outcomes[-1]
        for index, row in enumerate(self.rows):
            if row is last or (
                isinstance(row, Step) and last.status == OutcomeStatus.SKIPPED and row.key == last.step.key
            ):
                return index
        return max(0, min(len(self.rows) - 1, len(outcomes) - 1))

    def next_step(self) -> Step | None:
        """The first step to act on: a write (not skipped, not waiting on another) or the wait."""
        if self.plan is None:
            return None
        skipped = self.skipped
        upcoming = next(
            (
                s
                for s in self.plan.steps
                if (s.kind == StepKind.WRITE and not s.provisional and s.key not in skipped)
                or s.kind == StepKind.WAIT
            ),
            None,
        )
        if upcoming is not None and upcoming.kind == StepKind.WAIT and self.blocked():
            return None  # never wait while a cause is there (wait_gate.py): go back to it instead
        return upcoming

    def blocked(self) -> tuple[Blocker, ...]:
        """Why waiting for Ready cannot help now: the causes still there, skipped, failed or unknown."""
        return self.session.wait_blockers() if self.session is not None else ()

    def _show(self, plan: Plan, outcomes: tuple[StepOutcome, ...], *, focus_next: bool) -> None:
        self.plan = plan
        self.outcomes = outcomes
        self.rows = self._rows_of(plan, outcomes)
        upcoming = self.next_step()
        steps = self.query_one("#fix-steps", OptionList)
        steps.clear_options()
        steps.add_options([Option(self._row_prompt(i, row, upcoming)) for i, row in enumerate(self.rows)])
        if not self.rows:
            self.query_one("#fix-detail", DetailPane).show(self._nothing_planned())
        elif focus_next and upcoming is not None:
            steps.highlighted = self.rows.index(upcoming)
        elif upcoming is None and self.blocked() and self._first_skipped() is not None:
            steps.highlighted = self._first_skipped()  # no wait yet: back to what was left out
        elif outcomes and not focus_next:
            steps.highlighted = self._row_of_last(outcomes)
        else:
            steps.highlighted = 0
        self._stage()
        self.refresh_bindings()

    def _nothing_planned(self) -> list[Block]:
        """No step: either nothing is wrong, or the fresh diagnosis could not decide (and says why)."""
        diagnosis = self.session.current if self.session else None
        if diagnosis is None or diagnosis.verdict != "incomplete":
            notes = self.plan.notes if self.plan else ()
            return [
                ("title", "Nothing to fix"),
                ("line", "The fresh diagnosis plans no change for this cluster."),
                *(("note-warning", escape(n)) for n in notes),
                ("note", "p opens the report."),
            ]
        blocks: list[Block] = [
            ("title-error", "Could not plan: some checks could not run"),
            ("line", "Without their answers no change is safe to offer."),
        ]
        for check in diagnosis.assessment.checks:
            if check.status == CheckStatus.UNKNOWN:
                blocks.append(("field", field(check.id, check.detail or "no answer")))
                if check.needs:
                    blocks.append(("field", field("needs", check.needs)))
        return [
            *blocks,
            ("heading", "What to do"),
            ("line", "Fix access or the network, then escape and r to diagnose again."),
        ]

    def _row_prompt(self, index: int, row: Row, upcoming: Step | None) -> str:
        if isinstance(row, StepOutcome):
            _, style, mark = OUTCOME_WORDS.get(row.status, (row.status, "$warning", "?"))
            return f"[{style}]{mark}[/] {escape(row.step.title)}"
        number = index + 1
        if row is upcoming:
            mark = "[b $accent]→[/]"
        elif row.key in self.skipped:
            mark = "[$text-muted]-[/]"
        elif row.kind not in (StepKind.WRITE, StepKind.WAIT):
            mark = "[$warning]![/]"
        else:
            mark = "[$text-muted]·[/]"
        return f"{mark} {number}. {escape(row.title)}"

    def _detail(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        pane = self.query_one("#fix-detail", DetailPane)
        upcoming = self.next_step()
        if isinstance(row, StepOutcome):
            done = self.session is not None and self.session.deleted_cluster
            afterwards = after_deletion(self.session.incident) if done and self.session else None
            pane.show(outcome_detail(row, upcoming, afterwards=afterwards), scroll_home=True)
            return
        blocks = step_preview(
            row,
            number=index + 1,
            next_key=upcoming.key if upcoming else None,
            read_only=self.read_only,
            notes=self.plan.notes if self.plan else (),
        )
        if row.kind == StepKind.WAIT and self.blocked():
            blocks[1:1] = [
                ("heading-warning", "Not now: waiting cannot help yet"),
                ("field", escape(blocked_text(self.blocked()))),
                ("note", "u takes a skip back; a applies the next step."),
            ]
        if row.key in self.skipped:
            blocks[1:1] = [
                ("heading-warning", "Skipped: left out of this fix; nothing was sent"),
                ("note", "u takes the skip back: the step is planned again in its place."),
            ]
        pane.show(blocks, scroll_home=True)

    def _stage(self) -> None:
        """The one summary line: where the fix stands and the key that moves it on."""
        upcoming = self.next_step()
        name = f"[b]{escape(self.cluster_name)}[/]"
        if self.scope:
            name += f" ({escape(', '.join(sorted(self.scope)))} only)"
        if (
            not self.rows
            and self.session
            and self.session.current
            and (self.session.current.verdict == "incomplete")
        ):
            self._summary(f"{name} · [b $warning]incomplete: could not plan[/]")
        elif self.read_only:
            self._summary(f"{name} · [b $warning]READ-ONLY: writes are disabled[/]; this is the plan only")
        elif self.session is not None and self.session.deleted_cluster:
            self._summary(
                f"{name} · [b $success]done: failed cluster deleted[/] · next: provision again · p report"
            )
        elif upcoming is None and self.blocked():
            back = " · u unskips" if self.skipped else " · p report"
            names = ", ".join(f"{b.name} {b.state}" for b in self.blocked())
            self._summary(f"{name} · [b $warning]no wait[/]: {escape(names)}{back}")
        elif upcoming is None:
            waited = next((o.wait for o in reversed(self.outcomes) if o.wait is not None), None)
            if waited is not None and waited.ready:
                state = "[b $success]cluster is Ready[/]"
            elif waited is not None and (waited.unconfirmed or waited.stopped):
                words = "recovery not confirmed" if waited.unconfirmed else "cluster Stopped: start it"
                state = f"[b $warning]incomplete: {words}[/]"
            else:
                state = "nothing left to apply · w waits for Ready"
            self._summary(f"{name} · {state} · p report")
        elif upcoming.kind == StepKind.WAIT:
            self._summary(f"{name} · a (or w) waits for Ready · p report")
        else:
            self._summary(f"{name} · a applies step {self._position(upcoming)}: {escape(upcoming.title)}")

    def _position(self, step: Step) -> str:
        """`n of m` over the rows shown (one per step), so the count matches the list."""
        if step not in self.rows:
            return "?"
        return f"{self.rows.index(step) + 1} of {len(self.rows)}"

    def _summary(self, markup: str) -> None:
        self.query_one("#fix-summary", Static).update(markup)

    def _busy(self, what: str) -> None:
        self.busy = what
        self.refresh_bindings()

    def _tick(self) -> None:
        """Repaint the wait line: elapsed (ticking between polls), status, polls, the bound."""
        progress = self.last_progress
        elapsed = time.monotonic() - self.wait_started
        bar = self.query_one("#fix-wait-bar", ProgressBar)
        if progress is None:
            self.query_one("#fix-wait-line", Static).update(
                f"{elapsed_text(elapsed)} elapsed · first poll… · c stops"
            )
            return
        bar.update(total=progress.bound, progress=min(elapsed, progress.bound))
        health = f" · Resource Health {escape(progress.availability)}" if progress.availability else ""
        self.query_one("#fix-wait-line", Static).update(
            f"[b]{escape(progress.cluster_status)}[/]{health} · {elapsed_text(elapsed)} elapsed of "
            f"~{progress.bound / 60:.0f} min · poll {progress.polls} · c stops"
        )
        self._summary(
            f"[b]{escape(self.cluster_name)}[/] · waiting for Ready; polling stops at "
            f"{elapsed_text(progress.timeout)}"
        )

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that cannot act now are shown dimmed (or hidden) rather than doing nothing."""
        if action == "stop_wait":
            return self.busy == "waiting"
        if self.read_only and action in ("apply", "skip", "wait"):
            return False  # read-only: no write to offer, and no wait that nothing here can end
        if action == "wait" and self.session is not None and self.session.deleted_cluster:
            return None  # nothing left to wait for: the cluster is gone, as it should be
        if action == "wait" and not self.busy and self.blocked():
            return None  # never wait while a cause is there
        if action in ("apply", "skip", "wait", "report"):
            if self.busy or self.session is None:
                return None
            upcoming = self.next_step()
            if action == "apply":
                return (
                    None if upcoming is None or (self.read_only and upcoming.kind == StepKind.WRITE) else True
                )
            if action == "skip":
                return None if upcoming is None or upcoming.kind != StepKind.WRITE else True
        if action == "unskip":  # hidden until a step is skipped: the footer has no room to spare
            return (None if self.busy else True) if self.skipped else False
        return True

    def action_apply(self) -> None:
        """The next step: a write goes through the confirmation; the wait starts at once."""
        upcoming = self.next_step()
        if self.session is None or self.busy or upcoming is None:
            return
        if upcoming.kind == StepKind.WAIT:
            self.action_wait()
            return
        if self.read_only:
            self.notify("Read-only: writes are disabled.", title="Not applied", severity="warning")
            return
        self.app.push_screen(
            ConfirmStepScreen(upcoming, position=f"step {self._position(upcoming)}", who=self.backend.label),
            callback=lambda answer: self._confirmed(upcoming, answer),
        )

    def _confirmed(self, step: Step, answer: Answer) -> None:
        if answer is None or self.session is None:
            self.notify("Nothing was changed.", title="Not applied", severity="warning")
            return
        self._busy("applying")
        self._summary(f"Applying [b]{escape(step.title)}[/], then diagnosing again to verify…")
        self.query_one("#fix-detail", DetailPane).show(
            [
                ("title", f"Applying: {escape(step.title)}"),
                ("field", field("Change", step.change)),
                (
                    "note",
                    "The write is recorded in the audit log before and after; then every check "
                    "runs again to verify it.",
                ),
            ],
            scroll_home=True,
        )
        self.run_apply(self.session, step, answer)

    def action_skip(self) -> None:
        """Leave the next write out (noted in the session, so the report says it was not applied)."""
        upcoming = self.next_step()
        if self.session is None or self.busy or upcoming is None or upcoming.kind != StepKind.WRITE:
            return
        self._busy("applying")
        self.run_skip(self.session, upcoming)

    def action_unskip(self) -> None:
        """Take back the skip under the cursor (else the latest): the step is next in its place again."""
        if self.session is None or self.busy or self.plan is None or not self.skipped:
            return
        index = self.query_one("#fix-steps", OptionList).highlighted
        row = self.rows[index] if index is not None and 0 <= index < len(self.rows) else None
        if isinstance(row, StepOutcome):
            row = row.step
        if row is None or row.key not in self.skipped:
            last = next(o for o in reversed(self.outcomes) if o.step.key in self.skipped)
            row = last.step
        self.session.unskip(row)
        self._show(self.plan, tuple(self.session.outcomes), focus_next=True)
        self.notify(f"{row.title}: planned again.", title="Skip taken back", timeout=4)

    def action_wait(self) -> None:
        """Poll until Ready in a worker; elapsed time ticks between polls. Not while a cause is
        there: say which, and go back to it (the first skipped step, under the cursor)."""
        if self.session is None or self.busy or self.session.deleted_cluster:
            return
        found = self.blocked()
        if found:
            self.notify(blocked_text(found), title="Not waiting", severity="warning", timeout=10)
            back = next(
                (i for i, r in enumerate(self.rows) if isinstance(r, Step) and r.key in self.skipped), None
            )
            if back is not None:
                self.query_one("#fix-steps", OptionList).highlighted = back
            return
        self.cancel_wait = threading.Event()
        self.wait_started = time.monotonic()
        self.last_progress = None
        self.query_one("#fix-wait").display = True
        self._busy("waiting")
        self._summary(
            f"[b]{escape(self.cluster_name)}[/] · waiting for Ready: the service revalidates "
            "the key periodically"
        )
        self._tick()
        self._stop_ticking()
        self.wait_timer = self.set_interval(1.0, self._tick)
        self.run_wait(self.session, self.cancel_wait)

    def _stop_ticking(self) -> None:
        if self.wait_timer is not None:
            self.wait_timer.stop()
            self.wait_timer = None

    def action_stop_wait(self) -> None:
        """Stop polling; the session records how far it got."""
        self.cancel_wait.set()
        self.query_one("#fix-wait-line", Static).update("Stopping at the next poll…")

    def action_report(self) -> None:
        """Write the incident report (in a worker) and open it."""
        if self.session is None or self.busy:
            self.notify("The report is ready once the current step is done.", title="Not yet")
            return
        self._busy("reporting")
        self.run_report(self.session, self.paths.reports())

    def action_back(self) -> None:
        """Back to the findings; they re-run when something was changed. Not while a write is
        applying: the worker would go on writing behind a screen that no longer shows it."""
        if self.busy == "applying":
            self.notify(
                "A write is in progress: its result and verification come first.",
                title="Not now",
                severity="warning",
            )
            return
        if self.session is not None and self.session.carry.open_rules and not self.warned_open_rule:
            self.warned_open_rule = True
            self.notify(
                "Your temporary IP rule is still in the vault firewall; the plan removes it once the "
                "steps that need it are done (a goes on). escape again leaves it there: the next fix "
                "removes it first (the audit log holds its undo).",
                title="Firewall still open to you",
                severity="warning",
                timeout=12,
            )
            return
        self.cancel_wait.set()
        self.dismiss(self.changed)
