"""Resource groups: create the deleted group a soft-deleted vault must be recovered into."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wizard.azure.errors import call
from wizard.domain.actions import RecreateResourceGroup
from wizard.domain.errors import NotFound
from wizard.domain.results import WriteResult

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

NEEDS_GROUP_WRITE = "Microsoft.Resources/subscriptions/resourceGroups/write (Contributor on the subscription)"
API = "2025-04-01"


def recreate_resource_group(writer: GatewayWriter, a: RecreateResourceGroup) -> WriteResult:
    """PUT the group (empty, in its region); one that exists already is left as it is."""
    client = writer.factory.resources(a.subscription_id)

    def state() -> dict[str, Any]:
        try:
            group = call(
                f"read resource group {a.name}",
                "Microsoft.Resources/subscriptions/resourceGroups/read (Reader)",
                lambda: client.resource_groups.get(a.name),
            )
        except NotFound:
            return {"resourceGroup": "deleted"}
        return {"resourceGroup": "present", "location": str(group.location or "")}

    def act(_: dict[str, Any]) -> Any:
        from azure.mgmt.resource.resources.models import ResourceGroup

        return call(
            f"create resource group {a.name}",
            NEEDS_GROUP_WRITE,
            lambda: client.resource_groups.create_or_update(a.name, ResourceGroup(location=a.location)),
        )

    return writer.audited(
        a.remediation,
        a.group_id,
        {"method": "PUT", "url": f"{a.group_id}?api-version={API}", "body": {"location": a.location}},
        before=state,
        done=lambda b: "the resource group exists" if b.get("resourceGroup") == "present" else None,
        act=act,
        after=state,
    )
