"""What a check answers: a status, a one-line detail, evidence, findings, and the reads behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard.domain.errors import Forbidden, GatewayError
from wizard.domain.models import CheckStatus
from wizard.engine.tree import Read


@dataclass(frozen=True)
class Verdict:
    """One check's conclusion; `findings` are catalogue codes with the values their templates use."""

    status: CheckStatus
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    findings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    needs: str = ""
    reads: list[Read] = field(default_factory=list)


def skip(reason: str) -> Verdict:
    """The check does not apply, or cannot, because of what an earlier answer said."""
    return Verdict(CheckStatus.SKIPPED, reason)


def unknown_from(error: GatewayError, read: Read) -> Verdict:
    """The operator's read failed: the question stays open, with the permission that would answer it."""
    if isinstance(error, Forbidden):
        detail = f"you may not read this: {error}"
        return Verdict(CheckStatus.UNKNOWN, detail, needs=error.needs, reads=[read])
    return Verdict(CheckStatus.UNKNOWN, f"Azure did not answer: {error}", reads=[read])
