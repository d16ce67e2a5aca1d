"""The diagnosis gets through Resource Graph's throttling: a 429 with the quota headers and no
Retry-After on a POST, which azure-core does not retry, is waited out (x-ms-user-quota-resets-after)
within the retry budget. Real SDK against the emulator."""

from __future__ import annotations

from tests.conftest import BackendFactory
from tests.emulator.conftest import admin
from wizard.run.diagnose import diagnose


def test_the_diagnosis_waits_out_a_graph_quota_instead_of_giving_up(
    emulator_backend: BackendFactory,
) -> None:
    """Before: the vault lookup's POST got one 429 and its check went unknown."""
    backend = emulator_backend("rbac-role-missing", retry_total=2)
    cluster_id = backend.default_cluster_id() or ""
    gateway = backend.connect()
    status, _ = admin(backend.emulator, "/_emulator/resource-graph", {"throttleNext": 1})
    assert status == 200
    result = diagnose(gateway, cluster_id)
    assert result.verdict == "unhealthy"
    assert [f.code for f in result.findings] == ["RBAC_ROLE_MISSING", "CLUSTER_INACCESSIBLE"]
    graph = [r for r in backend.emulator.requests() if r["kind"] == "resource-graph"]
    assert [r["status"] for r in graph][:2] == [429, 200]
    assert not [r for r in graph if r["write"]]
