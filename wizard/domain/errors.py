"""Our error types: the gateway turns every Azure SDK exception into one of these."""

from __future__ import annotations


class WizardError(Exception):
    """Base of every error the wizard explains to the operator in one line."""


class BadInput(WizardError):
    """The operator gave us something malformed: a resource ID, a URL, a file, a flag."""


class GatewayError(WizardError):
    """A call to Azure did not give an answer we can use.

    `code` is Azure's error code as shown (outer/inner, e.g. `Forbidden/ForbiddenByFirewall`);
    `inner_code` the inner error's code alone, which is what tells a network refusal from a
    missing permission."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        inner_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.inner_code = inner_code


class NotFound(GatewayError):
    """The resource does not exist (HTTP 404)."""


class Forbidden(GatewayError):
    """The OPERATOR may not make this call; `needs` names what would let them.

    `client_address` is the address Azure saw, when a vault firewall refusal names it."""

    def __init__(
        self,
        message: str,
        *,
        needs: str = "",
        status: int | None = 403,
        code: str | None = None,
        request_id: str | None = None,
        inner_code: str | None = None,
        client_address: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id, inner_code=inner_code)
        self.needs = needs
        self.client_address = client_address


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


class AuditWriteFailed(WizardError):
    """The audit log could not take a record whole; `sent` says whether the Azure write had been made."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent


class WriteUnknown(WizardError):
    """A write was sent but its answer was lost, and reading back cannot tell whether it was taken."""


class ClusterBusy(BadInput):
    """Another fix holds this cluster's lock: exit 2, and run again when the other is done."""
