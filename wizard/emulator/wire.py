"""Requests, responses and error bodies shared by the ARM and Key Vault routes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wizard.emulator.model import State


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request (headers lower-cased)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    host: str

    def json(self) -> Any:
        """The JSON body (an empty body is an empty object); malformed JSON is a 400."""
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError(
                arm_error(
                    400,
                    "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: {exc}",
                )
            ) from None

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        body = self.json()
        if not isinstance(body, dict):
            raise HttpError(
                arm_error(400, "InvalidRequestContent", "The request content must be a JSON object.")
            )
        return body


@dataclass
class Response:
    """What to send back: a status, a JSON body (None for none) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised by a route to answer with an error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """An ARM error body: {"error": {"code", "message"}}."""
    return Response(status, {"error": {"code": code, "message": message}}, dict(headers or {}))


def kv_error(
    status: int, code: str, message: str, inner: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A Key Vault data-plane error body, with an innererror code when Key Vault gives one."""
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return Response(status, {"error": error}, dict(headers or {}))


def iso(epoch: float | None) -> str | None:
    """An ISO 8601 UTC timestamp as ARM writes them."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def spaced(epoch: float, zone: str = " +0000") -> str:
    """`YYYY-MM-DD hh:mm:ss +0000`, the format operation bodies use (recorded, not ISO 8601)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S") + zone


@dataclass
class Operation:
    """A long-running operation: InProgress until it is done (see `arm.lro`), then Succeeded or Failed.

    `snapshot` is the resource as the accepting answer showed it (what a late Location read returns).
    """

    op_id: str
    kind: str
    resource_id: str
    started: float = 0.0
    polls: int = 0
    error: dict[str, str] | None = None
    snapshot: dict[str, Any] | None = None
    done: bool = False


@dataclass
class Context:
    """What a route sees: the state (lock held), the clock, endpoints and the operation registry."""

    state: State
    now: float
    arm_endpoint: str
    vault_endpoint: Callable[[str], str]
    operations: dict[str, Operation]
    new_guid: Callable[[], str]
    new_token: Callable[[], str]
    open_vault: Callable[[str], None] = lambda name: None
    caller: str = "operator@emulator.local"
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Context, Request, dict[str, str]], Response]
