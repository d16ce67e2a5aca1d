"""Local HTTPS emulator of the Azure APIs cmk-wizard uses (ARM and Key Vault data plane).

Importing this package is cheap and has no side effects: the estate code (and PyYAML) loads on
first use of a name from it, the server modules on first use of `Emulator`, and trustme when an
emulator starts. `wizard.emulator.builtin` names the built-in scenarios without either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.emulator.estate import Estate, EstateError, load_estate, scenario_descriptions, scenario_names
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
_FROM_ESTATE = ("Estate", "EstateError", "load_estate", "scenario_descriptions", "scenario_names")


def fleet_estate(clusters: int, *, keys: int, subscriptions: int, broken: float, seed: int) -> Estate:
    """A generated fleet (`cmk-wizard emulator --fleet N`), as the estate format's `fleet:` says."""
    from wizard.emulator.estate import Estate

    settings = {
        "clusters": clusters,
        "keys": keys,
        "subscriptions": subscriptions,
        "broken": broken,
        "seed": seed,
    }
    return Estate.from_data({"name": f"fleet-{clusters}", "fleet": settings}, "--fleet")


def __getattr__(name: str) -> Any:
    """Load the estate code, or the server, only when someone asks for it (validating a scenario
    does not load the server; naming a built-in one loads neither)."""
    if name in _FROM_ESTATE:
        from wizard.emulator import estate

        return getattr(estate, name)
    if name in ("Emulator", "DEFAULT_TOKEN"):
        from wizard.emulator import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
