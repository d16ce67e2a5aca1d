"""Throttling as each service signals it: ARM 429 with Retry-After and x-ms-ratelimit-remaining-*,
Resource Graph 429 with its quota headers and no Retry-After (a POST azure-core does not retry),
Key Vault 429 with and without Retry-After; the request log counts a throttled Resource Graph query
as the read it is. Real SDK against the emulator."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resourcegraph.models import QueryRequest

from tests.emulator.conftest import RG, VAULT, StartEmulator


def response_headers(error: HttpResponseError) -> dict[str, str]:
    """The headers of the response an SDK error carries."""
    return dict(getattr(error.response, "headers", None) or {})


def test_arm_says_which_budget_is_spent_and_when_to_come_back(start: StartEmulator) -> None:
    c = start("healthy")
    c.emu.set_faults(fault_rate=1.0, fault_kinds=["429"], fault_limit=1)
    with pytest.raises(HttpResponseError) as err:
        c.kv.vaults.get(RG, VAULT)
    headers = response_headers(err.value)
    assert err.value.status_code == 429
    assert headers["Retry-After"] == "1"
    assert headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"


def test_a_throttled_graph_query_has_quota_headers_no_retry_after_and_is_no_write(
    start: StartEmulator,
) -> None:
    c = start("healthy")
    c.emu.set_faults(fault_rate=1.0, fault_kinds=["429"], fault_limit=1)
    with pytest.raises(HttpResponseError) as err:
        c.graph.resources(QueryRequest(query="resources | limit 1"))
    headers = response_headers(err.value)
    assert err.value.status_code == 429
    assert "Retry-After" not in headers
    assert headers["x-ms-user-quota-remaining"] == "0"
    assert headers["x-ms-user-quota-resets-after"] == "00:00:01"
    entry = c.emu.requests()[-1]
    assert (entry["method"], entry["status"], entry["write"]) == ("POST", 429, False)


def test_key_vault_throttles_with_and_without_retry_after(start: StartEmulator) -> None:
    c = start("healthy")
    c.emu.set_faults(fault_rate=1.0, fault_kinds=["429"])
    seen = set()
    for _ in range(12):
        with pytest.raises(HttpResponseError) as err:
            c.keys().get_key("cmk")
        assert err.value.status_code == 429
        seen.add("Retry-After" in response_headers(err.value))
    assert seen == {True, False}
