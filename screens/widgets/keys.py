"""The wizard's movement keys on Textual's lists and scroll views: j/k as the arrows, like less and vim."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.widgets import OptionList


class KeyedOptionList(OptionList):
    """An OptionList where j and k move the cursor as down and up do."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", id="list.down", show=False, tooltip="Down, as the arrow"),
        Binding("k", "cursor_up", "Up", id="list.up", show=False, tooltip="Up, as the arrow"),
    ]


class KeyedScroll(VerticalScroll):
    """A scroll view where j and k scroll as down and up do."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", id="scroll.down", show=False, tooltip="Scroll down"),
        Binding("k", "scroll_up", "Up", id="scroll.up", show=False, tooltip="Scroll up"),
    ]


def relabel(node: DOMNode, action: str, description: str) -> None:
    """Give this one node's binding for `action` another footer label (bindings are per class; the
    footer must name where this instance's key really goes, e.g. escape's target)."""
    table = node._bindings.key_to_bindings
    for key, bindings in list(table.items()):
        table[key] = [replace(b, description=description) if b.action == action else b for b in bindings]
