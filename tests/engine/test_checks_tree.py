"""The tree file means what it says: each check's registered reads are its `reads` in tree.toml."""

from __future__ import annotations

import pytest

from tests.engine.fake_reader import CLUSTER_ID, FakeEstate, FakeReader
from wizard.domain.models import CheckStatus
from wizard.engine.assess import assess
from wizard.engine.checks import CHECKS, CheckContext, Verdict, check
from wizard.engine.tree import CheckSpec, load_tree
from wizard.run.diagnose import diagnose


def test_every_tree_check_has_one_registered_function_and_every_function_a_tree_check() -> None:
    ids = [spec.id for spec in load_tree()]
    assert sorted(CHECKS) == sorted(ids)
    bodies = [c.body for c in CHECKS.values()]
    assert len(set(bodies)) == len(bodies)


@pytest.mark.parametrize("spec", load_tree(), ids=lambda spec: spec.id)
def test_a_check_needs_exactly_the_reads_its_tree_node_names(spec: CheckSpec) -> None:
    registered = CHECKS[spec.id]
    assert set(registered.needs) == set(spec.reads)
    assert registered.judges <= set(registered.needs)
    assert registered.optional <= set(registered.needs)


def _noop(ctx: CheckContext) -> Verdict:
    return Verdict(CheckStatus.PASS)


def test_a_check_id_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        check("key.dates", needs=("key",))(_noop)


def test_a_check_judges_only_reads_it_needs() -> None:
    with pytest.raises(ValueError, match="among its needs"):
        check("key.other", needs=("key",), judges=("vault",))


def test_a_check_names_only_known_reads() -> None:
    with pytest.raises(ValueError, match="not_a_read"):
        check("key.other", needs=("not_a_read",))


def test_a_check_waits_while_a_read_it_needs_is_unanswered() -> None:
    """Take the healthy answers away one kind at a time: every check that needs that kind waits."""
    known = diagnose(FakeReader(FakeEstate()), CLUSTER_ID).known
    for spec in load_tree():
        registered = CHECKS[spec.id]
        for kind in set(registered.needs) - registered.optional:
            without = {read: outcome for read, outcome in known.items() if read.kind != kind}
            if len(without) == len(known):
                continue
            status = next(c.status for c in assess(CLUSTER_ID, without).checks if c.id == spec.id)
            assert status == CheckStatus.PENDING, (spec.id, kind)


def test_the_packaged_tree_json_is_tree_toml() -> None:
    """The app reads tree.json (no TOML parser before the first frame); tree.toml is the one edited."""
    from importlib import resources

    from wizard.engine.tree import tree_json

    text = resources.files("wizard.engine").joinpath("tree.json").read_text(encoding="utf-8")
    assert text == tree_json(), "wizard/engine/tree.json is stale: python -m wizard.engine.tree"
