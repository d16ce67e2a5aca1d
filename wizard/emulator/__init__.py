"""Local HTTPS emulator of the Azure APIs cmk-wizard uses (ARM and Key Vault data plane).

Importing this package is cheap and has no side effects: the server modules load on first use of
`Emulator`, and trustme when an emulator starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wizard.emulator.estate import Estate, EstateError, load_estate, scenario_descriptions, scenario_names

if TYPE_CHECKING:
    from wizard.emulator.server import DEFAULT_TOKEN, Emulator

__all__ = [
    "DEFAULT_TOKEN",
    "Emulator",
    "Estate",
    "EstateError",
    "fleet_estate",
    "load_estate",
    "scenario_descriptions",
    "scenario_names",
]


def fleet_estate(clusters: int, *, keys: int, subscriptions: int, broken: float, seed: int) -> Estate:
    """A generated fleet (`cmk-wizard emulator --fleet N`), as the estate format's `fleet:` says."""
    settings = {
        "clusters": clusters,
        "keys": keys,
        "subscriptions": subscriptions,
        "broken": broken,
        "seed": seed,
    }
    return Estate.from_data({"name": f"fleet-{clusters}", "fleet": settings}, "--fleet")


def __getattr__(name: str) -> Any:
    """Load the server only when someone asks for it (validating a scenario does not)."""
    if name in ("Emulator", "DEFAULT_TOKEN"):
        from wizard.emulator import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
