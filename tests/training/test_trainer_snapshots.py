"""SVG snapshots of the trainer at 80x24 and 120x40, over a fixed desk and room (no emulator, no times)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from screens.trainer import TrainerApp
from tests.ui.helpers import steady, until
from tests.ui.test_snapshots import SIZES, SnapCompare
from wizard.domain.training import ClusterHealth, LiveChange, LiveFaultInfo, SeatProgress, TrainerDesk
from wizard.emulator.live_faults import LIVE_FAULTS

CLUSTER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/cluster-demo"


class FixedDesk:
    """A desk whose emulator has had one fault applied and one undone."""

    label = "seat 0a1b2c3d"

    def faults(self) -> list[LiveFaultInfo]:
        return [LiveFaultInfo(f.name, f.finding, f.summary) for f in LIVE_FAULTS.values()]

    def changes(self) -> list[LiveChange]:
        return [
            LiveChange(1, "key-disabled", "KEY_DISABLED", CLUSTER, 100, 160),
            LiveChange(2, "firewall-closed", "VAULT_FIREWALL_BLOCKS_SERVICE", CLUSTER, 200, None),
        ]

    def apply(self, fault: str, cluster: str | None = None) -> LiveChange:
        raise AssertionError("a snapshot applies nothing")

    def undo(self, change_id: int) -> LiveChange:
        raise AssertionError("a snapshot undoes nothing")

    def health(self) -> list[ClusterHealth]:
        return [ClusterHealth(CLUSTER, "Inaccessible", False, ("vault-network-closed",))]

    def writes(self) -> int:
        return 3


class FixedRoom:
    """Two seats: one at work, one gone."""

    def seats(self) -> list[SeatProgress]:
        return [
            SeatProgress("0a1b2c3d", 1, 0.0, 0.0, "key-expired", "FindingsScreen", ("KEY_EXPIRED",), 1, "x"),
            SeatProgress("4e5f6a7b", 2, 1.0, 1.0, "key-expired", ended=True),
        ]

    def desk(self, seat: SeatProgress) -> TrainerDesk | None:
        return FixedDesk() if not seat.ended else None


async def _loaded(pilot: Pilot[int]) -> None:
    app = pilot.app
    assert isinstance(app, TrainerApp)
    await until(
        pilot, lambda: app.looks > 0 and app.query_one("#trainer-faults", OptionList).option_count > 0
    )
    await steady(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_trainer_with_a_room(snap_compare: SnapCompare, size: tuple[int, int], tmp_path: Path) -> None:
    """The faults with their findings' titles, the seats' progress, health, and the changes."""
    app = TrainerApp(FixedDesk(), log_change=lambda record: None, room=FixedRoom())
    assert snap_compare(app, terminal_size=size, run_before=_loaded)
