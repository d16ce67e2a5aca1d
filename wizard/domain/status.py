"""Where a check stands and how grave a finding is: what the checklist draws, in a module light enough
for the TUI's first frame (the models' many dataclasses load with the first diagnosis)."""

from __future__ import annotations

from enum import StrEnum


class CheckStatus(StrEnum):
    """Where a check stands; `unknown` means the operator could not look."""

    PENDING = "pending"
    RUNNING = "running"
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"

    @property
    def done(self) -> bool:
        """Pending and running checks have not answered yet."""
        return self not in (CheckStatus.PENDING, CheckStatus.RUNNING)


class Severity(StrEnum):
    """`critical` explains Inaccessible or failed provisioning."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
