"""Local HTTPS emulator of the Azure APIs cmk-wizard uses (ARM and Key Vault data plane).

Importing this package is cheap and has no side effects: trustme is imported by `Emulator.start`.
"""

from wizard.emulator.estate import Estate, EstateError, load_estate, scenario_names
from wizard.emulator.server import DEFAULT_TOKEN, Emulator

__all__ = ["DEFAULT_TOKEN", "Emulator", "Estate", "EstateError", "load_estate", "scenario_names"]
