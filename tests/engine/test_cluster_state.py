"""cluster.state and cluster.health over the in-memory reader: never came up versus last operation
failed, and Resource Health as the symptom's evidence when clusterStatus says Ready."""

from __future__ import annotations

import dataclasses

import pytest

from tests.engine.fake_reader import CLUSTER_ID, NOW, FakeEstate, FakeReader
from wizard.domain.errors import Forbidden
from wizard.domain.models import CheckStatus, ResourceHealthFacts
from wizard.engine.fix_plan import plan_fixes
from wizard.run.diagnose import diagnose

INACCESSIBLE = "CLUSTER_INACCESSIBLE"
DOWN = ResourceHealthFacts("Unavailable", summary="can't access its key", reason_type="Unplanned")


@pytest.mark.parametrize(
    ("status", "provisioning", "codes", "state"),
    [
        ("Ready", "Failed", {"CLUSTER_LAST_OPERATION_FAILED"}, CheckStatus.FAIL),
        ("Stopped", "Failed", {"CLUSTER_LAST_OPERATION_FAILED"}, CheckStatus.FAIL),
        ("Updating", "Failed", {"CLUSTER_LAST_OPERATION_FAILED"}, CheckStatus.FAIL),
        (
            "Inaccessible",
            "Failed",
            {"CLUSTER_LAST_OPERATION_FAILED", "CLUSTER_INACCESSIBLE"},
            CheckStatus.FAIL,
        ),
        ("Failed", "Failed", {"CLUSTER_PROVISIONING_FAILED"}, CheckStatus.FAIL),
        ("Provisioning", "Failed", {"CLUSTER_PROVISIONING_FAILED"}, CheckStatus.FAIL),
        ("Somethingnew", "Failed", {"CLUSTER_LAST_OPERATION_FAILED"}, CheckStatus.UNKNOWN),
        ("Failed", "Succeeded", set(), CheckStatus.UNKNOWN),
        ("Dropping", "Dropping", set(), CheckStatus.UNKNOWN),
    ],
)
def test_only_a_cluster_that_never_came_up_is_provisioning_failed(
    status: str, provisioning: str, codes: set[str], state: CheckStatus
) -> None:
    """provisioningState is the last operation's: Failed on a cluster that came up (or whose status
    is not known) is a warning, and an unknown status is never taken for 'never came up'."""
    cluster = FakeEstate().cluster
    assert cluster is not None
    estate = FakeEstate().replace(
        cluster=dataclasses.replace(cluster, cluster_status=status, provisioning_state=provisioning),
        resource_health=ResourceHealthFacts("Available"),
    )
    result = diagnose(FakeReader(estate), CLUSTER_ID)
    assert {f.code for f in result.findings if f.check_id == "cluster.state"} == codes
    assert next(c for c in result.assessment.checks if c.id == "cluster.state").status == state
    plan = plan_fixes(result)
    offered = "delete-failed-cluster" in {s.remediation for s in plan.steps}
    assert offered is ("CLUSTER_PROVISIONING_FAILED" in codes)


def expired() -> FakeEstate:
    estate = FakeEstate()
    assert estate.key is not None
    return estate.replace(key=dataclasses.replace(estate.key, expires=NOW))


def test_resource_health_down_with_a_cause_is_the_symptom_while_arm_says_ready() -> None:
    result = diagnose(FakeReader(expired().replace(resource_health=DOWN)), CLUSTER_ID)
    codes = {f.code: f.check_id for f in result.findings}
    assert codes == {"KEY_EXPIRED": "key.dates", "CLUSTER_INACCESSIBLE": "cluster.health"}
    assert "wait-for-ready" in {s.remediation for s in plan_fixes(result).steps}


def test_resource_health_down_with_no_cause_is_incomplete_and_plans_the_wait() -> None:
    result = diagnose(FakeReader(FakeEstate().replace(resource_health=DOWN)), CLUSTER_ID)
    assert result.findings == ()
    assert result.verdict == "incomplete"
    assert [s.remediation for s in plan_fixes(result).steps] == ["wait-for-ready"]


@pytest.mark.parametrize("state", ["Degraded", "Unavailable"])
def test_clusterstatus_inaccessible_is_the_symptom_once(state: str) -> None:
    estate = expired()
    assert estate.cluster is not None
    estate = estate.replace(
        cluster=dataclasses.replace(estate.cluster, cluster_status="Inaccessible"),
        resource_health=ResourceHealthFacts(state),
    )
    result = diagnose(FakeReader(estate), CLUSTER_ID)
    symptoms = [f for f in result.findings if f.code == "CLUSTER_INACCESSIBLE"]
    assert [f.check_id for f in symptoms] == ["cluster.state"]
    assert symptoms[0].evidence["availabilityState"] == state


def test_without_resource_health_the_cause_is_still_found_and_the_check_is_unknown() -> None:
    needs = "Microsoft.ResourceHealth/availabilityStatuses/read (Reader on the cluster)"
    estate = expired().replace(errors={"get_resource_health": Forbidden("403", needs=needs)})
    result = diagnose(FakeReader(estate), CLUSTER_ID)
    health = next(c for c in result.assessment.checks if c.id == "cluster.health")
    assert (health.status, health.needs) == (CheckStatus.UNKNOWN, needs)
    assert {f.code for f in result.findings} == {"KEY_EXPIRED"}
    assert result.verdict == "unhealthy"
    healthy = diagnose(FakeReader(FakeEstate().replace(errors=estate.errors)), CLUSTER_ID)
    assert healthy.verdict == "healthy", "a non-essential unknown leaves a healthy verdict alone"
