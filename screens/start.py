"""Start: the fleet view. Every cluster in sight, not-Ready first, judged by a fleet scan as it runs.

The scan runs in a thread worker that only posts FleetUpdated messages; the handler owns the
report and the table. Rows show as soon as Resource Graph lists the clusters (pending), and fill
in while the key reads run; enter diagnoses one cluster, as it always did.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from screens.diagnosis import DiagnosisScreen
from screens.errors import explain
from screens.messages import FleetUpdated
from screens.presentation import scenario_line
from screens.widgets.context_bar import ContextBar
from wizard.domain.ports import Backend

if TYPE_CHECKING:  # the fleet view's code (its table, rows, the scan) loads with it, after the first frame
    from textual.widgets import DataTable

    from wizard.domain.fleet import FleetReport, GroupKind
    from wizard.run.scan import FleetScan

PASTE_HINT = "You can also paste a cluster resource ID into the filter and press enter."
WIDE = 110
COLUMNS = (
    ("Status", "status", 14, 14),
    ("Cluster", "name", 20, 28),
    ("Resource group", "group", 0, 18),
    ("Key", "key", 12, 28),
    ("Scan", "scan", 22, 30),
)
"""(label, key, width under 110 columns (0: left out), width from 110): 80 columns hold a row."""


class StartScreen(Screen[None]):
    """The fleet view; opening a cluster pushes its diagnosis on top, so escape comes back."""

    AUTO_FOCUS = "#clusters"

    BINDINGS = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            id="start.filter",
            tooltip="Type to narrow the list (name, key, vault, state, cause), or paste a cluster ID",
        ),
        Binding(
            "g", "cycle_grouping", "Group", id="start.group", tooltip="Group by key, vault, identity, or not"
        ),
        Binding("r", "reload", "Rescan", id="start.reload", tooltip="Scan the fleet again"),
        Binding(
            "down",
            "focus_table",
            "To list",
            id="start.to-list",
            show=False,
            tooltip="Move from the filter to the list",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="start.clear-filter",
            show=False,
            tooltip="Empty the filter",
        ),
    ]

    def __init__(self, backend: Backend, *, open_cluster: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.open_cluster = open_cluster
        self.report: FleetReport | None = None
        self.clusters_known = False
        self.grouping: GroupKind | None = None
        self.listings = 0
        """How many scans this screen has started (0 until after its first frame)."""
        self.cancelled = threading.Event()
        self.wide = False
        self.scanned_at = datetime.now(UTC)
        """When the scan on show started: a diagnosis after it tells its cluster's row."""

    def compose(self) -> ComposeResult:
        """Context, then the fleet view; under a cluster opened at once, the fleet view waits for
        that cluster's first frame (one screen to lay out and style before it, not two)."""
        yield ContextBar()
        if not self.open_cluster:
            yield from self.fleet_view()

    def fleet_view(self) -> Iterator[Widget]:
        """The fleet's summary and blast radius, a filter above the table, one status line."""
        from screens.fleet_view import summary
        from screens.widgets.keyed_table import KeyedDataTable

        yield Static(summary(None, False), id="start-intro")
        yield Static(id="start-scenario")
        yield Static(id="fleet-groups")
        yield Input(
            placeholder="Filter by name, key, vault, state or cause; or paste a cluster ID",
            id="cluster-filter",
        )
        yield KeyedDataTable(id="clusters", cursor_type="row", zebra_stripes=True)
        yield Static(id="start-problem")
        yield Static("Asking Azure for your clusters…", id="start-status")
        yield Footer()

    def on_mount(self) -> None:
        """Start scanning at once; open the requested cluster on top without waiting for the scan."""
        if self.open_cluster:
            self.app.push_screen(DiagnosisScreen(self.backend, self.open_cluster))
            self.call_after_refresh(self.mount_fleet_view)
        else:
            self.start_fleet_view()

    async def mount_fleet_view(self) -> None:
        """Under the opened cluster, after its first frame: the fleet view, scanning."""
        await self.mount_all(self.fleet_view())
        self.start_fleet_view()

    def start_fleet_view(self) -> None:
        """Columns for the terminal's width, then the scan (after the next frame)."""
        table = self._table()
        self.wide = self.app.size.width >= WIDE
        for label, key, narrow, wide in COLUMNS:
            if narrow or self.wide:
                table.add_column(label, key=key, width=wide if self.wide else narrow)
        self.query_one("#start-problem", Static).display = False
        self.show_scenario()
        self.query_one("#fleet-groups", Static).display = False
        self.call_after_refresh(self.list_clusters)

    def on_unmount(self) -> None:
        """Leaving the app stops the scan: no new reads start, the worker returns."""
        self.cancelled.set()

    def on_screen_resume(self) -> None:
        """Back from a cluster: its row tells what its diagnosis (after a fix, say) found."""
        if self.report is not None:
            from screens.fleet_view import summary

            self.query_one("#start-intro", Static).update(summary(self._current(), self.clusters_known))
            self.refill()

    def _current(self) -> FleetReport | None:
        """The scan's report, each cluster diagnosed since told by its latest diagnosis."""
        if self.report is None:
            return None
        from screens.fleet_view import with_diagnoses

        incidents = getattr(self.app, "incidents", {})
        latest = {
            key: incident.current
            for key, incident in incidents.items()
            if incident.current is not None and incident.current.started_at >= self.scanned_at
        }
        return with_diagnoses(self.report, latest)

    def list_clusters(self) -> None:
        """Start a scan (in a worker); the one before it, if still running, is cancelled."""
        self.cancelled.set()
        self.cancelled = threading.Event()
        self.scanned_at = datetime.now(UTC)
        self.listings += 1
        from wizard.run.scan import FleetScan  # on the UI thread: not in the worker, beside the SDK's imports

        self.load_clusters(self.listings, self.cancelled, FleetScan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="clusters")
    def load_clusters(self, generation: int, cancelled: threading.Event, scan: type[FleetScan]) -> None:
        """Connect (cached by the backend) and scan; only posts messages."""
        reader = self.backend.fleet()

        def update(report: FleetReport) -> None:
            self.post_message(FleetUpdated(report, generation))

        scan(
            reader,
            on_update=update,
            cancelled=cancelled,
            clock=self.backend.clock,
        ).run()

    @on(FleetUpdated)
    def show_fleet(self, message: FleetUpdated) -> None:
        """A newer picture of the fleet: the summary, the blast radius and the table follow it."""
        if message.generation != self.listings:
            return
        from screens.fleet_view import problems, radius, summary

        self.report = message.report
        self.clusters_known = bool(message.report.verdicts) or message.report.complete
        self.query_one("#start-intro", Static).update(summary(self._current(), self.clusters_known))
        groups = self.query_one("#fleet-groups", Static)
        now = datetime.now(UTC)
        groups.update(Text(radius(self.report, now)))
        groups.display = bool(radius(self.report, now))
        lines = list(problems(self.report))
        problem = self.query_one("#start-problem", Static)
        if lines:
            problem.update(
                "[b $warning]Could not read everything[/]\n"
                + "\n".join(escape(line) for line in lines)
                + f"\n{escape(PASTE_HINT)}"
            )
        problem.display = bool(lines)
        self.refill()

    @on(Worker.StateChanged)
    def explain_failure(self, event: Worker.StateChanged) -> None:
        """A scan that could not start becomes an explained state on the screen, never a crash."""
        if event.worker.group != "clusters":
            return
        event.stop()
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            why = explain(event.worker.error, doing="scanning your clusters")
            problem = self.query_one("#start-problem", Static)
            problem.update(
                f"[b $error]{why.headline}[/]\n{escape(why.detail)}\n\n"
                f"{escape(why.advice)}\n{escape(PASTE_HINT)}"
            )
            problem.display = True
            self.query_one("#start-status", Static).update("No cluster list.")

    def refill(self) -> None:
        """Show the clusters that match the filter, keeping the cursor on the same row."""
        from screens.fleet_view import MAX_ROWS, palette, rows

        table = self._table()
        query = self.query_one("#cluster-filter", Input).value.strip()
        pasted = query.startswith("/")
        current = self._cursor_key()
        shown: list[tuple[str, tuple[Text, ...]]] = []
        matched = 0
        report = self._current()
        if not pasted and report is not None:
            colours = palette(self.app.get_css_variables())
            shown, matched = rows(report, query, self.grouping, datetime.now(UTC), colours, wide=self.wide)
        table.clear()
        for key, cells in shown:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in shown]
        if current in keys:
            table.move_cursor(row=keys.index(current))
        total = len(self.report.verdicts) if self.report else 0
        status = self.query_one("#start-status", Static)
        grouped = f" · grouped by {self.grouping.value}" if self.grouping else ""
        if pasted:
            status.update("Press enter to open this cluster ID.")
        elif self.report is None:
            status.update("Asking Azure for your clusters…")
        elif not total:
            status.update("You can see no DocumentDB clusters. Paste a cluster resource ID into the filter.")
        else:
            more = f" (first {MAX_ROWS}: filter to narrow)" if matched > MAX_ROWS else ""
            status.update(
                f"{matched} of {total} clusters{more}{grouped} · enter diagnoses · / filters · g groups"
            )

    def _table(self) -> DataTable[Text]:
        from textual.widgets import DataTable

        table: DataTable[Text] = self.query_one("#clusters", DataTable)
        return table

    def _cursor_key(self) -> str | None:
        table = self._table()
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @on(Input.Changed, "#cluster-filter")
    def filter_changed(self) -> None:
        """Narrow the table as the operator types."""
        self.refill()

    @on(Input.Submitted, "#cluster-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens a pasted ID or the only match, else moves to the list."""
        from screens.fleet_view import GROUP_ROW

        table = self._table()
        clusters = [key for key in (str(r.value) for r in table.rows) if not key.startswith(GROUP_ROW)]
        if event.value.strip().startswith("/"):
            self.open(event.value.strip())
        elif len(clusters) == 1:
            self.open(clusters[0])
        elif table.row_count:
            table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a cluster diagnoses it; on a group heading, narrows the list to that group."""
        from screens.fleet_view import GROUP_ROW

        if event.data_table.id != "clusters":
            return
        key = str(event.row_key.value)
        if key.startswith(GROUP_ROW):
            self.query_one("#cluster-filter", Input).value = key.removeprefix(GROUP_ROW)
            return
        self.open(key)

    def open(self, cluster_id: str) -> None:
        """Diagnose one cluster on a screen of its own."""
        self.app.push_screen(DiagnosisScreen(self.backend, cluster_id))

    def action_focus_filter(self) -> None:
        """Jump to the filter from anywhere on the screen."""
        self.query_one("#cluster-filter", Input).focus()

    def action_focus_table(self) -> None:
        """Down from the filter goes to the list."""
        self._table().focus()

    def action_clear_filter(self) -> None:
        """Empty the filter and show every cluster."""
        self.query_one("#cluster-filter", Input).value = ""

    def action_cycle_grouping(self) -> None:
        """No groups, then by key, by vault, by identity."""
        from screens.fleet_view import GROUPINGS

        self.grouping = GROUPINGS[(GROUPINGS.index(self.grouping) + 1) % len(GROUPINGS)]
        self.refill()

    def action_reload(self) -> None:
        """Scan again, e.g. after `az login`, a permission grant or a fix."""
        self.query_one("#start-status", Static).update("Scanning again…")
        self.list_clusters()

    def show_scenario(self) -> None:
        """A trainer's line: which scenario plays and what it shows (a healthy-looking one may
        break only the operator's own calls)."""
        line = self.query_one("#start-scenario", Static)
        line.update(scenario_line(self.backend))
        line.display = bool(line.visual and str(line.visual))

    def reload_for_scenario(self, default_cluster_id: str | None) -> None:
        """After a scenario switch: forget the old fleet and open the new default."""
        self.show_scenario()
        self.report = None
        self.clusters_known = False
        self.refill()
        self.action_reload()
        if default_cluster_id:
            self.open(default_cluster_id)
