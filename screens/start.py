"""Start: who we are signed in as, and a filterable list of the CMK clusters we can see."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from screens.diagnosis import DiagnosisScreen
from screens.errors import explain
from screens.messages import ClustersLoaded
from screens.presentation import vault_name_of
from screens.widgets.context_bar import ContextBar
from wizard.domain.models import ClusterSummary
from wizard.domain.ports import Backend

STATUS_SYMBOLS = {"ready": "✓", "inaccessible": "✗", "failed": "✗"}


def cluster_row(cluster: ClusterSummary) -> tuple[Text, Text, Text, Text]:
    """The table cells of one cluster, as plain Text so names are never read as markup."""
    symbol = STATUS_SYMBOLS.get(cluster.cluster_status.lower(), "·")
    return (
        Text(cluster.name),
        Text(cluster.resource_group),
        Text(f"{symbol} {cluster.cluster_status}"),
        Text(vault_name_of(cluster.key_url)),
    )


def matches(cluster: ClusterSummary, query: str) -> bool:
    """Every word of the filter must appear in the name, group, status, region or vault."""
    haystack = " ".join(
        (
            cluster.name,
            cluster.resource_group,
            cluster.cluster_status,
            cluster.location,
            vault_name_of(cluster.key_url),
        )
    ).lower()
    return all(word in haystack for word in query.lower().split())


def triage_order(cluster: ClusterSummary) -> tuple[bool, str]:
    """Clusters that are not Ready come first: they are why the operator is here."""
    return (cluster.cluster_status.lower() == "ready", cluster.name.lower())


class StartScreen(Screen[None]):
    """Lists clusters in a worker; opening one pushes the diagnosis on top, so escape comes back."""

    AUTO_FOCUS = "#clusters"

    BINDINGS = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            id="start.filter",
            tooltip="Type to narrow the list, or paste a cluster resource ID",
        ),
        Binding("r", "reload", "Reload", id="start.reload", tooltip="Ask Azure for the list again"),
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
        self.clusters: list[ClusterSummary] = []
        self.listings = 0
        """How many times this screen has asked Azure for the clusters (0 until after its first frame)."""

    def compose(self) -> ComposeResult:
        """Context, a filter above the table, one status line, and the keys."""
        yield ContextBar()
        yield Static(
            "Pick the cluster that lost access to its key: enter opens it, / filters.", id="start-intro"
        )
        yield Input(
            placeholder="Filter by name, group, status or vault; or paste a cluster ID", id="cluster-filter"
        )
        table: DataTable[Text] = DataTable(id="clusters", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="start-problem")
        yield Static("Asking Azure for your CMK clusters…", id="start-status")
        yield Footer()

    def on_mount(self) -> None:
        """Start listing at once; open the requested cluster on top without waiting for the list."""
        table = self.query_one("#clusters", DataTable)
        table.add_column("Name", key="name")
        table.add_column("Resource group", key="group")
        table.add_column("Status", key="status")
        table.add_column("Key vault", key="vault")
        self.query_one("#start-problem", Static).display = False
        self.call_after_refresh(self.list_clusters)
        if self.open_cluster:
            self.app.push_screen(DiagnosisScreen(self.backend, self.open_cluster))

    def list_clusters(self) -> None:
        """Ask Azure for the clusters (in a worker)."""
        self.listings += 1
        self.load_clusters()

    @work(thread=True, exclusive=True, exit_on_error=False, group="clusters")
    def load_clusters(self) -> None:
        """Connect (cached by the backend) and list clusters; only posts a message."""
        clusters = self.backend.connect().list_cmk_clusters()
        self.post_message(ClustersLoaded(sorted(clusters, key=triage_order)))

    @on(ClustersLoaded)
    def show_clusters(self, message: ClustersLoaded) -> None:
        """Fill the table."""
        self.clusters = message.clusters
        self.query_one("#start-problem", Static).display = False
        self.refill()

    @on(Worker.StateChanged)
    def explain_failure(self, event: Worker.StateChanged) -> None:
        """A failed listing becomes an explained state on the screen, never a crash."""
        if event.worker.group != "clusters":
            return
        event.stop()
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            why = explain(event.worker.error, doing="listing your clusters")
            problem = self.query_one("#start-problem", Static)
            problem.update(
                f"[b $error]{why.headline}[/]\n{escape(why.detail)}\n\n{escape(why.advice)}\n"
                "You can also paste a cluster resource ID into the filter and press enter."
            )
            problem.display = True
            self.query_one("#start-status", Static).update("No cluster list.")

    def refill(self) -> None:
        """Show the clusters that match the filter, keeping the cursor on the same cluster."""
        table: DataTable[Text] = self.query_one("#clusters", DataTable)
        query = self.query_one("#cluster-filter", Input).value.strip()
        shown = [c for c in self.clusters if matches(c, query)] if not query.startswith("/") else []
        table.clear()
        for cluster in shown:
            table.add_row(*cluster_row(cluster), key=cluster.id)
        status = self.query_one("#start-status", Static)
        if query.startswith("/"):
            status.update("Press enter to open this cluster ID.")
        elif not self.clusters:
            status.update("You can see no CMK clusters. Paste a cluster resource ID into the filter.")
        else:
            status.update(f"{len(shown)} of {len(self.clusters)} CMK clusters · enter opens · / filters")

    @on(Input.Changed, "#cluster-filter")
    def filter_changed(self) -> None:
        """Narrow the table as the operator types."""
        self.refill()

    @on(Input.Submitted, "#cluster-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens a pasted ID or the only match, else moves to the list."""
        table = self.query_one("#clusters", DataTable)
        if event.value.strip().startswith("/"):
            self.open(event.value.strip())
        elif table.row_count == 1:
            self.open(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        elif table.row_count:
            table.focus()

    @on(DataTable.RowSelected, "#clusters")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens that cluster's diagnosis."""
        self.open(str(event.row_key.value))

    def open(self, cluster_id: str) -> None:
        """Diagnose one cluster on a screen of its own."""
        self.app.push_screen(DiagnosisScreen(self.backend, cluster_id))

    def action_focus_filter(self) -> None:
        """Jump to the filter from anywhere on the screen."""
        self.query_one("#cluster-filter", Input).focus()

    def action_focus_table(self) -> None:
        """Down from the filter goes to the list."""
        self.query_one("#clusters", DataTable).focus()

    def action_clear_filter(self) -> None:
        """Empty the filter and show every cluster."""
        self.query_one("#cluster-filter", Input).value = ""

    def action_reload(self) -> None:
        """Ask Azure for the list again, e.g. after `az login` or a permission grant."""
        self.query_one("#start-status", Static).update("Asking Azure for your CMK clusters…")
        self.list_clusters()

    def reload_for_scenario(self, default_cluster_id: str | None) -> None:
        """After a scenario switch: forget the old clusters and open the new default."""
        self.clusters = []
        self.refill()
        self.action_reload()
        if default_cluster_id:
            self.open(default_cluster_id)
