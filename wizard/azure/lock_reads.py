"""Management locks at and above a resource, read before a fix so the preview can say which
step a lock will refuse (ARM refuses it with 409 ScopeLocked; the wizard never changes a lock)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wizard.azure.clients import ClientFactory
from wizard.azure.errors import translated
from wizard.domain.errors import Forbidden, NotFound
from wizard.domain.models import LockReading, ManagementLock

NEEDS_LOCK_READ = "Microsoft.Authorization/locks/read (Reader)"


def _levels(resource_id: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(scope, how to read it, the path parts) for the subscription, the group and the resource."""
    parts = resource_id.strip("/").split("/")
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        return []
    levels = [("/" + "/".join(parts[:2]), "subscription", tuple(parts[:2]))]
    if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
        levels.append(("/" + "/".join(parts[:4]), "group", tuple(parts[:4])))
    if len(parts) >= 8 and parts[4].lower() == "providers":
        levels.append(("/" + "/".join(parts[:8]), "resource", tuple(parts[:8])))
    return levels


def _read(client: Any, how: str, parts: tuple[str, ...]) -> list[Any]:
    locks = client.management_locks
    if how == "subscription":
        return list(locks.list_at_subscription_level())
    if how == "group":
        return list(locks.list_at_resource_group_level(parts[3]))
    return list(
        locks.list_at_resource_level(
            resource_group_name=parts[3],
            resource_provider_namespace=parts[5],
            parent_resource_path="",
            resource_type=parts[6],
            resource_name=parts[7],
        )
    )


def _level(factory: ClientFactory, scope: str, how: str, parts: tuple[str, ...]) -> list[Any] | None:
    """The locks ARM lists at one level; [] where there is nothing yet, None where one may not read."""
    try:
        with translated(f"read the locks on {scope}", NEEDS_LOCK_READ):
            return _read(factory.locks(parts[1]), how, parts)
    except NotFound:
        return []  # not there yet (a vault to recover, an identity to create): no lock on it
    except Forbidden:
        return None


def read_locks(factory: ClientFactory, resource_id: str) -> LockReading:
    """Every lock at or above `resource_id`: each level read on its own, side by side (a level one
    may not read is named in `unread`), since what ARM lists at a level is not settled (UNVERIFIED:
    whether a resource's list includes its group's locks), and only the locks covering the resource
    kept."""
    levels = _levels(resource_id)
    with ThreadPoolExecutor(max_workers=max(len(levels), 1), thread_name_prefix="cmk-locks") as pool:
        answers = list(pool.map(lambda level: _level(factory, *level), levels))
    found: dict[str, ManagementLock] = {}
    unread: list[str] = []
    for (scope, _, _), rows in zip(levels, answers, strict=True):
        if rows is None:
            unread.append(scope)
            continue
        for row in rows:
            level = getattr(row.level, "value", row.level)
            lock = ManagementLock(id=str(row.id or ""), name=str(row.name or ""), level=str(level or ""))
            if lock.id and lock.covers(resource_id):
                found.setdefault(lock.id.lower(), lock)
    return LockReading(tuple(found.values()), tuple(unread))
