"""The pure display helpers: tree depth, names from URLs, durations, the findings screen's plans."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.markup import escape

from screens.errors import explain
from screens.findings import finding_detail
from screens.presentation import check_depths, show_duration, show_value, vault_name_of
from tests.conftest import BackendFactory
from wizard.domain.catalog import load_catalog
from wizard.domain.errors import AuthFailed, Forbidden, Unreachable
from wizard.emulator import scenario_names
from wizard.engine.fix_plan import plan_fixes
from wizard.engine.tree import load_tree
from wizard.run.diagnose import diagnose


def test_depth_follows_the_deepest_parent() -> None:
    depths = check_depths(load_tree())
    assert depths["cluster.load"] == 0
    assert depths["cluster.state"] == 1
    assert depths["access.rbac"] == 1 + max(depths["vault.exists"], depths["identity.principal"])


def test_vault_name_comes_from_the_key_url() -> None:
    assert vault_name_of("https://kv-orders.vault.azure.net/keys/cmk") == "kv-orders"
    assert vault_name_of(None) == "-"
    assert vault_name_of("not a url") == "?"


def test_short_durations_read_the_same_every_run() -> None:
    assert show_duration(3) == show_duration(9) == "under 10 ms"
    assert show_duration(250) == "250 ms"
    assert show_duration(12_345) == "12.3 s"
    assert show_value(datetime(2026, 10, 1, tzinfo=UTC)) == "2026-10-01T00:00:00Z"


@pytest.mark.parametrize("scenario", scenario_names())
def test_the_findings_screen_shows_the_plan_fix_would_apply(
    emulator_backend: BackendFactory, scenario: str
) -> None:
    """One source of plan text: each finding's plan is the planner's, as `fix --finding` plans it
    (a symptom's is the whole plan), with every value filled in except in steps that wait on an
    earlier one; `x` is offered only when the cluster's plan has something to apply."""
    backend = emulator_backend(scenario)
    result = diagnose(backend.connect(), backend.default_cluster_id() or "")
    catalog = load_catalog()
    for finding in result.findings:
        text = "\n".join(markup for _, markup in finding_detail(result, finding, catalog))
        symptom = catalog.finding(finding.code).symptom
        plan = plan_fixes(result) if symptom else plan_fixes(result, scope=[finding.code])
        assert plan.steps or plan.notes, finding.code
        fixable = any(step.kind in ("write", "wait") for step in plan_fixes(result).steps)
        assert ("Press x to fix the cluster" in text) is fixable, finding.code
        for note in plan.notes:
            assert escape(note) in text
        for step in plan.steps:
            assert escape(step.title) in text
            if step.writes:
                assert escape(step.az) in text
                assert escape(step.rest) in text
                assert step.provisional or "{" not in step.az + step.rest + step.change, step


def test_errors_say_what_to_do() -> None:
    assert "az login" in explain(AuthFailed("no token"), doing="connecting").advice
    assert "Reader on kv1" in explain(Forbidden("denied", needs="Reader on kv1"), doing="x").advice
    assert "network" in explain(Unreachable("timeout"), doing="x").advice
    assert "bug" in explain(RuntimeError("boom"), doing="x").advice


def test_done_pane_shows_only_what_changed_and_counts_polls() -> None:
    """At 80x24 the unchanged fields pushed the changed one out of view; and '1 polls'."""
    from screens.fix_blocks import outcome_detail
    from wizard.domain.results import OutcomeStatus, StepKind
    from wizard.engine.steps import Step
    from wizard.run.outcomes import StepOutcome
    from wizard.run.wait import WaitResult

    step = Step(
        "extend-key-expiry",
        "KEY_EXPIRED",
        StepKind.WRITE,
        "Extend the key's expiry",
        "",
        "",
        {},
        {},
        None,
        "t",
    )
    before = {"version": "v1", "enabled": True, "notBefore": None, "expires": "2025-01-01T00:00:00Z"}
    after = {**before, "expires": "2027-01-01T00:00:00Z"}
    text = "\n".join(
        b
        for _, b in outcome_detail(
            StepOutcome(step, OutcomeStatus.OK, "applied", before=before, after=after), None
        )
    )
    assert "expires" in text
    assert "2025-01-01T00:00:00Z" in text
    assert "2027-01-01T00:00:00Z" in text
    for unchanged in ("version", "enabled", "notBefore"):
        assert unchanged not in text
    same = "\n".join(
        b
        for _, b in outcome_detail(
            StepOutcome(step, OutcomeStatus.ALREADY_DONE, "already so", before=before, after=before), None
        )
    )
    assert "nothing: it was already so" in same
    waited = WaitResult(True, "Ready", 1.0, 3600.0, 60.0, 1)
    wait_text = "\n".join(
        b
        for _, b in outcome_detail(
            StepOutcome(step, OutcomeStatus.READY, waited.describe(), wait=waited), None
        )
    )
    assert "1 poll;" in wait_text
    assert "1 polls" not in wait_text
