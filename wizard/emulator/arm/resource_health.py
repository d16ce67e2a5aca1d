"""Resource Health (`Microsoft.ResourceHealth/availabilityStatuses/current`) for clusters, from the verdict.

Shape: the 2025-05-01 spec examples (AvailabilityStatus_GetByResource, ...ListBySubscriptionId),
including the spec's own spelling `occuredTime`. UNVERIFIED: the titles, summaries and reasonType
Resource Health shows for a mongoCluster that lost its key, that a cluster that never came up is
`Unknown`, and that a stopped one is `Unavailable` / `Customer Initiated` (a GET of
availabilityStatuses/current for such clusters would settle them).
"""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.clusters import find_cluster
from wizard.emulator.model import Cluster
from wizard.emulator.wire import Context, Request, Response, iso

_STATES: dict[str, dict[str, str]] = {
    "Available": {
        "title": "Available",
        "summary": "There aren't any known Azure platform problems affecting this resource.",
        "detailedStatus": "The cluster can use its customer-managed key.",
    },
    "Unavailable": {
        "title": "Unavailable",
        "summary": "The cluster can't access its customer-managed key, so it refuses connections.",
        "detailedStatus": "Restore the cluster identity's access to the key; the cluster revalidates "
        "the key periodically and becomes available again.",
        "reasonType": "Unplanned",
        "category": "Unplanned",
    },
    "Stopped": {
        "title": "Unavailable",
        "summary": "The cluster is stopped.",
        "detailedStatus": "The cluster was stopped by its operator; start it to use it again.",
        "reasonType": "Customer Initiated",
        "category": "Planned",
    },
    "Unknown": {
        "title": "Unknown",
        "summary": "We are currently unable to determine the health of this resource.",
        "detailedStatus": "The cluster did not finish provisioning.",
    },
}


def availability_state(cluster: Cluster) -> str:
    """Available, Unavailable (its key is out of reach, or it is stopped) or Unknown (it never came up)."""
    if cluster.never_came_up:
        return "Unknown"
    return "Unavailable" if cluster.inaccessible or cluster.stopped else "Available"


def availability_json(cluster: Cluster, now: float) -> dict[str, Any]:
    """The `current` availability status; occuredTime is when the state last changed, reportedTime now."""
    state = availability_state(cluster)
    words = _STATES["Stopped" if cluster.stopped else state]
    return {
        "id": f"{cluster.id}/providers/Microsoft.ResourceHealth/availabilityStatuses/current",
        "name": "current",
        "type": "Microsoft.ResourceHealth/AvailabilityStatuses",
        "location": cluster.location,
        "properties": {
            "availabilityState": state,
            **words,
            "reasonChronicity": "Persistent",
            "occuredTime": iso(cluster.availability_since),
            "reportedTime": iso(now),
        },
    }


def get_availability(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET {clusterId}/providers/Microsoft.ResourceHealth/availabilityStatuses/current (404 as ARM's)."""
    return Response(200, availability_json(find_cluster(ctx, p), ctx.now))
