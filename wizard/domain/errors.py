"""Our error types: the gateway turns every Azure SDK exception into one of these."""

from __future__ import annotations


class WizardError(Exception):
    """Base of every error the wizard explains to the operator in one line."""


class BadInput(WizardError):
    """The operator gave us something malformed: a resource ID, a URL, a file, a flag."""


class GatewayError(WizardError):
    """A call to Azure did not give an answer we can use."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class NotFound(GatewayError):
    """The resource does not exist (HTTP 404)."""


class Forbidden(GatewayError):
    """The OPERATOR may not make this call; `needs` names what would let them."""

    def __init__(
        self,
        message: str,
        *,
        needs: str = "",
        status: int | None = 403,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.needs = needs


class Conflict(GatewayError):
    """The write collided with existing state (HTTP 409), e.g. the assignment already exists."""


class OperationFailed(GatewayError):
    """Azure accepted a write (202) and its long-running operation then ended Failed or Canceled;
    the message carries the operation's own error code and message."""


class Throttled(GatewayError):
    """Azure kept answering 429/503 after the retry budget was spent."""


class Unreachable(GatewayError):
    """No connection could be made (DNS, TCP, TLS, timeout)."""


class AuthFailed(GatewayError):
    """No token could be had, or Azure rejected it (HTTP 401)."""


class ReadOnlyViolation(WizardError):
    """A write was attempted through a gateway opened read-only."""


class WriteRefused(WizardError):
    """The wizard will not make this write (e.g. deleting a cluster that is not Failed)."""
