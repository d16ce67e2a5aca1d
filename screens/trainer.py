"""The trainer's app: pick a fault, apply it live to a running emulator, undo it, watch the emulator's
own verdict; with a room, the seats and how far each has got. Every change goes to the log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from wizard.domain.catalog import load_catalog
from wizard.domain.errors import WizardError
from wizard.domain.training import (
    ClusterHealth,
    LiveChange,
    LiveFaultInfo,
    SeatDirectory,
    SeatProgress,
    TrainerDesk,
)

REFRESH_SECONDS = 2.0
ChangeLog = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Snapshot:
    """One look at the desk (and the room): what the screen shows until the next look."""

    health: list[ClusterHealth]
    changes: list[LiveChange]
    seats: list[tuple[SeatProgress, str]]
    problem: str | None = None


def short_id(resource_id: str) -> str:
    """The last segment of an ARM id: enough to tell a room's clusters apart."""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def seat_row_progress(seat: SeatProgress, desk: TrainerDesk | None) -> str:
    """A seat's progress in words: its screen, its findings, its writes and the emulator's verdict."""
    if seat.ended or desk is None:
        return "left the room"
    try:
        health = desk.health()
        writes = desk.writes()
    except WizardError:
        return "emulator not answering"
    able = sum(1 for h in health if h.can_use_key)
    verdict = "cluster healthy" if health and able == len(health) else "cluster broken"
    found = ", ".join(seat.findings) if seat.findings else "no diagnosis yet"
    return f"{seat.screen.removesuffix('Screen')} · {found} · {writes} writes · {verdict}"


