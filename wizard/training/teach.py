"""Teach mode: walk the decision tree one node at a time, and explain each node from the data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.domain.catalog import load_catalog, render
from wizard.domain.models import CheckResult, CheckStatus
from wizard.engine.facts import Facts
from wizard.engine.tree import CheckSpec, load_tree

PREDICTABLE = (CheckStatus.PASS, CheckStatus.FAIL)
"""What a trainee predicts: a check that passes or fails (unknown and skipped ones are only shown)."""


@dataclass(frozen=True)
class Lesson:
    """One node explained: the question, what was read, the `az` command and the seed passage."""

    check_id: str
    title: str
    question: str
    status: CheckStatus
    detail: str
    reads: tuple[str, ...]
    evidence: dict[str, Any]
    api: str
    az: str
    passage: str

    @property
    def predictable(self) -> bool:
        """Only a check that answered pass or fail is asked about."""
        return self.status in PREDICTABLE


def az_values(facts: Facts) -> dict[str, Any]:
    """What fills the tree's `az` placeholders: the ids the diagnosis read."""
    values = facts.template_values()
    if facts.vault_id:
        values["vault_id"] = facts.vault_id
    if facts.access_principal:
        values["principal_id"] = facts.access_principal
    return values


def lessons(results: dict[str, CheckResult], facts: Facts) -> list[Lesson]:
    """Every node of the tree, in the tree's order, with what the diagnosis answered for it."""
    passages = load_catalog().passages
    values = az_values(facts)
    out = []
    for spec in load_tree():
        result = results.get(spec.id) or CheckResult(spec.id, CheckStatus.SKIPPED)
        out.append(_lesson(spec, result, values, passages.get(spec.passage, "")))
    return out


def _lesson(spec: CheckSpec, result: CheckResult, values: dict[str, Any], passage: str) -> Lesson:
    return Lesson(
        check_id=spec.id,
        title=spec.title,
        question=spec.question,
        status=result.status,
        detail=result.detail,
        reads=result.sources,
        evidence=dict(result.evidence),
        api=spec.api,
        az=render(spec.az, values) if spec.az else "",
        passage=passage,
    )
