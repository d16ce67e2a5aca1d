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
    """What one write came to: the one word the audit log, the CLI and the screen use (README: Audit log)."""

    OK = "ok"  # sent and taken: Azure said so, or reading back shows what this run created
    ALREADY_DONE = "already-done"  # the effect was there already: nothing sent, or a 409 for another's
    ERROR = "error"  # sent and refused: the target is unchanged
    UNKNOWN = "unknown"  # sent, the answer lost: reading back cannot tell whether it was taken
    NOT_SENT = "not-sent"  # interrupted after the intent, before the request left


class Found(StrEnum):
    """What a later run found when it read the target of a write whose outcome was unknown."""

    APPLIED = "applied"
    NOT_APPLIED = "not-applied"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Resolution:
    """The target of an earlier write, read again: is its effect there, and the state read; the
    write's own `undo` (a temporary change's way back) and `undoes` (the intent it takes back)."""

    found: Found
    message: str
    state: dict[str, Any] = field(default_factory=dict)
    undo: dict[str, Any] | None = None
    undoes: str | None = None


class OutcomeStatus(StrEnum):
    """What applying, declining or waiting for one step came to, as the session records it."""

    OK = "ok"
    ALREADY_DONE = "already-done"
    ERROR = "error"
    UNKNOWN = "unknown"
    DECLINED = "declined"
    SKIPPED = "skipped"  # left out of this fix by the operator (nothing sent); it can be taken back
    REFUSED = "refused"
    ESCALATE = "escalate"
    READY = "ready"
    UNCONFIRMED = "unconfirmed"
    """ARM says Ready, but nothing (no Resource Health) could prove the key was revalidated."""
    CLUSTER_STOPPED = "cluster-stopped"
    """The cluster is Stopped: it is not waited on; it must be started."""
    BLOCKED = "blocked"
    """Not waited (or stopped waiting): a critical cause is still there, or a critical question open."""
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class VerificationStatus(StrEnum):
    """Did the change take, judged by diagnosing again: verified, deferred (not visible yet), failed."""

    VERIFIED = "verified"
    DEFERRED = "deferred"
    FAILED = "failed"


@dataclass(frozen=True)
class WriteResult:
    """What one write did: ok or already-done, with before/after and audit ids.

    `identity` is the identity a create-identity write made, read back, for the steps after it."""

    remediation: str
    target: str
    status: WriteStatus
    message: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    audit_ids: tuple[str, ...] = ()
    identity: IdentityFacts | None = None
