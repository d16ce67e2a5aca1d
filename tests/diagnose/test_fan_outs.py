"""Fan-outs that stay flat, counted in requests (never timed), and every list the wizard follows
paged as Azure pages it: role assignments, role definitions, vaults, deleted vaults, Resource Graph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wizard.cli.wiring import EmulatorBackend, Options
from wizard.emulator import Estate, fleet_estate
from wizard.engine.assess import critical_causes
from wizard.run.diagnose import MAX_PARALLEL, Diagnosis, diagnose

WEAK = ["Microsoft.KeyVault/vaults/keys/read"]
STRONG = ["Microsoft.KeyVault/vaults/keys/*"]
OWN = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
PAGE = 4
"""Items per page of every ARM list in these estates (`paging:`), so a few items cross a page."""
PAGING = {"roleAssignments": PAGE, "roleDefinitions": PAGE, "vaults": PAGE, "deletedVaults": PAGE}


@pytest.fixture
def backends() -> Iterator[list[EmulatorBackend]]:
    """Backends made by a test, closed after it."""
    made: list[EmulatorBackend] = []
    yield made
    for backend in made:
        backend.close()


def _run(made: list[EmulatorBackend], spec: dict[str, Any]) -> tuple[Diagnosis, list[dict[str, Any]]]:
    estate = Estate.from_data(spec, spec["name"])
    backend = EmulatorBackend(Options(retry_total=0), estate=estate)
    made.append(backend)
    result = diagnose(backend.connect(), estate.build(0.0).clusters[0].id)
    return result, backend.emulator.requests()


def _kind(requests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in requests if r["kind"] == kind]


def _status(result: Diagnosis, check_id: str) -> str:
    return next(c.status.value for c in result.assessment.checks if c.id == check_id)


def _cluster(vault: str = "kv-cmk-demo") -> dict[str, Any]:
    return {
        "name": "cluster-fan-out",
        "identities": ["id-cmk-demo"],
        "encryption": {"identity": "id-cmk-demo", "vault": vault, "key": "cmk"},
    }


def _custom_roles_estate(n: int) -> dict[str, Any]:
    """N custom-role assignments to the cluster's identity at the vault; only the last role grants."""
    roles = [{"name": f"custom {i}", "dataActions": STRONG if i == n - 1 else WEAK} for i in range(n)]
    return {
        "name": f"custom-roles-{n}",
        "paging": PAGING,
        "identities": [{"name": "id-cmk-demo"}],
        "customRoles": roles,
        "vaults": [{"name": "kv-cmk-demo", "keys": [{"name": "cmk", "size": 4096}]}],
        "roleAssignments": [
            {"principal": "id-cmk-demo", "role": r["name"], "scope": "vault:kv-cmk-demo"} for r in roles
        ],
        "clusters": [_cluster()],
    }


@pytest.mark.parametrize("n", [1, 3 * PAGE + 1])
def test_custom_role_assignments_cost_one_role_list_not_one_read_each(
    backends: list[EmulatorBackend], n: int
) -> None:
    """The granting role is the last of N: on the second page of both lists when N > a page."""
    result, requests = _run(backends, _custom_roles_estate(n))
    assert _status(result, "access.rbac") == "pass"
    assert result.verdict == "healthy"
    pages = 1 + n // PAGE
    definitions = _kind(requests, "role-definitions")
    assert len(definitions) == pages
    assert all(r["path"].endswith("/roleDefinitions") for r in definitions)  # never one GET by id
    assert len(_kind(requests, "role-assignments")) == pages
    assert len(requests) <= 7 + 2 * pages


def _subscriptions(count: int) -> list[dict[str, str]]:
    return [{"name": f"rg-{i}", "subscriptionId": f"00000000-0000-4000-8000-{i:012d}"} for i in range(count)]


