"""`hold` keeps requests in flight for as long as a test needs; `release` answers them."""

from __future__ import annotations

import threading

from azure.core.exceptions import ServiceResponseError

from tests.emulator.conftest import Clients, StartEmulator
from tests.reliability.conftest import wait_until


def _get_cluster_in_background(c: Clients) -> tuple[threading.Thread, dict[str, object]]:
    box: dict[str, object] = {}

    def call() -> None:
        try:
            group = c.cluster_id.split("/")[4]
            cluster = c.mongo.mongo_clusters.get(group, c.cluster_name)
            assert cluster.properties is not None
            box["status"] = cluster.properties.cluster_status
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    return thread, box


def test_held_requests_wait_until_released(start: StartEmulator) -> None:
    c = start("key-expired")
    c.emu.hold()
    thread, box = _get_cluster_in_background(c)
    wait_until(lambda: c.emu.held() == 1, deadline_s=5, what="the request to be held")
    assert c.emu.requests() == []
    assert c.emu.health()["clusters"]  # the admin side still answers while held
    c.emu.release()
    thread.join(timeout=5)
    assert box == {"status": "Inaccessible"}
    assert c.emu.held() == 0
    assert [r["kind"] for r in c.emu.requests()] == ["clusters"]


def test_stopping_drops_held_requests(start: StartEmulator) -> None:
    c = start("key-expired")
    c.emu.hold()
    thread, box = _get_cluster_in_background(c)
    wait_until(lambda: c.emu.held() == 1, deadline_s=5, what="the request to be held")
    c.emu.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert isinstance(box.get("error"), ServiceResponseError), box


def test_hold_matching_holds_only_the_requests_it_names(start: StartEmulator) -> None:
    c = start("key-expired")
    c.emu.hold_matching(lambda host, method, path: "/mongoclusters/" in path.lower())
    thread, box = _get_cluster_in_background(c)
    wait_until(lambda: c.emu.held() == 1, deadline_s=5, what="the cluster read to be held")
    group = c.cluster_id.split("/")[4]
    identity = c.msi.user_assigned_identities.get(group, "id-cmk-demo")
    assert identity.principal_id, "a request the predicate does not name is answered while the other waits"
    assert thread.is_alive()
    c.emu.release()
    thread.join(timeout=5)
    assert box == {"status": "Inaccessible"}
    assert [r["kind"] for r in c.emu.requests()][-1] == "clusters"
