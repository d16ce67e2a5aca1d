"""ARM's throttling headers: what budget a request drew on, as every recorded ARM answer tells.

The values are the budgets the 2025+ recordings show (the emulator does not count down; faults
inject 429s). Subscription calls carry `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`
and the newer `-global-` family; tenant calls (Resource Graph) carry tenant reads, Resource Graph's
own user quota (`x-ms-user-quota-resets-after` is hh:mm:ss) and tenant resource requests. Gateway
404s (`x-ms-failure-cause: gateway`) and authentication failures carry none, as recorded.
"""

from __future__ import annotations

_SUBSCRIPTION = {"reads": ("1099", "16499"), "writes": ("799", "11999"), "deletes": ("799", "11999")}


def quota_headers(method: str, path: str, status: int, headers: dict[str, str], kind: str) -> dict[str, str]:
    """The throttling headers of an ARM answer (none for gateway 404s, 401s, routes the emulator lacks)."""
    if status == 401 or kind == "unknown" or headers.get("x-ms-failure-cause") == "gateway":
        return {}
    if kind == "resource-graph":
        return {
            "x-ms-ratelimit-remaining-tenant-reads": "11999",
            "x-ms-ratelimit-remaining-tenant-resource-requests": "14",
            "x-ms-user-quota-remaining": "14",
            "x-ms-user-quota-resets-after": "00:00:05",
        }
    if not path.lower().startswith("/subscriptions/"):
        return {"x-ms-ratelimit-remaining-tenant-reads": "11999"} if method in ("GET", "HEAD") else {}
    budget = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method, "writes")
    remaining, global_remaining = _SUBSCRIPTION[budget]
    return {
        f"x-ms-ratelimit-remaining-subscription-{budget}": remaining,
        f"x-ms-ratelimit-remaining-subscription-global-{budget}": global_remaining,
    }
