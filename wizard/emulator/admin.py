"""The admin endpoints on the ARM port (`/_emulator/*`, behind the emulator's token) and their reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from wizard.emulator.arm.resource_health import availability_state
from wizard.emulator.health import REASONS, Verdict
from wizard.emulator.model import State
from wizard.emulator.wire import Response, arm_error

PREFIX = "/_emulator/"
_FAULT_FIELDS = {"latencyMs", "faultRate", "restrictions", "faultKinds", "faultLimit"}


class AdminApi(Protocol):
    """The emulator's inspection and control methods, which the admin endpoints expose over HTTP."""

    def health(self) -> dict[str, Any]:
        """The emulator's own verdict per cluster."""
        ...

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log entries with seq > since."""
        ...

    def faults(self) -> dict[str, Any]:
        """The current fault settings."""
        ...

    def set_faults(
        self,
        latency_ms: int | None = None,
        fault_rate: float | None = None,
        restrictions: list[str] | set[str] | tuple[str, ...] | None = None,
        *,
        fault_kinds: list[str] | tuple[str, ...] | None = None,
        fault_limit: int | None = -1,
    ) -> dict[str, Any]:
        """Change latency, faults and operator restrictions live."""
        ...

    def locks(self) -> list[dict[str, str]]:
        """The management locks in force."""
        ...

    def set_graph_quota(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Change Resource Graph's quota window or throttle its next queries (ValueError if bad)."""
        ...

    def remove_lock(self, name_or_scope: str) -> list[dict[str, str]]:
        """Remove the lock(s) with this name, scope or id."""
        ...

    def live_faults(self) -> dict[str, Any]:
        """The trainer's live faults and the changes applied."""
        ...

    def apply_live_fault(self, name: str, cluster_id: str | None = None) -> dict[str, Any]:
        """Break one cluster live (ValueError if the fault does not fit)."""
        ...

    def undo_live_fault(self, change_id: int) -> dict[str, Any]:
        """Take back one live fault (ValueError if there is no such change left)."""
        ...


def health_report(state: State, verdicts: dict[str, Verdict]) -> dict[str, Any]:
    """Per cluster: status, provisioningState, whether it came up, Resource Health's state, whether it
    can use its key, and why not in words."""
    return {
        "clusters": {
            c.id: {
                "status": c.status,
                "provisioningState": c.provisioning_state,
                "cameUp": c.came_up,
                "availabilityState": availability_state(c),
                "canUseKey": verdicts[c.id].can_use_key,
                "reasons": [{"code": r, "message": REASONS[r]} for r in verdicts[c.id].reasons],
            }
            for c in state.clusters
        }
    }


def lock_rows(state: State) -> list[dict[str, str]]:
    """The management locks in force, one row each."""
    return [
        {"name": lock.name, "scope": lock.scope, "level": lock.level, "id": lock.id} for lock in state.locks
    ]


def _get_health(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    return Response(200, api.health())


def _get_requests(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    try:
        since = int(query.get("since", "0"))
    except ValueError:
        return arm_error(400, "BadRequest", "since must be an integer")
    return Response(200, {"requests": api.requests(since)})


def _get_faults(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    return Response(200, api.faults())


def _post_faults(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(data) - _FAULT_FIELDS
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        restrictions = data.get("restrictions")
        if restrictions is not None and not isinstance(restrictions, list):
            raise ValueError("restrictions must be a list")
        return Response(
            200,
            api.set_faults(
                data.get("latencyMs"),
                data.get("faultRate"),
                restrictions,
                fault_kinds=data.get("faultKinds"),
                fault_limit=data.get("faultLimit", -1),
            ),
        )
    except ValueError as exc:
        return arm_error(400, "BadRequest", str(exc))


def _get_locks(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    return Response(200, {"locks": api.locks()})


def _post_locks(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        return arm_error(400, "BadRequest", str(exc))
    if not isinstance(data, dict) or set(data) != {"remove"} or not isinstance(data["remove"], str):
        return arm_error(400, "BadRequest", 'the body must be {"remove": "<lock name, scope or id>"}')
    try:
        return Response(200, {"locks": api.remove_lock(data["remove"])})
    except KeyError as exc:
        return arm_error(404, "LockNotFound", str(exc.args[0]))


def _post_graph_quota(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return Response(200, api.set_graph_quota(data))
    except ValueError as exc:
        return arm_error(400, "BadRequest", str(exc))


def _get_live_faults(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    return Response(200, api.live_faults())


def _post_live_faults(api: AdminApi, query: dict[str, str], body: bytes) -> Response:
    """`{"apply": NAME, "cluster": ID?}` breaks a cluster; `{"undo": CHANGE_ID}` takes a change back."""
    try:
        data = json.loads(body or b"{}")
        if (
            isinstance(data, dict)
            and set(data) <= {"apply", "cluster"}
            and isinstance(data.get("apply"), str)
        ):
            cluster = data.get("cluster")
            if cluster is not None and not isinstance(cluster, str):
                raise ValueError("cluster must be a resource ID")
            return Response(200, api.apply_live_fault(data["apply"], cluster))
        if isinstance(data, dict) and set(data) == {"undo"} and type(data["undo"]) is int:
            return Response(200, api.undo_live_fault(data["undo"]))
        raise ValueError('the body must be {"apply": "<fault>", "cluster": "<id>"} or {"undo": <change id>}')
    except ValueError as exc:
        return arm_error(400, "BadRequest", str(exc))


ADMIN_ROUTES: dict[tuple[str, str], Callable[[AdminApi, dict[str, str], bytes], Response]] = {
    ("GET", PREFIX + "health"): _get_health,
    ("GET", PREFIX + "requests"): _get_requests,
    ("GET", PREFIX + "faults"): _get_faults,
    ("POST", PREFIX + "faults"): _post_faults,
    ("GET", PREFIX + "locks"): _get_locks,
    ("POST", PREFIX + "locks"): _post_locks,
    ("POST", PREFIX + "resource-graph"): _post_graph_quota,
    ("GET", PREFIX + "live-faults"): _get_live_faults,
    ("POST", PREFIX + "live-faults"): _post_live_faults,
}


def answer(api: AdminApi, method: str, path: str, query: dict[str, str], body: bytes) -> Response:
    """Answer one admin request (these are not logged and never held or faulted)."""
    route = ADMIN_ROUTES.get((method, path))
    if route is None:
        return arm_error(404, "NotFound", f"No admin route {method} {path}.")
    return route(api, query, body)
