"""The checks by tree id: each declares the reads it needs, and the gate waits for them first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wizard.engine.checks.gate import CheckContext, gate
from wizard.engine.checks.verdict import Verdict
from wizard.engine.tree import ReadKind

CheckBody = Callable[[CheckContext], Verdict]


@dataclass(frozen=True)
class Check:
    """One node of the decision tree's logic: its declared reads and what it concludes from them."""

    id: str
    needs: tuple[ReadKind, ...]
    """Every kind of read the check looks at: tree.toml's `reads` for this id, no more, no less."""
    judges: frozenset[ReadKind]
    """Needed kinds whose absence the check reports itself (cluster.load: no such cluster)."""
    optional: frozenset[ReadKind]
    """Needed kinds the check uses once answered but never waits for."""
    body: CheckBody
    after_causes: bool = False
    """Judges a symptom: runs after every other check, with their critical causes in `ctx.causes`."""

    def __call__(self, ctx: CheckContext) -> Verdict:
        """The gate's verdict while a needed read is not usable yet, else the check's own."""
        return gate([k for k in self.needs if k not in self.optional], self.judges, ctx) or self.body(ctx)


CHECKS: dict[str, Check] = {}
"""Every registered check, by id (assess runs them in tree order)."""


def check(
    check_id: str,
    *,
    needs: Iterable[str],
    judges: Iterable[str] = (),
    optional: Iterable[str] = (),
    after_causes: bool = False,
) -> Callable[[CheckBody], CheckBody]:
    """Register the decorated function as the logic of tree check `check_id`."""
    kinds = tuple(ReadKind(n) for n in needs)
    judged = frozenset(ReadKind(n) for n in judges)
    used_if_answered = frozenset(ReadKind(n) for n in optional)
    if not (judged | used_if_answered) <= set(kinds):
        raise ValueError(f"{check_id}: judges and optional must be among its needs")

    def register(body: CheckBody) -> CheckBody:
        if check_id in CHECKS:
            raise ValueError(f"{check_id} is registered twice")
        CHECKS[check_id] = Check(check_id, kinds, judged, used_if_answered, body, after_causes)
        return body

    return register
