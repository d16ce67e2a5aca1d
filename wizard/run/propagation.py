"""A grant takes time to be honoured: the attach right after it may fail while it propagates.

Role assignments and access policies take minutes to take effect (Key Vault's RBAC guide: up to
10 minutes), and the service validates the key with the identity when the cluster is pointed at it
("Couldn't get access to the key..."). So an attach that fails that way right after this session
granted the identity access is tried again with backoff, within a stated bound, the operator told
why; every attempt goes through the audited writer (its own intent and result records).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from wizard.domain.actions import AttachIdentityAndKey
from wizard.domain.errors import GatewayError
from wizard.domain.results import WriteResult
from wizard.engine.steps import Carry, Step

KEY_ACCESS_CODE = "KeyEncryptionKeyAccessFailed"
KEY_ACCESS_TEXT = "couldn't get access to the key"
LIVE_BOUND_SECONDS = 600.0
"""Key Vault's RBAC guide: a role assignment can take up to 10 minutes to be applied."""


@dataclass(frozen=True)
class GrantRetry:
    """How long to keep trying an attach that a fresh grant may not yet allow, and how often."""

    bound_seconds: float = LIVE_BOUND_SECONDS
    first_delay: float = 15.0
    max_delay: float = 120.0

    def delays(self) -> list[float]:
        """The waits between attempts: doubling from `first_delay` up to `max_delay`, all of them
        within `bound_seconds` together."""
        waits: list[float] = []
        delay, total = self.first_delay, 0.0
        while delay > 0 and total + delay <= self.bound_seconds + 1e-9:
            waits.append(delay)
            total += delay
            delay = min(delay * 2, self.max_delay)
        return waits


def key_access_refused(exc: BaseException) -> bool:
    """The service could not use the key with the identity (the documented key-access message)."""
    if not isinstance(exc, GatewayError):
        return False
    return KEY_ACCESS_CODE.lower() in str(exc.code or "").lower() or KEY_ACCESS_TEXT in str(exc).lower()


def awaits_grant(step: Step, carry: Carry) -> bool:
    """An attach for an identity this session granted access to (a grant that may be propagating)."""
    action = step.action
    if not isinstance(action, AttachIdentityAndKey) or not carry.granted_principals:
        return False
    return action.principal_id is None or action.principal_id.lower() in carry.granted_principals


def write_while_grant_propagates(
    write: Callable[[], WriteResult],
    retry: GrantRetry,
    *,
    tell: Callable[[str], None],
    cancel: threading.Event | None = None,
) -> WriteResult:
    """`write()`, and again after each backoff wait while it fails with the key-access message;
    the last failure is raised once the bound is spent (or on cancel)."""
    waits = retry.delays()
    pause = cancel or threading.Event()
    attempt = 1
    while True:
        try:
            return write()
        except GatewayError as exc:
            if not key_access_refused(exc) or attempt > len(waits) or pause.is_set():
                raise
            delay = waits[attempt - 1]
            tell(
                f"attempt {attempt} of {len(waits) + 1}: the service could not use the key with the "
                "identity yet: the access granted moments ago may still be propagating (Key Vault: "
                f"up to 10 minutes; the wizard keeps trying for {retry.bound_seconds:g} s). Trying "
                f"again in {delay:g} s; each attempt is in the audit log."
            )
            if pause.wait(delay):
                raise
            attempt += 1