class TrainerApp(App[int]):
    """Break things live for a class, and take them back."""

    TITLE = "cmk-wizard trainer"
    CSS_PATH = ["trainer.tcss"]
    BINDINGS = [
        Binding("a", "apply", "Apply fault", id="trainer.apply", tooltip="Apply the highlighted fault"),
        Binding("u", "undo", "Undo", id="trainer.undo", tooltip="Undo the highlighted change"),
        Binding("r", "refresh", "Refresh", id="trainer.refresh", tooltip="Read health and seats now"),
        Binding("q", "quit", "Quit", id="trainer.quit", tooltip="Leave (changes stay applied)"),
    ]

    def __init__(
        self, desk: TrainerDesk | None, *, log_change: ChangeLog, room: SeatDirectory | None = None
    ) -> None:
        super().__init__()
        self.desk = desk
        self.room = room
        self.log_change = log_change
        self.catalog = load_catalog()
        self.fault_names: list[str] = []
        self.fault_summaries: dict[str, str] = {}
        self.snapshot = Snapshot([], [], [])
        self.looks = 0
        self._seat_desks: dict[str, TrainerDesk | None] = {}

    def compose(self) -> ComposeResult:
        yield Static(self._target_line(), id="trainer-context")
        with Horizontal(id="trainer-body"):
            with Vertical(id="trainer-left"):
                yield Static("Faults", classes="trainer-heading")
                yield OptionList(id="trainer-faults")
            with Vertical(id="trainer-right"):
                yield Static("Emulator health", classes="trainer-heading")
                yield DataTable(id="trainer-health", cursor_type="none")
                yield Static("Changes (u undoes the highlighted one)", classes="trainer-heading")
                yield DataTable(id="trainer-changes", cursor_type="row")
        if self.room is not None:
            yield Static("Seats (enter: break this seat)", classes="trainer-heading")
            yield DataTable(id="trainer-seats", cursor_type="row")
        yield RichLog(id="trainer-log", wrap=True, markup=False)
        yield Footer()

    def _target_line(self) -> str:
        target = self.desk.label if self.desk is not None else "no seat chosen"
        return f"cmk-wizard trainer · {target}"

    def on_mount(self) -> None:
        """Fill the tables' columns, read the catalogue, start looking."""
        self.query_one("#trainer-health", DataTable).add_columns("cluster", "status", "key ok", "why not")
        self.query_one("#trainer-changes", DataTable).add_columns("#", "fault", "cluster", "state")
        if self.room is not None:
            self.query_one("#trainer-seats", DataTable).add_columns("seat", "exercise", "progress")
        self.load_faults()
        self.look()
        self.set_interval(REFRESH_SECONDS, self.look)

    @work(thread=True, exclusive=True, group="faults", exit_on_error=False)
    def load_faults(self) -> None:
        """The desk's catalogue of faults (the emulator says which it can apply)."""
        if self.desk is None:
            return
        try:
            faults = self.desk.faults()
        except WizardError as exc:
            self.call_from_thread(self.note, f"cannot read the faults: {exc}")
            return
        self.call_from_thread(self.show_faults, faults)

    def show_faults(self, faults: list[LiveFaultInfo]) -> None:
        """One line per fault: its name and the title of the finding it leads to (what it does is
        said in the log when it is applied)."""
        options = self.query_one("#trainer-faults", OptionList)
        options.clear_options()
        self.fault_names = [f.name for f in faults]
        self.fault_summaries = {f.name: f.summary for f in faults}
        for fault in faults:
            title = (
                self.catalog.findings[fault.finding].title if fault.finding in self.catalog.findings else ""
            )
            options.add_option(Option(f"{fault.name} → {title}", id=fault.name))
        if faults:
            options.highlighted = 0

    @work(thread=True, exclusive=True, group="look", exit_on_error=False)
    def look(self) -> None:
        """Read the emulator's health and changes, and the room's seats, off the UI thread."""
        health: list[ClusterHealth] = []
        changes: list[LiveChange] = []
        problem = None
        if self.desk is not None:
            try:
                health, changes = self.desk.health(), self.desk.changes()
            except WizardError as exc:
                problem = str(exc)
        seats: list[tuple[SeatProgress, str]] = []
        if self.room is not None:
            for seat in self.room.seats():
                if seat.seat not in self._seat_desks or seat.ended:
                    self._seat_desks[seat.seat] = self.room.desk(seat)
                seats.append((seat, seat_row_progress(seat, self._seat_desks[seat.seat])))
        self.call_from_thread(self.show, Snapshot(health, changes, seats, problem))

    def show(self, snapshot: Snapshot) -> None:
        """Put one look on the screen."""
        self.snapshot = snapshot
        self.looks += 1
        health = self.query_one("#trainer-health", DataTable)
        health.clear()
        for h in snapshot.health:
            usable = "yes" if h.can_use_key else "no"
            health.add_row(short_id(h.cluster), h.status, usable, ", ".join(h.reasons) or "—")
        changes = self.query_one("#trainer-changes", DataTable)
        row = changes.cursor_row
        changes.clear()
        for c in snapshot.changes:
            state = "in force" if c.undone_at is None else "undone"
            changes.add_row(str(c.id), c.fault, short_id(c.cluster), state, key=str(c.id))
        if snapshot.changes:
            changes.move_cursor(row=min(row, len(snapshot.changes) - 1))
        if self.room is not None:
            seats = self.query_one("#trainer-seats", DataTable)
            seat_row = seats.cursor_row
            seats.clear()
            for seat, progress in snapshot.seats:
                seats.add_row(seat.seat, seat.exercise, progress, key=seat.seat)
            if snapshot.seats:
                seats.move_cursor(row=min(seat_row, len(snapshot.seats) - 1))
        if snapshot.problem:
            self.note(snapshot.problem)

    def note(self, line: str) -> None:
        """A line in the on-screen log."""
        self.query_one("#trainer-log", RichLog).write(f"{time.strftime('%H:%M:%S')} {line}")

    def action_refresh(self) -> None:
        """Look now."""
        self.look()

    def action_apply(self) -> None:
        """Apply the highlighted fault to the desk's first cluster."""
        index = self.query_one("#trainer-faults", OptionList).highlighted
        if self.desk is None or index is None or index >= len(self.fault_names):
            self.note("choose a seat (enter) and a fault first")
            return
        self.change("apply", self.fault_names[index], None)

    def action_undo(self) -> None:
        """Undo the highlighted change."""
        table = self.query_one("#trainer-changes", DataTable)
        live = self.snapshot.changes
        if self.desk is None or not live or not 0 <= table.cursor_row < len(live):
            self.note("no change to undo")
            return
        self.change("undo", None, live[table.cursor_row].id)

    @work(thread=True, group="change", exit_on_error=False)
    def change(self, verb: str, fault: str | None, change_id: int | None) -> None:
        """Apply or undo through the admin endpoints; log it either way, then look again."""
        desk = self.desk
        assert desk is not None
        record: dict[str, Any] = {"at": time.time(), "target": desk.label, "verb": verb}
        try:
            done = desk.apply(fault or "") if verb == "apply" else desk.undo(change_id or 0)
        except WizardError as exc:
            record |= {"fault": fault, "change": change_id, "result": "error", "error": str(exc)}
            self.log_change(record)
            self.call_from_thread(self.note, f"{verb} {fault or change_id}: refused: {exc}")
            return
        record |= {"fault": done.fault, "change": done.id, "cluster": done.cluster, "result": "ok"}
        self.log_change(record)
        what = "applied" if verb == "apply" else "undone"
        summary = self.fault_summaries.get(done.fault, "")
        line = f"{what}: #{done.id} {done.fault} on {short_id(done.cluster)}" + (
            f" ({summary})" * (verb == "apply")
        )
        self.call_from_thread(self.note, line)
        self.call_from_thread(self.look)

    @on(DataTable.RowSelected, "#trainer-seats")
    def choose_seat(self, event: DataTable.RowSelected) -> None:
        """Enter on a seat: the faults now go to that seat's emulator."""
        key = event.row_key.value
        desk = self._seat_desks.get(str(key)) if key is not None else None
        if desk is None:
            self.note(f"seat {key} has left the room")
            return
        self.desk = desk
        self.query_one("#trainer-context", Static).update(self._target_line())
        self.note(f"now breaking {desk.label}")
        self.load_faults()
        self.look()
