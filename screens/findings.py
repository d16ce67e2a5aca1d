"""Findings: the causes, most fundamental first, each with its remediation plan (a plan only, no writes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from screens.presentation import SEVERITY_STYLES, VERDICT_WORDS, key_values, remediation_values
from screens.widgets.context_bar import ContextBar
from wizard.diagnosis import Diagnosis
from wizard.domain.catalog import Catalog, RemediationSpec, load_catalog, render
from wizard.domain.models import Finding


def finding_prompt(finding: Finding, catalog: Catalog) -> str:
    """One row of the findings list: severity, then the catalogue title."""
    style = SEVERITY_STYLES[finding.severity]
    return f"[b {style}]{finding.severity.value.upper():<8}[/] {escape(catalog.finding(finding.code).title)}"


def plan_step(number: int, remedy: RemediationSpec, values: Mapping[str, Any]) -> str:
    """One remediation rendered from the catalogue; `{placeholders}` left are chosen when applying."""
    reversible = ("[$success]yes[/]" if remedy.reversible
                  else "[b $error]NO: this cannot be undone[/]")
    return "\n".join([
        f"[b]{number}. {escape(remedy.title)}[/]",
        f"   {escape(render(remedy.summary, values))}",
        f"   [$text-muted]Change[/]      {escape(render(remedy.change, values))}",
        f"   [$text-muted]REST[/]        {escape(render(remedy.rest, values))}",
        f"   [$text-muted]az[/]          {escape(render(remedy.az, values))}",
        f"   [$text-muted]Permission[/]  {escape(remedy.permission)}",
        f"   [$text-muted]Reversible[/]  {reversible}",
        f"   [$text-muted]Verify by[/]   re-running {escape(', '.join(remedy.verifies))}",
    ])


def finding_detail(diagnosis: Diagnosis, finding: Finding, catalog: Catalog) -> str:
    """Markup for one finding: what, why, the seed passage, the evidence and the plan."""
    entry = catalog.finding(finding.code)
    style = SEVERITY_STYLES[finding.severity]
    lines = [f"[b]{escape(entry.title)}[/]",
             f"[b {style}]{finding.severity.value.upper()}[/] · {escape(finding.code)} · "
             f"found by {escape(finding.check_id)}",
             "", escape(finding.summary), "", escape(entry.explanation)]
    passage = catalog.passage_for(finding.code)
    if passage:
        lines += ["", "[b]From the troubleshooting page[/]", f"[i]{escape(passage)}[/]"]
    if finding.evidence:
        lines += ["", "[b]Evidence[/]", key_values(finding.evidence)]
    lines += ["", "[b]Remediation plan[/]"]
    remedies = [catalog.remediations[r] for r in finding.remediations if r in catalog.remediations]
    if remedies:
        values = remediation_values(diagnosis, finding)
        lines += [plan_step(n, r, values) for n, r in enumerate(remedies, 1)]
        lines += ["", "[$text-muted]Plan only: this version shows the fix; it does not apply it.[/]"]
    else:
        lines.append("   [$text-muted]No change can fix this from here: read the explanation above.[/]")
    return "\n".join(lines)


class FindingsScreen(Screen[bool]):
    """Lists findings in the engine's order and renders the selected one; dismisses True to re-run."""

    BINDINGS = [
        Binding("escape", "back", "Checklist", id="findings.back", tooltip="Back to the checklist"),
        Binding("r", "rerun", "Re-run", id="findings.rerun",
                tooltip="Back to the checklist and ask Azure every question again"),
    ]

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.diagnosis = diagnosis
        self.catalog = load_catalog()

    def compose(self) -> ComposeResult:
        """Context, a summary line, then the list beside (or above) the selected finding."""
        yield ContextBar()
        yield Static(self._summary(), id="findings-summary")
        with Horizontal(id="findings-body"):
            yield OptionList(*(Option(finding_prompt(f, self.catalog), id=f.code)
                               for f in self.diagnosis.findings), id="finding-list")
            with VerticalScroll(id="finding-detail-scroll", can_focus=True):
                yield Static(id="finding-detail")
        yield Footer()

    def _summary(self) -> str:
        cluster = self.diagnosis.cluster
        name = cluster.name if cluster else self.diagnosis.cluster_id.rsplit("/", 1)[-1]
        verdict, style = VERDICT_WORDS[self.diagnosis.verdict]
        count = len(self.diagnosis.findings)
        return (f"[b]{escape(name)}[/] · [b {style}]{verdict}[/] · "
                f"{count} finding{'s' if count != 1 else ''}, most fundamental first")

    def on_mount(self) -> None:
        """Select the most fundamental finding, or say there is nothing to fix."""
        findings = self.query_one("#finding-list", OptionList)
        if self.diagnosis.findings:
            findings.highlighted = 0
        else:
            findings.display = False
            self.query_one("#finding-detail", Static).update(
                "[b $success]No findings.[/] Every check that could run passed; "
                "see the checklist for any question left open.")

    @on(OptionList.OptionHighlighted, "#finding-list")
    def show_selected(self, event: OptionList.OptionHighlighted) -> None:
        """The detail pane follows the list cursor."""
        finding = self.diagnosis.findings[event.option_index]
        self.query_one("#finding-detail", Static).update(
            finding_detail(self.diagnosis, finding, self.catalog))
        self.query_one("#finding-detail-scroll", VerticalScroll).scroll_home(animate=False)

    @on(OptionList.OptionSelected, "#finding-list")
    def finding_selected(self) -> None:
        """Enter moves into the plan so it can be scrolled by keyboard."""
        self.query_one("#finding-detail-scroll").focus()

    def action_back(self) -> None:
        """Back to the checklist."""
        self.dismiss(False)

    def action_rerun(self) -> None:
        """Back to the checklist, asking it to run the diagnosis again."""
        self.dismiss(True)
