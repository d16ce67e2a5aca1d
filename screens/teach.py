"""Teach mode: one node of the tree at a time; predict its answer, then read why it is so."""

from __future__ import annotations

import re

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static

from screens.diagnosis import DiagnosisScreen
from screens.messages import DiagnosisFinished
from screens.presentation import STATUS_WORDS, evidence_blocks, field, status_mark
from screens.widgets.context_bar import ContextBar
from screens.widgets.detail_pane import Block, DetailPane
from wizard.domain.models import CheckStatus
from wizard.domain.ports import Backend
from wizard.run.diagnose import Diagnosis, DiagnosisRun
from wizard.training.teach import Lesson, lessons


def literal(text: str) -> str:
    """Every bracket escaped: an az --query (`[?name=='x']`) is not markup, whatever it looks like."""
    return re.sub(r"(\\*)\[", lambda m: m.group(1) * 2 + "\\[", text)


def question_blocks(lesson: Lesson, number: int, total: int) -> list[Block]:
    """Before the answer: the node and its question only."""
    return [
        ("title", f"{number}/{total} · {escape(lesson.title)}"),
        ("line", field("Question", lesson.question)),
        ("heading", "Your prediction"),
        ("line", "p: it passes   ·   f: it fails"),
    ]


def answer_blocks(lesson: Lesson, number: int, total: int, verdict: str) -> list[Block]:
    """After the prediction (or for a node nobody could predict): the answer and the why."""
    detail = f": {escape(lesson.detail)}" if lesson.detail else ""
    blocks: list[Block] = [
        ("title", f"{number}/{total} · {escape(lesson.title)}"),
        ("line", field("Question", lesson.question)),
        ("line", f"{status_mark(lesson.status)} [b]{STATUS_WORDS[lesson.status]}[/]{detail}"),
    ]
    if verdict:
        blocks.append(("line", verdict))
    blocks += [
        ("heading", "What was read"),
        ("field", field("API", lesson.api)),
        ("field", field("Reads", ", ".join(lesson.reads) or "nothing: the check did not need to ask")),
    ]
    if lesson.evidence:
        blocks += [("heading", "Evidence"), *evidence_blocks(lesson.evidence)]
    if lesson.az:
        blocks += [("heading", "The same with az"), ("passage", literal(lesson.az))]
    if lesson.passage:
        blocks += [("heading", "From the troubleshooting page"), ("passage", escape(lesson.passage))]
    blocks.append(("line", "space: next node"))
    return blocks


class TeachScreen(Screen[None]):
    """Diagnoses in a worker, then walks the lessons; the last one leads to the checklist."""

    BINDINGS = [
        Binding("p", "predict('pass')", "Passes", id="teach.pass", tooltip="Predict: the check passes"),
        Binding("f", "predict('fail')", "Fails", id="teach.fail", tooltip="Predict: the check fails"),
        Binding("space", "next", "Next", id="teach.next", tooltip="The next node of the tree"),
        Binding("escape", "skip", "Checklist", id="teach.skip", tooltip="Leave the lesson for the checklist"),
    ]

    def __init__(self, backend: Backend, cluster_id: str) -> None:
        super().__init__()
        self.backend = backend
        self.cluster_id = cluster_id
        self.lessons: list[Lesson] = []
        self.index = 0
        self.answered = False
        self.generation = 1

    def compose(self) -> ComposeResult:
        """A progress line and the node."""
        yield ContextBar()
        yield Static("Teach mode · reading the cluster…", id="teach-summary")
        yield DetailPane(id="teach-detail")
        yield Footer()

    def on_mount(self) -> None:
        """Ask every question first; the walk shows the answers one by one."""
        self.diagnose()

    @work(thread=True, exclusive=True, group="teach")
    def diagnose(self) -> None:
        """The whole diagnosis, as the checklist would run it."""
        reader = self.backend.connect()
        diagnosis = DiagnosisRun(reader, self.cluster_id, clock=self.backend.clock).run()
        self.post_message(DiagnosisFinished(diagnosis, self.generation))
        self.app.call_from_thread(self._start, diagnosis)

    def _start(self, diagnosis: Diagnosis) -> None:
        results = {c.id: c for c in diagnosis.assessment.checks}
        self.lessons = lessons(results, diagnosis.facts)
        self.index = 0
        self._show()

    @property
    def lesson(self) -> Lesson | None:
        """The node on screen."""
        return self.lessons[self.index] if 0 <= self.index < len(self.lessons) else None

    def _show(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        total = len(self.lessons)
        self.answered = not lesson.predictable
        summary = f"Teach mode · node {self.index + 1} of {total}"
        self.query_one("#teach-summary", Static).update(summary)
        if lesson.predictable:
            blocks = question_blocks(lesson, self.index + 1, total)
        else:
            word = "skipped" if lesson.status == CheckStatus.SKIPPED else STATUS_WORDS[lesson.status]
            blocks = answer_blocks(lesson, self.index + 1, total, f"Nothing to predict here: {word}.")
        self.query_one("#teach-detail", DetailPane).show(blocks, scroll_home=True)

    def action_predict(self, predicted: str) -> None:
        """Record the prediction, then show the answer and the why."""
        lesson = self.lesson
        if lesson is None or self.answered:
            return
        self.answered = True
        record = getattr(self.app, "record", None)
        right = predicted == lesson.status.value
        if record is not None:
            record.visit(lesson.check_id)
            record.predict(lesson.check_id, predicted, lesson.status.value)
        verdict = "[b $success]You predicted it.[/]" if right else f"[b $warning]You said {predicted}.[/]"
        blocks = answer_blocks(lesson, self.index + 1, len(self.lessons), verdict)
        self.query_one("#teach-detail", DetailPane).show(blocks, scroll_home=True)

    def action_next(self) -> None:
        """The next node, once this one is answered; after the last, the checklist."""
        if not self.lessons or not self.answered:
            return
        if self.index + 1 >= len(self.lessons):
            self.action_skip()
            return
        self.index += 1
        self._show()

    def action_skip(self) -> None:
        """On to the ordinary checklist (to name the cause and fix it)."""
        self.app.switch_screen(DiagnosisScreen(self.backend, self.cluster_id))
