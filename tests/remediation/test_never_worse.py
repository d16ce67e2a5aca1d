"""Property: a fix never makes a cluster worse, over estates Hypothesis builds.

Every estate starts Ready by the emulator's own rule (it never imports the engine) and carries the
warnings a healthy cluster can have: a versioned key URL whose newest version may be disabled,
expired, not yet active or expiring; a key expiring soon; purge protection off; a failed last
operation (provisioningState Failed on the running cluster); either permission model; either
status mode (Resource Health is read and must see it Available). The real planner and executor run
through the real SDK clients: every fix (`--all`) writes nothing, and applying every step of each
named warning's plan never leaves the cluster non-Ready and never touches a key version the
cluster does not use.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from wizard.cli.wiring import EmulatorBackend, Options
from wizard.domain.models import CheckStatus
from wizard.emulator import Emulator
from wizard.engine.fix_plan import named_only
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession
from wizard.run.outcomes import StepOutcome

VAULT = "kv-never-worse"
CLUSTER = "cluster-never-worse"
PINNED = "0123456789abcdef0123456789abcdef"
NEWEST: dict[str, dict[str, Any]] = {
    "usable": {},
    "disabled": {"enabled": False},
    "expired": {"expires": "-1d"},
    "not yet active": {"notBefore": "+2d"},
    "expiring": {"expires": "+5d"},
}
IN_DATE = ["+365d", "+12d", None]
"""Expiries the version in use may have: all leave the cluster Ready (+12d is a warning)."""


@st.composite
def ready_estates(draw: st.DrawFn) -> dict[str, Any]:
    """A one-cluster estate the emulator says is Ready, with warnings only."""
    rbac = draw(st.booleans())
    pinned = draw(st.booleans())
    key: dict[str, Any] = {"name": "cmk", "size": draw(st.sampled_from([2048, 3072, 4096]))}
    used = {"expires": draw(st.sampled_from(IN_DATE))}
    if pinned:
        key |= NEWEST[draw(st.sampled_from(["usable", *NEWEST.keys()]))]
        key["olderVersions"] = [{"version": PINNED, **used}]
    else:
        key |= used
    vault: dict[str, Any] = {
        "name": VAULT,
        "permissionModel": "rbac" if rbac else "accessPolicy",
        "purgeProtection": draw(st.booleans()),
        "keys": [{k: v for k, v in key.items() if v is not None}],
    }
    older = vault["keys"][0].get("olderVersions")
    if older:
        older[0] = {k: v for k, v in older[0].items() if v is not None}
    if not rbac:
        perms = draw(st.sampled_from([["all"], ["get", "list", "wrapKey", "unwrapKey"]]))
        vault["accessPolicies"] = [{"principal": "id-never-worse", "keys": perms}]
    encryption: dict[str, Any] = {"identity": "id-never-worse", "vault": VAULT, "key": "cmk"}
    if pinned:
        encryption["version"] = PINNED
    cluster: dict[str, Any] = {"name": CLUSTER, "identities": ["id-never-worse"], "encryption": encryption}
    if draw(st.booleans()):
        cluster |= {"provisioningState": "Failed", "clusterStatus": "Ready"}
    estate: dict[str, Any] = {
        "name": "never-worse",
        "statusMode": draw(st.sampled_from(["documented", "arm-enum"])),
        "identities": [{"name": "id-never-worse"}],
        "vaults": [vault],
        "clusters": [cluster],
    }
    if rbac:
        scope = draw(st.sampled_from([f"vault:{VAULT}", f"key:{VAULT}/cmk", "resourceGroup"]))
        estate["roleAssignments"] = [
            {
                "principal": "id-never-worse",
                "role": "Key Vault Crypto Service Encryption User",
                "scope": scope,
            }
        ]
    return estate


def key_version_in_use(emulator: Emulator, cluster_id: str) -> str:
    """The version the cluster's key URL names, else the newest: read from the emulator's state."""

    def read(state: Any) -> str:
        cluster = state.cluster(cluster_id)
        vault = state.vault(VAULT)
        pinned = cluster.key_url.rstrip("/").split("/keys/cmk")[-1].strip("/")
        return str(pinned or vault.key("cmk").latest.version)

    return emulator.mutate(read)


def assert_still_ready(emulator: Emulator, cluster_id: str, outcome: StepOutcome) -> None:
    health = emulator.health()["clusters"][cluster_id]
    assert health["status"] == "Ready", (outcome.step.remediation, health)
    assert health["canUseKey"] is True, (outcome.step.remediation, health)
    assert outcome.succeeded, (outcome.step.remediation, outcome.status, outcome.message)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ready_estates())
def test_fixes_never_turn_a_ready_cluster_non_ready(estate: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "estate.json"
        path.write_text(json.dumps(estate))
        backend = EmulatorBackend(Options(retry_total=0), scenario=str(path))
        try:
            cluster_id = backend.default_cluster_id() or ""
            emulator = backend.emulator
            assert emulator.health()["clusters"][cluster_id]["status"] == "Ready"
            gateway = backend.connect()
            audit = AuditLog(Path(folder) / "audit.jsonl")
            every = FixSession(gateway, cluster_id, audit=audit)
            result = every.run(lambda step: auto_confirm(step, {VAULT, CLUSTER}))
            assert [r for r in emulator.requests() if r["write"]] == [], "fix --all wrote"
            assert result.outcomes == []
            assert result.exit_code == 0
            health = {c.id: c.status for c in result.final.assessment.checks}["cluster.health"]
            assert health == CheckStatus.PASS, "Resource Health sees the Ready cluster Available"
            codes = {f.code for f in result.final.findings}
            last_failed = estate["clusters"][0].get("provisioningState") == "Failed"
            assert ("CLUSTER_LAST_OPERATION_FAILED" in codes) is last_failed
            event(f"last operation failed: {last_failed}, status mode {estate['statusMode']}")
            if last_failed:  # named, the failed last operation is explained and nothing is written
                since = len(emulator.requests())
                scope = {"CLUSTER_LAST_OPERATION_FAILED"}
                named = FixSession(gateway, cluster_id, audit=audit, scope=scope)
                explained = named.run(lambda step: auto_confirm(step, {VAULT, CLUSTER}))
                assert [r for r in emulator.requests(since) if r["write"]] == []
                assert [s.finding for s in explained.escalations] == ["CLUSTER_LAST_OPERATION_FAILED"]
            for warning in [f.code for f in result.final.findings if named_only(f)]:
                used = key_version_in_use(emulator, cluster_id)
                since = len(emulator.requests())
                named = FixSession(gateway, cluster_id, audit=audit, scope={warning})
                event(f"named {warning}")
                done = named.run(
                    lambda step: auto_confirm(step, {VAULT, CLUSTER}),
                    on_outcome=lambda o: assert_still_ready(emulator, cluster_id, o),
                )
                for o in done.outcomes:
                    event(f"applied {o.step.remediation}")
                key_writes = [
                    r["path"]
                    for r in emulator.requests(since)
                    if r["write"] and r["host"] != "arm" and "/keys/" in r["path"]
                ]
                assert all(p.split("?")[0].rstrip("/").endswith(f"/{used}") for p in key_writes), (
                    warning,
                    used,
                    key_writes,
                )
            assert emulator.health()["clusters"][cluster_id]["status"] == "Ready"
        finally:
            backend.close()
