"""The estate's `history:`: Activity Log events that happened before the emulator started.

What a trainer writes there is what `cmk-wizard diagnose --what-changed` finds: who deleted the
role assignment, when the vault was deleted, which update of the cluster failed. Every write the
emulator answers is appended to the same log while it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from wizard.emulator.estate_fields import GUID, Fields, field_items, shown
from wizard.emulator.model import ActivityRecord

_OPERATION = re.compile(r"^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+(/action)?$")
STATUSES = ("Succeeded", "Failed", "Started", "Accepted")
_ASSIGNMENTS = "microsoft.authorization/roleassignments/"


def history(
    top: Fields, now: float, scope: Callable[[Fields, str], str], guid: Callable[..., str]
) -> list[ActivityRecord]:
    """`history[]` entries: operation, resource (a scope in the roleAssignments notation, or an ARM
    id), time, caller, status and correlationId; a role-assignment operation on a vault or key scope
    is logged on an assignment under it, as Azure logs it."""
    records = []
    for index, entry in enumerate(field_items(top, "history")):
        operation = entry.text("operation")
        if not _OPERATION.match(operation):
            raise entry.fail(
                "operation", f"{shown(operation)} is not an operation like Microsoft.KeyVault/vaults/write"
            )
        resource = scope(entry, "resource")
        if (
            operation.lower().startswith(_ASSIGNMENTS)
            and "/providers/microsoft.authorization/" not in resource.lower()
        ):
            resource += f"/providers/Microsoft.Authorization/roleAssignments/{guid('history', str(index))}"
        when = entry.when("time", now)
        correlation = entry.guid("correlationId") or guid("correlation", str(index))
        if not GUID.match(correlation):
            raise entry.fail("correlationId", "not a GUID")
        records.append(
            ActivityRecord(
                float(now if when is None else when),
                operation,
                resource,
                entry.text("status", "Succeeded", choices=STATUSES),
                entry.text("caller", "someone@contoso.com"),
                correlation,
            )
        )
        entry.done()
    return sorted(records, key=lambda r: r.time)
