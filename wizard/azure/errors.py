"""Turns azure-core and azure-identity exceptions into our error types, one line each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from wizard.domain.errors import (
    AuthFailed,
    Conflict,
    Forbidden,
    GatewayError,
    NotFound,
    OperationFailed,
    Throttled,
    Unreachable,
)

T = TypeVar("T")


def _code_and_message(exc: HttpResponseError) -> tuple[str | None, str]:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or exc.reason or str(exc).splitlines()[0]
    inner = getattr(error, "innererror", None)
    if isinstance(inner, dict) and inner.get("code"):
        code = f"{code}/{inner['code']}" if code else str(inner["code"])
    return code, " ".join(str(message).split())


def _request_id(exc: HttpResponseError) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("x-ms-request-id") or headers.get("x-ms-correlation-request-id")
    return str(value) if value else None


def translate(exc: Exception, *, action: str, needs: str) -> GatewayError:
    """Our error for an SDK exception; `needs` names the operator permission for a 403."""
    if isinstance(exc, GatewayError):
        return exc
    if exc.__class__.__name__ == "CredentialUnavailableError":
        return AuthFailed(
            f"{action}: no Azure credential available ({_first_line(exc)}); "
            "run `az login` or use --auth device-code"
        )
    if isinstance(exc, ClientAuthenticationError):
        return AuthFailed(
            f"{action}: authentication failed ({_first_line(exc)}); run `az login` again or check the tenant",
            status=exc.status_code,
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return Unreachable(f"{action}: cannot reach Azure ({_first_line(exc)})")
    if isinstance(exc, HttpResponseError):
        code, message = _code_and_message(exc)
        status, rid = exc.status_code, _request_id(exc)
        text = f"{action}: {status} {code or ''} {message}".replace("  ", " ").strip()
        if isinstance(exc, ResourceNotFoundError) or status == 404:
            return NotFound(text, status=status, code=code, request_id=rid)
        if isinstance(exc, ResourceExistsError) or status == 409:
            return Conflict(text, status=status, code=code, request_id=rid)
        if status == 403:
            return Forbidden(text, needs=needs, code=code, request_id=rid)
        if status in (408, 429, 500, 502, 503, 504):
            return Throttled(f"{text} (gave up after retries)", status=status, code=code, request_id=rid)
        return GatewayError(text, status=status, code=code, request_id=rid)
    return GatewayError(f"{action}: {type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def translated(action: str, needs: str) -> Iterator[None]:
    """Run an SDK call so that anything it raises leaves as one of our errors."""
    try:
        yield
    except GatewayError:
        raise
    except Exception as exc:
        raise translate(exc, action=action, needs=needs) from exc


def call(action: str, needs: str, fn: Callable[[], T]) -> T:
    """Call `fn` with SDK errors translated."""
    with translated(action, needs):
        return fn()


def finish(action: str, needs: str, start: Callable[[], Any]) -> Any:
    """Start a long-running operation and wait for its end, SDK errors translated. An operation that
    Azure accepted and that then ended Failed or Canceled raises OperationFailed with the
    operation's own error (the SDK reports it as an HttpResponseError on a 200 poll)."""
    with translated(action, needs):
        poller = start()
        try:
            return poller.result()
        except HttpResponseError as exc:
            ended = str(poller.status() or "").lower()
            if ended not in ("failed", "canceled", "cancelled"):
                raise
            code, message = _code_and_message(exc)
            if message.startswith("Operation failed or canceled"):
                message = "(no error message in the operation status)"
            raise OperationFailed(
                f"{action}: Azure accepted it, then the operation {ended}: {code or 'no code'}: {message}",
                status=exc.status_code,
                code=code,
                request_id=_request_id(exc),
            ) from exc
