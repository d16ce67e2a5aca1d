"""The words a fix is recorded in: step kinds, confirmations, write and outcome statuses.

Each value is the string the JSON, the audit log and the reports have always carried, so a
StrEnum member prints, compares and serialises exactly as that string does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wizard.domain.models import IdentityFacts


class StepKind(StrEnum):
    """`write` changes Azure; `wait` only reads; `escalate` and `deferred` do nothing."""

    WRITE = "write"
    WAIT = "wait"
    ESCALATE = "escalate"
    DEFERRED = "deferred"


class ConfirmKind(StrEnum):
    """What the operator must give before a step runs: nothing, a yes, or the resource's name."""

    NONE = "none"
    YES = "yes"
    TYPED = "typed"


class WriteStatus(StrEnum):
    """What one write came to, in the audit log and the gateway's answer.

    `unknown`: the write failed, but the after-state shows the change (or could not be read), so
    Azure may have taken it before the answer was lost."""

    OK = "ok"
    ALREADY_DONE = "already-done"
    ERROR = "error"
    UNKNOWN = "unknown"


class OutcomeStatus(StrEnum):
    """What applying, declining or waiting for one step came to, as the session records it."""

    OK = "ok"
    ALREADY_DONE = "already-done"
    ERROR = "error"
    DECLINED = "declined"
    REFUSED = "refused"
    ESCALATE = "escalate"
    READY = "ready"
    UNCONFIRMED = "unconfirmed"
    """ARM says Ready, but nothing (no Resource Health) could prove the key was revalidated."""
    CLUSTER_STOPPED = "cluster-stopped"
    """The cluster is Stopped: it is not waited on; it must be started."""
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class VerificationStatus(StrEnum):
    """Did the change take, judged by diagnosing again: verified, deferred (not visible yet), failed."""

    VERIFIED = "verified"
    DEFERRED = "deferred"
    FAILED = "failed"


@dataclass(frozen=True)
class WriteResult:
    """What one write did: ok or already-done (nothing sent), with before/after and audit ids.

    `identity` is the identity a create-identity write made, read back, for the steps after it."""

    remediation: str
    target: str
    status: WriteStatus
    message: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    audit_ids: tuple[str, ...] = ()
    identity: IdentityFacts | None = None
