"""Findings: the causes, most fundamental first, each with its remediation plan (a plan only, no writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from screens.presentation import (
    SEVERITY_STYLES,
    VERDICT_WORDS,
    evidence_blocks,
    field,
)
from screens.widgets.context_bar import ContextBar
from screens.widgets.detail_pane import Block, DetailPane
from screens.widgets.keys import KeyedOptionList
from wizard.domain.catalog import Catalog, load_catalog
from wizard.domain.models import Finding
from wizard.domain.ports import Backend
from wizard.domain.results import StepKind
from wizard.engine.fix_plan import named_only, plan_fixes
from wizard.engine.steps import Step
from wizard.run.diagnose import Diagnosis

if TYPE_CHECKING:
    from screens.fix_paths import FixPaths


def finding_prompt(finding: Finding, catalog: Catalog) -> str:
    """One row of the findings list: severity, then the catalogue title."""
    style = SEVERITY_STYLES[finding.severity]
    return f"[b {style}]{finding.severity.value.upper():<8}[/] {escape(catalog.finding(finding.code).title)}"


def in_plan_order(diagnosis: Diagnosis) -> tuple[Finding, ...]:
    """The findings in the order `x` fixes them: by the first step of the cluster's plan that is for
    (or also fixes) each; the rest (a symptom, a warning fixed only on its own) keep the engine's
    order, most fundamental first, after them."""
    steps = plan_fixes(diagnosis).steps
    first: dict[str, int] = {}
    for index, step in enumerate(steps):
        for code in (step.finding, *step.also_fixes):
            first.setdefault(code, index)
    unplanned = len(steps)
    ranked = sorted(
        enumerate(diagnosis.findings), key=lambda pair: (first.get(pair[1].code, unplanned), pair[0])
    )
    return tuple(finding for _, finding in ranked)


def plan_step(number: int, step: Step) -> list[Block]:
    """One planned step, compact: the Fix screen shows the same step in full before it is applied."""
    blocks: list[Block] = [("step", f"{number}. {escape(step.title)}"), ("field", escape(step.summary))]
    if step.kind not in (StepKind.WRITE, StepKind.WAIT):
        return [*blocks, ("field", escape(step.explanation))]
    if step.explanation:
        blocks.append(("field", field("Why", step.explanation)))
    if step.provisional:
        blocks.append(("field", "[$warning]Filled in once an earlier step is done[/]"))
    reversible = "[$success]yes[/]" if step.reversible else "[b $error]NO: this cannot be undone[/]"
    return [
        *blocks,
        ("field", field("Change", step.change)),
        ("field", field("REST", step.rest)),
        ("field", field("az", step.az)),
        ("field", field("Permission", step.permission or "reads only")),
        ("field", f"[$text-muted]Reversible[/]  {reversible}"),
        ("field", field("Verify by re-running", ", ".join(step.verifies) or "the cluster status")),
    ]


def finding_detail(diagnosis: Diagnosis, finding: Finding, catalog: Catalog) -> list[Block]:
    """One finding: what, why, the seed passage, the evidence and the remediation plan."""
    entry = catalog.finding(finding.code)
    style = SEVERITY_STYLES[finding.severity]
    blocks: list[Block] = [
        ("title", escape(entry.title)),
        (
            "line",
            f"[b {style}]{finding.severity.value.upper()}[/] · {escape(finding.code)} · "
            f"found by {escape(finding.check_id)}",
        ),
        ("line", escape(finding.summary)),
        ("line", escape(entry.explanation)),
    ]
    passage = catalog.passage_for(finding.code)
    if passage:
        blocks += [("heading", "From the troubleshooting page"), ("passage", escape(passage))]
    if finding.evidence:
        blocks += [("heading", "Evidence"), *evidence_blocks(finding.evidence)]
    whole = plan_fixes(diagnosis)
    if entry.symptom:
        # a symptom has no fix of its own: fixing its causes is its plan
        plan = whole
        blocks.append(("heading", "Remediation plan (fixing the causes fixes this)"))
    else:
        plan = plan_fixes(diagnosis, scope=[finding.code])
        blocks.append(("heading", "Remediation plan"))
    for number, step in enumerate(plan.steps, 1):
        blocks += plan_step(number, step)
    if not plan.steps and not plan.notes:
        blocks.append(
            ("field", "[$text-muted]No change can fix this from here: read the explanation above.[/]")
        )
    blocks += [("note-warning", escape(note)) for note in plan.notes]
    if named_only(finding):
        if not plan.writes:
            return blocks
        return [
            *blocks,
            (
                "note",
                "Press x to apply this warning's fix on its own: a warning is never fixed "
                "together with the cluster's causes.",
            ),
        ]
    if not any(step.kind in (StepKind.WRITE, StepKind.WAIT) for step in whole.steps):
        return blocks
    return [
        *blocks,
        (
            "note",
            "Press x to fix the cluster: every critical finding's steps in order; preview "
            "each, confirm, apply, verify, wait, report.",
        ),
    ]


class FindingsScreen(Screen[bool]):
    """Lists findings in the engine's order and renders the selected one; dismisses True to re-run."""

    BINDINGS = [
        Binding("escape", "back", "Checklist", id="findings.back", tooltip="Back to the checklist"),
        Binding(
            "r",
            "rerun",
            "Re-run",
            id="findings.rerun",
            tooltip="Back to the checklist and ask Azure every question again",
        ),
        Binding(
            "x",
            "fix",
            "Fix",
            id="findings.fix",
            tooltip="Fix the cluster's causes (or the warning under the cursor, on its own): "
            "preview, confirm, apply, verify, wait for Ready, report",
        ),
    ]

    def __init__(
        self,
        diagnosis: Diagnosis,
        backend: Backend | None = None,
        paths: FixPaths | None = None,
        *,
        fix_at_once: bool = False,
    ) -> None:
        super().__init__()
        self.fix_at_once = fix_at_once
        self.diagnosis = diagnosis
        self.backend = backend
        self.paths = paths
        self.catalog = load_catalog()
        self.findings = in_plan_order(diagnosis)

    def compose(self) -> ComposeResult:
        """Context, a summary line, then the list beside (or above) the selected finding."""
        yield ContextBar()
        yield Static(self._summary(), id="findings-summary")
        with Horizontal(id="findings-body"):
            yield KeyedOptionList(
                *(Option(finding_prompt(f, self.catalog), id=f.code) for f in self.findings),
                id="finding-list",
            )
            yield DetailPane(id="finding-detail", back_to="#finding-list", back_label="Finding list")
        yield Footer()

    def _summary(self) -> str:
        cluster = self.diagnosis.cluster
        name = cluster.name if cluster else self.diagnosis.cluster_id.rsplit("/", 1)[-1]
        verdict, style = VERDICT_WORDS[self.diagnosis.verdict]
        count = len(self.diagnosis.findings)
        found = (
            f"{count} finding{'s' if count != 1 else ''}, in the order the fix takes them"
            if count
            else "no findings"
        )
        return f"[b]{escape(name)}[/] · [b {style}]{verdict}[/] · {found}"

    def on_mount(self) -> None:
        """Select the most fundamental finding, or say there is nothing to fix."""
        findings = self.query_one("#finding-list", OptionList)
        if self.findings:
            findings.highlighted = 0
            if self.fix_at_once:
                self.call_after_refresh(self.action_fix)
        else:
            findings.display = False
            self.query_one("#finding-detail", DetailPane).show(
                [
                    ("title", "No findings"),
                    (
                        "line",
                        "Every check that could run passed; the checklist shows any question left open.",
                    ),
                ]
            )

    @on(OptionList.OptionHighlighted, "#finding-list")
    def show_selected(self, event: OptionList.OptionHighlighted) -> None:
        """The detail pane follows the list cursor."""
        finding = self.findings[event.option_index]
        self.query_one("#finding-detail", DetailPane).show(
            finding_detail(self.diagnosis, finding, self.catalog), scroll_home=True
        )

    @on(OptionList.OptionSelected, "#finding-list")
    def finding_selected(self) -> None:
        """Enter moves into the plan so it can be scrolled by keyboard."""
        self.query_one("#finding-detail", DetailPane).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Fixing needs a backend and something to fix."""
        if action == "fix":
            return self.backend is not None and bool(self.diagnosis.findings)
        return True

    def action_fix(self) -> None:
        """Open the remediation flow for the cluster's plan; coming back after a change re-runs."""
        from screens.fix import RemediationScreen

        if self.backend is None or not self.diagnosis.findings:
            return
        self.app.push_screen(
            RemediationScreen(self.backend, self.diagnosis, paths=self.paths, scope=self._chosen()),
            callback=self._after_fix,
        )

    def _chosen(self) -> set[str] | None:
        """A warning under the cursor is fixed on its own; anything else fixes the cluster's causes."""
        index = self.query_one("#finding-list", OptionList).highlighted
        if index is None or not 0 <= index < len(self.findings):
            return None
        finding = self.findings[index]
        return {finding.code} if named_only(finding) else None

    def _after_fix(self, changed: bool | None) -> None:
        if changed:
            self.dismiss(True)

    def action_back(self) -> None:
        """Back to the checklist."""
        self.dismiss(False)

    def action_rerun(self) -> None:
        """Back to the checklist, asking it to run the diagnosis again."""
        self.dismiss(True)