def _deleted_vault_estate(vault_subscription: str | None, subscriptions: int) -> dict[str, Any]:
    vault: dict[str, Any] = {"name": "kv-cmk-demo", "deleted": "-3d", "keys": [{"name": "cmk", "size": 4096}]}
    if vault_subscription:
        vault["subscriptionId"] = vault_subscription
    return {
        "name": "deleted-sweep",
        "paging": PAGING,
        "identities": [{"name": "id-cmk-demo"}],
        "resourceGroups": _subscriptions(subscriptions),
        "vaults": [vault],
        "clusters": [_cluster()],
    }


def test_the_deleted_vault_sweep_stops_once_the_vault_is_found(backends: list[EmulatorBackend]) -> None:
    """Soft-deleted in the cluster's own subscription, with 40 more in sight: the sweep ends with
    the reads already sent (at most max_parallel), not two lists per subscription."""
    result, requests = _run(backends, _deleted_vault_estate(None, 40))
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    sweep = _kind(requests, "deleted-vaults") + _kind(requests, "vaults")
    assert len(sweep) <= 2 + MAX_PARALLEL + 1
    assert len(sweep) < 2 * 41


def test_a_vault_found_in_the_last_subscription_costs_one_page_per_list(
    backends: list[EmulatorBackend],
) -> None:
    last = _subscriptions(12)[-1]["subscriptionId"]
    result, requests = _run(backends, _deleted_vault_estate(last, 12))
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    deleted = _kind(requests, "deleted-vaults")
    assert len(deleted) <= 13  # one list each; the vault's own list stops at the page naming it
    assert len({r["path"] for r in deleted}) == len(deleted)


def test_other_subscriptions_are_asked_for_deleted_vaults_before_live_ones(
    backends: list[EmulatorBackend],
) -> None:
    """Soft-deleted in the last of 60 more subscriptions: every subscription's deleted vaults are
    asked for, the live lists (a hedge on Resource Graph's lag) only in the cluster's own
    subscription, since a deleted list named the vault (before: a live list in each of the 61)."""
    count = 60
    last = _subscriptions(count)[-1]["subscriptionId"]
    result, requests = _run(backends, _deleted_vault_estate(last, count))
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    deleted, live = _kind(requests, "deleted-vaults"), _kind(requests, "vaults")
    assert len({r["path"] for r in deleted}) == count + 1  # and the cluster's own
    assert len(live) == 1, "only the cluster's own subscription: the vault turned up among the deleted"


def test_a_deleted_vault_on_a_later_page_is_found(backends: list[EmulatorBackend]) -> None:
    spec = _deleted_vault_estate(None, 0)
    others = [{"name": f"kv-gone-{i:02d}", "deleted": "-1d", "keys": [{"name": "cmk"}]} for i in range(PAGE)]
    spec["vaults"] = others + spec["vaults"]
    result, requests = _run(backends, spec)
    assert critical_causes(result.findings) == {"VAULT_SOFT_DELETED"}
    own = [r for r in _kind(requests, "deleted-vaults") if OWN in r["path"]]
    assert len(own) == 2  # the first page does not name it; the second does, and paging stops


def test_a_live_vault_on_a_later_page_of_the_arm_list_is_found(backends: list[EmulatorBackend]) -> None:
    """Resource Graph lags (stale-resource-graph): the ARM list of the subscription is followed."""
    spec = _custom_roles_estate(1)
    spec["vaults"] = [{"name": f"kv-other-{i:02d}"} for i in range(PAGE)] + spec["vaults"]
    spec["operator"] = {"restrictions": ["stale-resource-graph"]}
    result, requests = _run(backends, spec)
    assert result.verdict == "healthy"
    own = [r for r in _kind(requests, "vaults") if r["path"].endswith("/vaults") and OWN in r["path"]]
    assert len(own) == 2


def test_the_cmk_cluster_list_follows_resource_graph_pages(backends: list[EmulatorBackend]) -> None:
    backend = EmulatorBackend(
        Options(retry_total=0), estate=fleet_estate(1203, keys=40, subscriptions=3, broken=0.0, seed=7)
    )
    backends.append(backend)
    clusters = backend.connect().list_cmk_clusters()
    assert len({c.id for c in clusters}) == 1203
    assert len(_kind(backend.emulator.requests(), "resource-graph")) == 2
