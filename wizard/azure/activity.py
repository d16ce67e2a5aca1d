"""The Activity Log reader: a resource group's administrative events, as our ActivityEvent values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wizard.azure.errors import call
from wizard.azure.gateway import AzureGateway, text
from wizard.domain.forensics import NEEDS_ACTIVITY_READ, ActivityEvent


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(localizable: Any) -> str:
    """A LocalizableString's invariant value (the operation or status name, not its translation)."""
    return text(getattr(localizable, "value", None) or getattr(localizable, "localized_value", None))


def _event(data: Any) -> ActivityEvent:
    moment = data.event_timestamp or datetime.fromtimestamp(0, UTC)
    return ActivityEvent(
        time=moment if moment.tzinfo else moment.replace(tzinfo=UTC),
        operation=_value(data.operation_name),
        status=_value(data.status),
        caller=data.caller or "",
        correlation_id=data.correlation_id or "",
        resource_id=data.resource_id or "",
        sub_status=_value(data.sub_status),
    )


class ActivityGateway:
    """The ActivityReader port over `activity_logs.list` (resource-group filter, as documented)."""

    SELECT = "eventTimestamp,operationName,status,subStatus,caller,correlationId,resourceId"

    def __init__(self, gateway: AzureGateway) -> None:
        self.factory = gateway.factory

    def list_activity(
        self, subscription_id: str, resource_group: str, since: datetime, until: datetime
    ) -> list[ActivityEvent]:
        """The group's administrative events in the window (paged by the SDK)."""
        client = self.factory.monitor(subscription_id)
        group = resource_group.replace("'", "")
        end = until + timedelta(seconds=1)  # the filter takes whole seconds: round the end up
        query = (
            f"eventTimestamp ge '{_stamp(since)}' and eventTimestamp le '{_stamp(end)}' "
            f"and eventChannels eq 'Admin, Operation' and resourceGroupName eq '{group}'"
        )
        events = call(
            f"read the Activity Log of resource group {resource_group}",
            f"{NEEDS_ACTIVITY_READ} of subscription {subscription_id}",
            lambda: list(client.activity_logs.list(filter=query, select=self.SELECT)),
        )
        return [_event(e) for e in events]
