"""The incident report: shown in a scrollable view, saved to a file, copied over OSC 52 (tmux-aware)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static

from screens.messages import ReportReady
from screens.presentation import path_lines, tables_as_lists
from screens.widgets.context_bar import ContextBar
from screens.widgets.keys import KeyedScroll, relabel
from wizard.domain.errors import WizardError
from wizard.domain.ports import Backend
from wizard.run.incident import incident_markdown, osc52, save_report
from wizard.run.incidents import Incident


def write_report(
    backend: Backend, incident: Incident, folder: Path, *, open_here: bool = False
) -> ReportReady:
    """Build the incident's report (with the Activity Log when it can be read) and save it; a failed
    save still shows the report. Call from a worker: it reads Azure."""
    from wizard.run.forensics import what_changed

    changed = None
    if incident.initial is not None:
        try:  # the Activity Log is a bonus: a report without it beats no report
            changed = what_changed(backend.activity(), incident.initial)
        except WizardError:
            changed = None
    markdown = incident_markdown(incident, what_changed=changed, reader=backend.connect())
    name = incident.cluster_id.rstrip("/").rsplit("/", 1)[-1]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        path: Path | None = save_report(markdown, folder / f"incident-{name}-{stamp}.md")
        error = ""
    except OSError as exc:
        path, error = None, f"{exc.strerror or exc} ({folder})"
    return ReportReady(markdown, path, error, open_here=open_here)


def clipboard_sequences(text: str, environ: dict[str, str] | None = None) -> list[str]:
    """OSC 52 for the terminal; inside tmux, also the passthrough-wrapped form.

    tmux takes the plain sequence itself when `set-clipboard` is on and forwards the wrapped one
    when `allow-passthrough` is on; sending both covers either setting. Empty when too large.
    """
    env = dict(os.environ) if environ is None else environ
    plain = osc52(text, env={})
    if not plain:
        return []
    return [plain, osc52(text, env=env)] if env.get("TMUX") else [plain]


class ReportScreen(Screen[None]):
    """Read the report; `y` copies it; the saved file's path stays on screen as the fallback."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="report.back", tooltip="Back to where you were"),
        Binding(
            "y",
            "copy",
            "Copy",
            id="report.copy",
            tooltip="Copy the report (OSC 52; the saved file is the fallback)",
        ),
    ]

    def __init__(
        self, markdown: str, path: Path | None, *, save_error: str = "", back_label: str = "Back"
    ) -> None:
        super().__init__()
        relabel(self, "back", back_label)
        self.markdown = markdown
        self.viewed = tables_as_lists(markdown)
        """What the viewer shows: tables as rows (the saved file keeps them)."""
        self.path = path
        self.save_error = save_error
        self.sent: list[str] = []

    def compose(self) -> ComposeResult:
        """Where it is saved, then the report."""
        yield ContextBar()
        yield Static(self._where(), id="report-path")
        with KeyedScroll(id="report-scroll"):
            yield Markdown(self.viewed, id="report-text")
        yield Footer()

    def on_mount(self) -> None:
        """Scroll keys work at once."""
        self.query_one("#report-scroll", KeyedScroll).focus()

    def on_resize(self) -> None:
        """The saved path is broken at `/` for the width there is."""
        self.query_one("#report-path", Static).update(self._where())

    def _where(self) -> str:
        if self.path is None:
            return f"[b $error]Not saved:[/] {escape(self.save_error)}"
        width = (self.app.size.width if self.is_attached else 80) - 2
        return f"[$text-muted]Saved to[/]\n{escape(path_lines(str(self.path), width))}"

    def action_copy(self) -> None:
        """Send the report to the terminal's clipboard; say where the file is in case it does not land."""
        sequences = clipboard_sequences(self.markdown)
        driver = self.app._driver  # the terminal; Textual's own copy sends no tmux passthrough
        toast = min(60, self.app.size.width // 2) - 4  # a toast's width less its padding and edge
        fallback = (
            f"The report is in\n{path_lines(str(self.path), toast)}"
            if self.path
            else "Save failed: select and copy it."
        )
        if not sequences or driver is None:
            self.notify(
                f"Too large for the terminal clipboard. {fallback}",
                title="Not copied",
                severity="warning",
                timeout=8,
            )
            return
        for sequence in sequences:
            driver.write(sequence)
        self.sent = sequences
        self.notify(
            f"Sent over OSC 52; terminals do not confirm. If it did not arrive:\n{fallback}",
            title="Copied",
            timeout=8,
        )

    def action_back(self) -> None:
        """Back to the fix (or wherever the palette opened this)."""
        self.dismiss()
