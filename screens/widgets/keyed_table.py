"""The cluster list's table: j and k as the arrows, like the wizard's other lists (a module of its
own, so that the table's code loads with the fleet view, not with the first frame)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class KeyedDataTable(DataTable[Any]):
    """A DataTable where j and k move the cursor as down and up do."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", id="table.down", show=False, tooltip="Down, as the arrow"),
        Binding("k", "cursor_up", "Up", id="table.up", show=False, tooltip="Up, as the arrow"),
    ]
