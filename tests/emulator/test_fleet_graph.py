"""The emulator's Resource Graph for the fleet scan, through the real ResourceGraphClient: paging by
`$skipToken`, the quota headers, the throttling 429; and its per-request cost at fleet size."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from tests.emulator.conftest import StartEmulator
from wizard.azure import fleet_queries
from wizard.emulator import fleet_estate
from wizard.emulator.arm import fleet_graph
from wizard.emulator.health import refresh


def _with_headers(graph: Any, request: QueryRequest) -> tuple[Any, dict[str, str]]:
    """The response and its headers (the SDK hands them to `cls`)."""
    answer: tuple[Any, dict[str, str]] = graph.resources(
        request, cls=lambda pipeline, body, _: (body, dict(pipeline.http_response.headers))
    )
    return answer


def test_the_scan_queries_are_the_ones_the_emulator_knows() -> None:
    """The emulator keeps its own copy of the scan's query texts (it imports nothing of ours)."""
    for name in ("CLUSTERS", "DEPENDENCIES", "ROLE_ASSIGNMENTS", "ROLE_DEFINITIONS", "SUBSCRIPTIONS"):
        assert getattr(fleet_queries, name) == getattr(fleet_graph, f"{name}_QUERY"), name


def test_pages_follow_the_skip_token_until_every_row_is_read(start: StartEmulator) -> None:
    clients = start(fleet_estate(25, keys=5, subscriptions=2, broken=0.0, seed=2))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        request = QueryRequest(
            query=fleet_queries.CLUSTERS,
            options=QueryRequestOptions(result_format="objectArray", top=10, skip_token=token),
        )
        response: Any = clients.graph.resources(request)
        pages += 1
        assert response.total_records == 25
        assert response.result_truncated == "false"
        seen += [str(row["id"]) for row in response.data]
        token = response.skip_token
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen, key=str.lower)


def test_every_answer_carries_the_quota_headers(start: StartEmulator) -> None:
    clients = start("healthy")
    request = QueryRequest(query=fleet_queries.SUBSCRIPTIONS)
    _, first = _with_headers(clients.graph, request)
    _, second = _with_headers(clients.graph, request)
    assert int(second["x-ms-user-quota-remaining"]) == int(first["x-ms-user-quota-remaining"]) - 1
    assert first["x-ms-user-quota-resets-after"].count(":") == 2


def test_a_spent_quota_is_a_429_without_retry_after(start: StartEmulator) -> None:
    clients = start("healthy")
    clients.emu.set_graph_quota({"quotaQueries": 1, "quotaWindowSeconds": 60, "enforceQuota": True})
    request = QueryRequest(query=fleet_queries.SUBSCRIPTIONS)
    clients.graph.resources(request)
    with pytest.raises(HttpResponseError) as raised:
        clients.graph.resources(request)
    headers = dict(getattr(raised.value.response, "headers", {}))
    assert raised.value.status_code == 429
    assert "Retry-After" not in headers
    assert headers["x-ms-user-quota-remaining"] == "0"
    assert headers["x-ms-user-quota-resets-after"].startswith("00:0")


def test_a_skip_token_of_another_query_is_refused(start: StartEmulator) -> None:
    clients = start(fleet_estate(12, keys=2, subscriptions=1, broken=0.0, seed=2))
    first: Any = clients.graph.resources(
        QueryRequest(query=fleet_queries.CLUSTERS, options=QueryRequestOptions(top=5))
    )
    with pytest.raises(HttpResponseError) as raised:
        clients.graph.resources(
            QueryRequest(
                query=fleet_queries.DEPENDENCIES, options=QueryRequestOptions(skip_token=first.skip_token)
            )
        )
    assert raised.value.status_code == 400


def test_reads_do_not_make_the_emulator_judge_every_cluster_again(start: StartEmulator) -> None:
    """Health is judged when the estate changes, not per request: flat cost at 10,000 clusters."""
    clients = start(fleet_estate(300, keys=15, subscriptions=3, broken=0.1, seed=4))
    emu = clients.emu
    before = emu.health_evaluations
    request = QueryRequest(query=fleet_queries.CLUSTERS)
    for _ in range(3):
        clients.graph.resources(request)
    cluster_id = emu.connection["clusters"][0]
    parts = cluster_id.split("/")
    clients.mongo.mongo_clusters.get(parts[4], parts[-1])
    assert emu.health_evaluations == before
    emu.mutate(lambda state: state.vaults[0].keys.clear())
    assert emu.health_evaluations == before + 1
    assert not emu.health()["clusters"][
        next(c.id for c in emu._state.clusters if (c.key_url or "").startswith("https://kv-fleet-0000."))
    ]["canUseKey"]


def test_the_fleet_generator_is_deterministic_and_breaks_about_the_share_asked() -> None:
    now = 1.8e9
    one = fleet_estate(400, keys=20, subscriptions=4, broken=0.25, seed=9).build(now)
    two = fleet_estate(400, keys=20, subscriptions=4, broken=0.25, seed=9).build(now)
    assert [c.id for c in one.clusters] == [c.id for c in two.clusters]
    assert len({c.subscription_id for c in one.clusters}) == 4
    assert len({c.key_url for c in one.clusters}) == 20
    broken = sum(not v.can_use_key for v in refresh(one, now, 0.0, 0.0).values())
    assert 60 <= broken <= 140
