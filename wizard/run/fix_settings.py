"""What a fix session is given: a gateway that can write, and the knobs of the run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from wizard.domain.actions import Action
from wizard.domain.models import LockReading
from wizard.domain.ports import AzureReader, AzureWriter
from wizard.engine.fix_plan import DEFAULT_EXPIRY_DAYS
from wizard.run.audit import AuditLog
from wizard.run.propagation import GrantRetry
from wizard.run.verify import SettleWait
from wizard.run.wait import DOCUMENTED_BOUND_SECONDS


class WritableGateway(AzureReader, Protocol):
    """A reader that can also hand out a guarded, audited writer."""

    read_only: bool
    mode: str

    def writer(self, audit: AuditLog) -> AzureWriter:
        """The writes, each guarded by read-only and audited into `audit`."""
        ...

    def locks_at(self, resource_id: str) -> LockReading:
        """The management locks at and above a resource."""
        ...

    def prepare(self, action: Action) -> None:
        """Ahead of a write, in the background: what it will need first (a data-plane sign-in)."""
        ...


@dataclass(frozen=True)
class FixSettings:
    """Knobs of a fix session; `for_mode` picks polling that suits live Azure or the emulator."""

    expiry_days: int = DEFAULT_EXPIRY_DAYS
    wait_timeout: float = float(DOCUMENTED_BOUND_SECONDS)
    wait_poll: float = 60.0
    wait_max_poll: float = 300.0
    wait_recheck: float = 300.0
    """How often a wait diagnoses again, to stop when a cause is (back) there."""
    max_steps: int = 25
    grant_retry: GrantRetry = field(default_factory=GrantRetry)
    settle: SettleWait = field(default_factory=SettleWait)
    progress_every: float = 30.0

    @classmethod
    def for_mode(cls, mode: str, **overrides: Any) -> FixSettings:
        """Live: poll every 1-5 minutes for up to an hour, retry an attach after a grant for 10
        minutes, read a failing verification again for a minute; emulator: sub-second polls, 60 s,
        10 s of attach retries, 5 s of verification."""
        base = (
            cls()
            if mode == "azure"
            else cls(
                wait_timeout=60.0,
                wait_poll=0.1,
                wait_max_poll=1.0,
                wait_recheck=2.0,
                grant_retry=GrantRetry(bound_seconds=10.0, first_delay=0.1, max_delay=1.0),
                settle=SettleWait(timeout=5.0, first_poll=0.1, max_poll=0.5),
                progress_every=0.0,
            )
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
