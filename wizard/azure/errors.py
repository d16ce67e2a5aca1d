"""Turns azure-core and azure-identity exceptions into our error types, one line each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

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
from wizard.domain.network import FORBIDDEN_BY_CONNECTION, FORBIDDEN_BY_FIREWALL, client_address

T = TypeVar("T")
EMULATOR_TOKEN_ADVICE = (
    "the emulator accepts only the token it was started with: set CMK_WIZARD_EMULATOR_TOKEN to it "
    "(or unset it on both sides)"
)


def _codes_and_message(exc: HttpResponseError) -> tuple[str | None, str | None, str]:
    """(code as shown, inner code alone, message on one line)."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or exc.reason or str(exc).splitlines()[0]
    inner = getattr(error, "innererror", None)
    inner_code = str(inner["code"]) if isinstance(inner, dict) and inner.get("code") else None
    if inner_code:
        code = f"{code}/{inner_code}" if code else inner_code
    return code, inner_code, " ".join(str(message).split())


def _network_needs(inner_code: str | None, address: str | None) -> str | None:
    """What a data-plane call refused by the vault's NETWORK needs: a way in, not a role."""
    if inner_code == FORBIDDEN_BY_FIREWALL:
        seen = f"Azure saw your address {address}; " if address else ""
        return (
            f"network access to the vault's data plane ({seen}it is not in the vault's firewall "
            "rules: come from an allowed network or a private endpoint, or add a temporary IP rule)"
        )
    if inner_code == FORBIDDEN_BY_CONNECTION:
        return "a private endpoint to the vault (its public network access is Disabled)"
    return None


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
        advice = EMULATOR_TOKEN_ADVICE if _from_loopback(exc) else "run `az login` again or check the tenant"
        return AuthFailed(
            f"{action}: authentication failed ({_first_line(exc)}); {advice}", status=exc.status_code
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return Unreachable(f"{action}: cannot reach Azure ({_first_line(exc)})")
    if isinstance(exc, HttpResponseError):
        code, inner, message = _codes_and_message(exc)
        status, rid = exc.status_code, _request_id(exc)
        text = f"{action}: {status} {code or ''} {message}".replace("  ", " ").strip()
        if isinstance(exc, ResourceNotFoundError) or status == 404:
            return NotFound(text, status=status, code=code, request_id=rid, inner_code=inner)
        if isinstance(exc, ResourceExistsError) or status == 409:
            return Conflict(text, status=status, code=code, request_id=rid, inner_code=inner)
        if status == 403:
            address = client_address(message) if inner == FORBIDDEN_BY_FIREWALL else None
            return Forbidden(
                text,
                needs=_network_needs(inner, address) or needs,
                code=code,
                request_id=rid,
                inner_code=inner,
                client_address=address,
            )
        if status in (408, 429, 500, 502, 503, 504):
            text += " (gave up after retries)"
            return Throttled(text, status=status, code=code, request_id=rid, inner_code=inner)
        return GatewayError(text, status=status, code=code, request_id=rid, inner_code=inner)
    return GatewayError(f"{action}: {type(exc).__name__}: {_first_line(exc)}")


def _from_loopback(exc: ClientAuthenticationError) -> bool:
    """Whether the refusal came from our emulator: real Azure is never on 127.0.0.1."""
    request = getattr(getattr(exc, "response", None), "request", None)
    host = urlsplit(str(getattr(request, "url", "") or "")).hostname
    return host in ("127.0.0.1", "localhost")


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
            code, inner, message = _codes_and_message(exc)
            if message.startswith("Operation failed or canceled"):
                message = "(no error message in the operation status)"
            raise OperationFailed(
                f"{action}: Azure accepted it, then the operation {ended}: {code or 'no code'}: {message}",
                status=exc.status_code,
                code=code,
                request_id=_request_id(exc),
                inner_code=inner,
            ) from exc
