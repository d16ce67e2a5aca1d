"""The logic of each decision-tree check, registered by id with the reads it needs.

A new check is a function in the module of what it looks at (cluster, identity, vault, access,
key), decorated with `@check(id, needs=...)` where `needs` repeats its `reads` in tree.toml.
The gate (gate.py) has already waited for those reads when the function runs.
"""

from __future__ import annotations

from wizard.engine.checks import access, cluster, identity, key, vault
from wizard.engine.checks.gate import CheckContext
from wizard.engine.checks.registry import CHECKS, Check, check
from wizard.engine.checks.verdict import Verdict

CHECK_MODULES = (cluster, identity, vault, access, key)
"""The modules whose `@check` functions fill CHECKS when they are imported."""

__all__ = ["CHECKS", "CHECK_MODULES", "Check", "CheckContext", "Verdict", "check"]
