"""ARM routes (mongoClusters, identities, vaults, keys, RBAC, Resource Graph) in the real wire shapes.

One module per resource family; `routes` holds the one table of every route the emulator serves.
"""

from __future__ import annotations

from wizard.emulator.arm.routes import ROUTES, Route, action_for, match

__all__ = ["ROUTES", "Route", "action_for", "match"]
