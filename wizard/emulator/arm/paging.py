"""ARM list paging by `nextLink`: a page of rows, then a link that carries the query and a `$skiptoken`.

Recorded for deleted vaults (keyvault-mgmt/deletedvaults_list_paged.json) and key versions; the
other lists page the same way here. UNVERIFIED: each list's page size in Azure (the role-assignment,
role-definition and vault lists were recorded with one page only); a recording of a list longer
than one page would settle it. An estate's `paging:` sets them (tests cross a page with a few items).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from wizard.emulator.wire import Context, HttpError, Request, arm_error

T = TypeVar("T")

DEFAULT_PAGES = {"role_assignments": 1000, "role_definitions": 1000, "vaults": 100}
"""Items per page of each list when the estate does not say (UNVERIFIED; the SDK sends no `$top`)."""


def page_size(ctx: Context, name: str, default: int | None = None) -> int:
    """Items per page of one list: the estate's `paging:`, else the default."""
    return ctx.state.page_sizes.get(name) or default or DEFAULT_PAGES[name]


def skip_of(req: Request) -> int:
    """Where the page starts: the `$skiptoken` a nextLink of ours carries (400 for one we did not make)."""
    token = req.query.get("$skiptoken") or "0"
    if not token.isdigit():
        raise HttpError(arm_error(400, "InvalidSkipToken", "The $skiptoken is not valid."))
    return int(token)


def paged(
    ctx: Context, req: Request, rows: Sequence[T], name: str, render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of the list `name` (only its rows rendered), with a nextLink while rows remain."""
    size = page_size(ctx, name)
    start = skip_of(req)
    page = rows[start : start + size]
    body: dict[str, Any] = {"value": [render(row) for row in page]}
    if start + size < len(rows):
        query = {k: v for k, v in req.query.items() if k != "$skiptoken"}
        query["$skiptoken"] = str(start + size)
        body["nextLink"] = f"{ctx.arm_endpoint}{req.path}?{urlencode(query)}"
    return body
