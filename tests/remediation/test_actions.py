"""Typed actions and the catalogue name the same writes: one action type per writing remediation."""

from __future__ import annotations

from collections import Counter
from typing import get_type_hints

from wizard.azure.writes import GatewayWriter
from wizard.domain.actions import ACTION_TYPES, ESCALATION, WAIT_FOR_READY
from wizard.domain.catalog import load_catalog


def test_every_writing_remediation_has_exactly_one_action_type_and_back() -> None:
    catalog = load_catalog()
    writing = {rid for rid, spec in catalog.remediations.items() if spec.writes}
    ids = Counter(t.remediation for t in ACTION_TYPES)
    assert set(ids) == writing
    assert all(n == 1 for n in ids.values()), ids


def test_the_remediations_that_write_nothing_are_the_wait_and_escalation() -> None:
    catalog = load_catalog()
    assert {rid for rid, spec in catalog.remediations.items() if not spec.writes} == {WAIT_FOR_READY}
    assert ESCALATION not in catalog.remediations


def test_the_gateway_writer_takes_every_action() -> None:
    hints = get_type_hints(GatewayWriter.apply)
    assert set(hints["action"].__args__) == set(ACTION_TYPES)
