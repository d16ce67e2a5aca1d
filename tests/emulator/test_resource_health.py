"""Resource Health's availabilityStatuses/current for clusters through the real SDK client, in both status
modes, and the status mode reaching the emulator from the estate, the constructor and the CLI."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resourcehealth.models import AvailabilityStatusProperties

from tests.emulator.conftest import RG, VAULT, Clients, StartEmulator
from wizard.emulator import Emulator, standalone
from wizard.emulator.model import State


def current(c: Clients) -> AvailabilityStatusProperties:
    properties = c.resource_health.availability_statuses.get_by_resource(c.cluster_id).properties
    assert properties is not None
    return properties


def enable_key(c: Clients) -> None:
    version = str(c.kv.keys.get(RG, VAULT, "cmk").properties.key_uri_with_version).rsplit("/", 1)[-1]
    c.keys().update_key_properties("cmk", version, enabled=True)


def test_a_healthy_cluster_is_available_in_the_spec_shape(start: StartEmulator) -> None:
    c = start("healthy")
    status = c.resource_health.availability_statuses.get_by_resource(c.cluster_id)
    assert status.id == f"{c.cluster_id}/providers/Microsoft.ResourceHealth/availabilityStatuses/current"
    assert (status.name, status.type, status.location) == (
        "current",
        "Microsoft.ResourceHealth/AvailabilityStatuses",
        "westus2",
    )
    props = status.properties
    assert props is not None
    assert props.availability_state == "Available"
    assert props.title
    assert props.summary
    assert props.occured_time is not None
    assert props.reported_time is not None
    assert props.occured_time < props.reported_time
    assert current(c).occured_time == props.occured_time, "occuredTime holds while the state holds"
    log = c.emu.requests()[-1]
    assert log["kind"] == "resource-health"
    assert log["apiVersion"] == "2025-05-01"


def test_documented_mode_shows_inaccessible_and_unavailable_then_ready_and_available(
    start: StartEmulator,
) -> None:
    c = start("key-disabled")
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Inaccessible"
    broken = current(c)
    assert broken.availability_state == "Unavailable"
    assert broken.reason_type
    enable_key(c)
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Ready"
    fixed = current(c)
    assert fixed.availability_state == "Available"
    assert fixed.occured_time is not None
    assert broken.occured_time is not None
    assert fixed.occured_time > broken.occured_time, "the change of state has a fresh occuredTime"


def test_arm_enum_mode_keeps_ready_and_only_resource_health_tells(start: StartEmulator) -> None:
    c = start("key-disabled", status_mode="arm-enum")
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == "Ready"
    assert c.health()["status"] == "Ready"
    assert c.health()["availabilityState"] == "Unavailable"
    assert c.reasons() == ["key-disabled"]
    broken = current(c)
    assert broken.availability_state == "Unavailable"
    enable_key(c)
    fixed = current(c)
    assert fixed.availability_state == "Available"
    assert fixed.occured_time is not None
    assert broken.occured_time is not None
    assert fixed.occured_time > broken.occured_time


@pytest.mark.parametrize("mode", ["documented", "arm-enum"])
def test_while_revalidating_resource_health_stays_unavailable(start: StartEmulator, mode: str) -> None:
    c = start("key-disabled", status_mode=mode, revalidate_seconds=3600)
    enable_key(c)
    assert c.health()["canUseKey"] is True
    assert current(c).availability_state == "Unavailable"
    want = "Inaccessible" if mode == "documented" else "Ready"
    cluster = c.mongo.mongo_clusters.get(RG, c.cluster_name)
    assert cluster.properties is not None
    assert cluster.properties.cluster_status == want


def test_breaking_a_cluster_live_moves_occured_time(start: StartEmulator) -> None:
    c = start("healthy")
    before = current(c)

    def disable_key(state: State) -> None:
        vault = state.live_vault(VAULT)
        assert vault is not None
        key = vault.key("cmk")
        assert key is not None
        key.latest.enabled = False

    c.emu.mutate(disable_key)
    after = current(c)
    assert after.availability_state == "Unavailable"
    assert after.occured_time is not None
    assert before.occured_time is not None
    assert after.occured_time > before.occured_time
    assert after.occured_time <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_missing_cluster_is_404_as_arm_answers(start: StartEmulator) -> None:
    c = start("healthy")
    with pytest.raises(ResourceNotFoundError) as missing:
        c.resource_health.availability_statuses.get_by_resource(c.cluster_id.replace("cluster-", "nope-"))
    assert missing.value.error is not None
    assert missing.value.error.code == "ResourceNotFound"
    cluster_id = c.cluster_id
    c.mongo.mongo_clusters.begin_delete(RG, c.cluster_name, polling_interval=0).result()
    with pytest.raises(ResourceNotFoundError):
        c.resource_health.availability_statuses.get_by_resource(cluster_id)


@pytest.mark.parametrize("restriction", ["no-resource-health-read", "deny:resource-health"])
def test_the_operator_may_lack_resource_health_read(start: StartEmulator, restriction: str) -> None:
    c = start("healthy")
    c.emu.set_faults(restrictions=[restriction])
    with pytest.raises(HttpResponseError) as err:
        current(c)
    assert err.value.status_code == 403
    assert err.value.error is not None
    assert err.value.error.code == "AuthorizationFailed"
    assert err.value.error.message is not None
    assert "'Microsoft.ResourceHealth/availabilityStatuses/read'" in err.value.error.message
    c.emu.set_faults(restrictions=[])
    assert current(c).availability_state == "Available"


def test_the_estate_sets_the_status_mode_and_the_constructor_overrides_it(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "wizard/emulator/scenarios/key-disabled.yaml").read_text()
    path = tmp_path / "arm-enum.yaml"
    path.write_text("statusMode: arm-enum\n" + text, encoding="utf-8")

    def status(**kwargs: Any) -> str:
        with Emulator(str(path), **kwargs) as emu:
            return str(next(iter(emu.health()["clusters"].values()))["status"])

    assert status() == "Ready"
    assert status(status_mode="documented") == "Inaccessible"
    with pytest.raises(ValueError, match="status_mode"):
        Emulator("healthy", status_mode="loud")


def test_the_standalone_status_mode_reaches_the_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[str | None] = []

    class Recording(Emulator):
        def __init__(self, *args: Any, status_mode: str | None = None, **kwargs: Any) -> None:
            seen.append(status_mode)
            super().__init__(*args, status_mode=status_mode, **kwargs)

    monkeypatch.setattr(standalone, "Emulator", Recording)
    stop = threading.Event()
    stop.set()
    code = standalone.serve(
        "healthy",
        connection_file=str(tmp_path / "c.json"),
        status_mode="arm-enum",
        out=io.StringIO(),
        stop=stop,
    )
    assert (code, seen) == (0, ["arm-enum"])


def test_the_emulator_command_passes_status_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard import cli

    calls: list[dict[str, Any]] = []

    def serve(scenario: str, **kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(standalone, "serve", serve)
    args = cli.build_parser().parse_args(["emulator", "--scenario", "healthy", "--status-mode", "arm-enum"])
    assert cli._run_emulator(args) == 0
    assert calls[0]["status_mode"] == "arm-enum"
    default = cli.build_parser().parse_args(["emulator", "--scenario", "healthy"])
    assert default.status_mode is None, "unset: the estate's statusMode decides"
