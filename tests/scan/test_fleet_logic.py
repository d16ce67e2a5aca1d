"""The scan's verdicts on our own dataclasses (no SDK): the expiry window, group access, a refused
key read, a deleted identity, the blast radius and cancelling."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.ui.fake_fleet import FakeFleetReader
from tests.ui.fakes import FakeReader, build_estate
from wizard.domain.errors import Forbidden
from wizard.domain.fleet import ClusterState, GroupKind
from wizard.domain.models import RoleAssignmentFacts
from wizard.run.scan import scan
from wizard.run.scan_output import group_line

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _reader(scenario: str = "healthy") -> tuple[FakeFleetReader, str]:
    estate, broken = build_estate(scenario)
    return FakeFleetReader(FakeReader(estate)), broken


def test_the_expiry_window_is_the_scans_own() -> None:
    reader, broken = _reader()
    vault = reader.estate.vault_of(broken)
    ref = (vault.id.lower(), "cmk")
    reader.estate.keys[ref] = replace(reader.estate.keys[ref], expires=NOW + timedelta(days=10, hours=1))
    narrow = scan(reader, expiring_days=7, now=NOW)
    assert {v.state for v in narrow.verdicts} == {ClusterState.HEALTHY}
    wide = scan(reader, expiring_days=14, now=NOW)
    verdict = next(v for v in wide.verdicts if v.cluster.id == broken)
    assert verdict.state == ClusterState.WARNING
    assert verdict.causes == ("KEY_EXPIRING_SOON",)
    assert wide.exit_code == 0
    group = next(g for g in wide.groups if g.kind == GroupKind.KEY and g.warnings)
    assert "expires in 10 days: 1 cluster" in group_line(group, NOW)


def test_a_role_held_through_a_group_is_left_to_diagnose() -> None:
    reader, broken = _reader()
    vault = reader.estate.vault_of(broken)
    kept = [a for a in reader.estate.assignments if a.scope != vault.id]
    group = RoleAssignmentFacts(
        id=f"{vault.id}/providers/Microsoft.Authorization/roleAssignments/ra-group",
        scope=vault.id,
        role_definition_id=kept[0].role_definition_id,
        principal_id="00000000-0000-0000-0000-00000000beef",
        principal_type="Group",
    )
    reader.estate.assignments = [*kept, group]
    report = scan(reader, now=NOW)
    verdict = next(v for v in report.verdicts if v.cluster.id == broken)
    assert "RBAC_ROLE_MISSING" not in verdict.causes
    assert verdict.state == ClusterState.UNSETTLED
    assert any(q.check_id == "access.rbac" and q.diagnose_settles for q in verdict.open_questions)
    assert report.exit_code == 3


def test_without_the_group_the_missing_role_is_named() -> None:
    reader, broken = _reader()
    vault = reader.estate.vault_of(broken)
    reader.estate.assignments = [a for a in reader.estate.assignments if a.scope != vault.id]
    verdict = next(v for v in scan(reader, now=NOW).verdicts if v.cluster.id == broken)
    assert "RBAC_ROLE_MISSING" in verdict.causes
    assert verdict.state == ClusterState.CRITICAL


def test_an_identity_resource_graph_does_not_show_is_deleted() -> None:
    reader, broken = _reader()
    identity = reader.estate.clusters[broken].key_identity_id or ""
    del reader.estate.identities[identity.lower()]
    verdict = next(v for v in scan(reader, now=NOW).verdicts if v.cluster.id == broken)
    assert "IDENTITY_DELETED" in verdict.causes


def test_a_refused_key_read_is_named_and_its_clusters_incomplete() -> None:
    reader, _ = _reader()
    reader.estate.errors["get_key"] = Forbidden("no keys/read", needs="Microsoft.KeyVault/vaults/keys/read")
    report = scan(reader, now=NOW)
    assert {v.state for v in report.verdicts} == {ClusterState.INCOMPLETE}
    assert all(u.what.startswith("key ") for u in report.unreadable)
    assert report.unreadable[0].needs == "Microsoft.KeyVault/vaults/keys/read"
    assert report.exit_code == 3


def test_the_blast_radius_counts_clusters_and_subscriptions_per_key_vault_identity() -> None:
    reader, broken = _reader("key-expired")
    report = scan(reader, now=NOW)
    vault = reader.estate.vault_of(broken)
    [group] = [g for g in report.groups if g.kind == GroupKind.VAULT and g.name == vault.name]
    assert group.cluster_ids == (broken,)
    assert group.subscriptions == 1
    assert group.critical == 1
    assert group.causes[0] == "KEY_EXPIRED"
    assert group.causes[-1] == "CLUSTER_INACCESSIBLE"
    assert {g.kind for g in report.groups} == set(GroupKind)


def test_a_cancelled_scan_returns_without_waiting_for_its_reads() -> None:
    reader, _ = _reader()
    gate, cancelled = threading.Event(), threading.Event()
    reader.key_gate = gate
    seen: list[int] = []

    def update(report: object) -> None:
        seen.append(1)
        cancelled.set()

    try:
        report = scan(reader, on_update=update, cancelled=cancelled, now=NOW)
    finally:
        gate.set()
    assert not report.complete
    assert seen
