"""When the planner may move a cluster to its versionless key URL, over our own dataclasses."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from tests.engine.fake_reader import CLUSTER_ID, NOW, FakeEstate, FakeReader
from wizard.domain.errors import Forbidden
from wizard.domain.models import CheckStatus, Finding
from wizard.domain.results import StepKind
from wizard.engine.fix_plan import plan_fixes
from wizard.run.diagnose import Diagnosis, diagnose

HEALTHY = FakeEstate()
assert HEALTHY.cluster is not None
assert HEALTHY.key is not None
PINNED_URL = "https://kv1.vault.azure.net/keys/cmk/v0"
PINNED = dataclasses.replace(HEALTHY.key, version="v0")
VERSIONED = {"CLUSTER_KEY_URL_VERSIONED"}


def pinned(newest: dict[str, Any] | None = None, **changes: Any) -> Diagnosis:
    """A Ready cluster pinned to a healthy v0; the newest version (v1) changed as given."""
    assert HEALTHY.cluster is not None
    assert HEALTHY.key is not None
    cluster = dataclasses.replace(HEALTHY.cluster, key_url=PINNED_URL, **changes)
    key = dataclasses.replace(HEALTHY.key, **(newest or {}))
    return diagnose(
        FakeReader(HEALTHY.replace(cluster=cluster, key=key, key_versions={"v0": PINNED})), CLUSTER_ID
    )


def versioned(result: Diagnosis) -> Finding:
    return next(f for f in result.findings if f.code == "CLUSTER_KEY_URL_VERSIONED")


def test_a_usable_newest_version_is_offered_only_when_named() -> None:
    result = pinned()
    assert result.verdict == "healthy"
    assert versioned(result).remediations == ("attach-identity-and-key",)
    assert plan_fixes(result).steps == ()
    plan = plan_fixes(result, scope=VERSIONED)
    assert [s.remediation for s in plan.steps] == ["attach-identity-and-key"]
    assert plan.steps[0].params["key_url"] == "https://kv1.vault.azure.net/keys/cmk"


@pytest.mark.parametrize(
    ("newest", "why"),
    [
        ({"enabled": False}, "disabled"),
        ({"expires": NOW - timedelta(hours=1)}, "expired"),
        ({"not_before": NOW + timedelta(days=2)}, "not active"),
        ({"expires": NOW + timedelta(days=5)}, "within 30 days"),
        ({"kty": "EC", "key_size": None}, "cannot wrap"),
        ({"key_size": 1024}, "cannot wrap"),
    ],
)
def test_an_unusable_newest_version_is_never_offered(newest: dict[str, Any], why: str) -> None:
    result = pinned(newest)
    assert result.verdict == "healthy"
    assert next(c for c in result.assessment.checks if c.id == "key.newest").status == CheckStatus.FAIL
    finding = versioned(result)
    assert finding.remediations == ()
    assert why in finding.summary
    plan = plan_fixes(result, scope=VERSIONED)
    assert plan.writes == ()
    assert [(s.kind, s.title) for s in plan.steps] == [
        (StepKind.ESCALATE, "Left as it is: Key URL carries a version")
    ]
    assert why in plan.steps[0].explanation


def test_an_unconfirmed_identity_access_blocks_the_move() -> None:
    assert HEALTHY.cluster is not None
    denied = Forbidden("403", needs="Microsoft.Authorization/roleAssignments/read (Reader on the vault)")
    cluster = dataclasses.replace(HEALTHY.cluster, key_url=PINNED_URL)
    estate = HEALTHY.replace(
        cluster=cluster, key_versions={"v0": PINNED}, errors={"list_role_assignments": denied}
    )
    result = diagnose(FakeReader(estate), CLUSTER_ID)
    assert versioned(result).remediations == ()
    assert "access" in versioned(result).summary
    assert plan_fixes(result, scope=VERSIONED).writes == ()


def test_a_cluster_that_is_not_ready_moves_later() -> None:
    result = pinned(cluster_status="Inaccessible")
    plan = plan_fixes(result, scope=VERSIONED)
    assert [s.kind for s in plan.steps if s.finding == "CLUSTER_KEY_URL_VERSIONED"] == [StepKind.DEFERRED]
    assert plan.writes == ()


def test_a_key_fix_goes_to_the_pinned_version_only() -> None:
    """The pinned v0 expires soon and the newest v1 is disabled: extend v0, never touch v1."""
    assert HEALTHY.cluster is not None
    assert HEALTHY.key is not None
    soon = dataclasses.replace(PINNED, expires=NOW + timedelta(days=10))
    cluster = dataclasses.replace(HEALTHY.cluster, key_url=PINNED_URL)
    newest = dataclasses.replace(HEALTHY.key, enabled=False)
    estate = HEALTHY.replace(cluster=cluster, key=newest, key_versions={"v0": soon})
    result = diagnose(FakeReader(estate), CLUSTER_ID)
    assert {f.code for f in result.findings} == {"CLUSTER_KEY_URL_VERSIONED", "KEY_EXPIRING_SOON"}
    plan = plan_fixes(result, scope={"KEY_EXPIRING_SOON", "CLUSTER_KEY_URL_VERSIONED"})
    assert [(s.remediation, s.params.get("version")) for s in plan.writes] == [("extend-key-expiry", "v0")]
