"""Management locks as ARM serves them to readers (2020-05-01): list and GET at any scope.

UNVERIFIED: whether ARM's list at a resource includes the locks inherited from its group and
subscription. The emulator lists the locks at, above and below the scope asked about; the wizard
reads every level of a target and keeps those at or above it, so either answer gives it the same.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from wizard.emulator.model import Lock
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error


def lock_json(lock: Lock) -> dict[str, Any]:
    """A lock as ManagementLockObject reads it."""
    return {
        "id": lock.id,
        "name": lock.name,
        "type": "Microsoft.Authorization/locks",
        "properties": {"level": lock.level, "notes": None, "owners": []},
    }


def _related(scope: str, other: str) -> bool:
    a, b = scope.lower().rstrip("/"), other.lower().rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _scope(p: dict[str, str]) -> str:
    """The scope in the path: azure-mgmt-resource-locks 1.0.0's `list_by_scope` percent-encodes it
    whole (`/%2Fsubscriptions%2F...`); UNVERIFIED whether ARM decodes that, so we do."""
    return "/" + unquote(p["scope"]).lstrip("/")


def list_locks(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The locks at, above and below the scope (see the module's UNVERIFIED note)."""
    scope = _scope(p)
    return Response(200, {"value": [lock_json(x) for x in ctx.state.locks if _related(x.scope, scope)]})


def get_lock(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """One lock by its scope and name; 404 LockNotFound otherwise."""
    scope, name = _scope(p).lower().rstrip("/"), p["name"].lower()
    for lock in ctx.state.locks:
        if lock.scope.lower().rstrip("/") == scope and lock.name.lower() == name:
            return Response(200, lock_json(lock))
    raise HttpError(arm_error(404, "LockNotFound", f"The lock '{p['name']}' could not be found."))
