"""The one gate before every check: its needed reads, waited for in the order Azure answers them.

A check needs some kinds of read (tree.toml's `reads`); each hangs under others (the key under the
vault, the vault under its lookup, everything under the cluster). The gate walks them, the ones
they hang under first, and turns the first read that is pending, running, forbidden or absent
into the check's status. Only when it lets the check through does the check's own logic run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Set
from dataclasses import dataclass
from datetime import datetime

from wizard.domain.errors import NotFound
from wizard.domain.models import CheckStatus
from wizard.engine.checks.verdict import Verdict, skip, unknown_from
from wizard.engine.facts import Facts
from wizard.engine.reads import SUBSCRIPTIONS_READ
from wizard.engine.tree import Read, ReadKind


@dataclass(frozen=True)
class CheckContext:
    """What a check runs on: the facts so far, the reads still in flight, and the time."""

    facts: Facts
    in_flight: Set[Read]
    now: datetime
    causes: frozenset[str] = frozenset()
    """The critical causes the other checks found (filled in only for checks that judge a symptom)."""

    def wait(self, read: Read) -> Verdict | None:
        """A verdict for a read that has not answered or failed; None once it has (404 included)."""
        outcome = self.facts.outcome(read)
        if outcome is None:
            status = CheckStatus.RUNNING if read in self.in_flight else CheckStatus.PENDING
            return Verdict(status, "waiting for Azure", reads=[read])
        if outcome.error is None or isinstance(outcome.error, NotFound):
            return None
        return unknown_from(outcome.error, read)


def _no_reads(facts: Facts) -> list[Read]:
    return []


def _nothing_missing(facts: Facts) -> str:
    return ""


@dataclass(frozen=True)
class _Need:
    """How the gate waits for one kind of read."""

    under: ReadKind | None
    reads: Callable[[Facts], list[Read]] = _no_reads
    """The reads that stand for it now (none while what it hangs on is unknown)."""
    nothing_to_read: str = ""
    """Why the check cannot run when there is no such read to make ("": go on to `absent`)."""
    absent: Callable[[Facts], str] = _nothing_missing
    """Why the check cannot run though the read answered: the thing is not there ("": it is)."""
    locates: str = ""
    """For a read that only says where the rest is: its failure skips, with this reason, every
    check but the one that judges it (one unknown, not one per check)."""
    fallback: bool = False
    """Searches made only when the lookup found nothing: waited for, but their failures do not stop."""
    conditional: bool = False
    """Asked only on some answers (a deleted key once the key is gone): the check waits for it itself."""


def _one(read: Read | None) -> list[Read]:
    return [read] if read else []


def _cluster_unusable(facts: Facts) -> str:
    if facts.cluster is None:
        return "the cluster does not exist"
    if not facts.cluster.is_cmk:
        return "the cluster does not use a customer-managed key"
    return ""


def _unless_located(reads: Callable[[Facts], list[Read]]) -> Callable[[Facts], list[Read]]:
    """Reads that matter only while neither the lookup nor a search has found the vault, live or
    soft-deleted (a vault's name is global: found once, it is nowhere else)."""
    return lambda facts: [] if facts.vault_ref or facts.deleted_vault else reads(facts)


_NEEDS: dict[ReadKind, _Need] = {
    # in the order the gate waits for them: a read comes after every read it hangs under
    ReadKind.CLUSTER: _Need(
        under=None,
        reads=lambda f: [f.cluster_read],
        absent=_cluster_unusable,
        locates="the cluster could not be read",
    ),
    ReadKind.RESOURCE_HEALTH: _Need(
        under=ReadKind.CLUSTER,
        reads=lambda f: _one(f.resource_health_read),
        absent=lambda f: "" if f.resource_health else "Resource Health has no status for the cluster",
    ),
    ReadKind.IDENTITY: _Need(
        under=ReadKind.CLUSTER,
        reads=lambda f: _one(f.identity_read),
        nothing_to_read="the cluster names no key identity",
        absent=lambda f: "" if f.identity else "the identity does not exist",
    ),
    ReadKind.VAULT_LOOKUP: _Need(
        under=ReadKind.CLUSTER,
        reads=lambda f: _one(f.vault_lookup_read),
        nothing_to_read="the cluster's key URL cannot be parsed",
        locates="the vault could not be located",
    ),
    ReadKind.SUBSCRIPTIONS: _Need(
        under=ReadKind.VAULT_LOOKUP, reads=_unless_located(lambda f: [SUBSCRIPTIONS_READ]), fallback=True
    ),
    ReadKind.VAULT_SEARCH: _Need(
        under=ReadKind.SUBSCRIPTIONS,
        reads=_unless_located(lambda f: f.vault_search_reads),
        fallback=True,
    ),
    ReadKind.VAULT: _Need(
        under=ReadKind.VAULT_SEARCH,
        reads=lambda f: _one(f.vault_read),
        absent=lambda f: "" if f.vault else "the vault does not exist",
    ),
    ReadKind.KEY: _Need(
        under=ReadKind.VAULT,
        reads=lambda f: _one(f.key_read),
        absent=lambda f: "" if f.key else "the key does not exist",
    ),
    ReadKind.DELETED_KEY: _Need(under=ReadKind.KEY, conditional=True),
    ReadKind.DELETED_VAULT: _Need(under=ReadKind.VAULT_SEARCH, conditional=True),
    ReadKind.ROLE_ASSIGNMENTS: _Need(under=ReadKind.VAULT, conditional=True),
    ReadKind.ROLE_DEFINITIONS: _Need(under=ReadKind.ROLE_ASSIGNMENTS, conditional=True),
    ReadKind.ROLE_DEFINITION: _Need(under=ReadKind.ROLE_ASSIGNMENTS, conditional=True),
}


def _walk(needs: Collection[ReadKind]) -> list[ReadKind]:
    """The needed kinds with every kind they hang under, in the order Azure can answer them."""
    wanted: set[ReadKind] = set()
    for kind in needs:
        at: ReadKind | None = kind
        while at is not None:
            wanted.add(at)
            at = _NEEDS[at].under
    return [kind for kind, need in _NEEDS.items() if kind in wanted and not need.conditional]


def gate(needs: Collection[ReadKind], judges: Collection[ReadKind], ctx: CheckContext) -> Verdict | None:
    """The check's status while a read it needs has not answered, failed or found nothing; None to
    let the check run. A kind the check `judges` (its absence is the check's finding) lets it run
    as soon as the answer says the thing is not there."""
    facts = ctx.facts
    for kind in _walk(needs):
        need = _NEEDS[kind]
        reads = need.reads(facts)
        if not reads and need.nothing_to_read:
            return skip(need.nothing_to_read)
        for read in reads:
            outcome = facts.outcome(read)
            if outcome is None:
                return ctx.wait(read)
            if need.fallback or outcome.error is None or isinstance(outcome.error, NotFound):
                continue
            if need.locates and kind not in judges:
                return skip(need.locates)
            return unknown_from(outcome.error, read)
        missing = need.absent(facts)
        if missing:
            return None if kind in judges else skip(missing)
    return None
