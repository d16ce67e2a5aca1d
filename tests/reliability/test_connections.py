"""Connections a diagnosis opens, counted by the emulator: one pool per host shared by every
management client, dialled early, never a second connection where an idle one will do. Also
guards the urllib3 internals wizard/azure/transport.py leans on (`_new_conn`, `_get_conn`,
`_put_conn`, `pool_classes_by_scheme`): if an upgrade moves them, these counts change."""

from __future__ import annotations

import gc
import json
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import until
from tests.reliability.conftest import REPO, EmulatorMaker, connection_path
from wizard.azure.clients import EARLY_CONNECTIONS, ClientFactory, StaticTokenCredential
from wizard.azure.transport import EarlySockets, SharedTransport, proxied
from wizard.cli import main
from wizard.cli.collector import collector_paused
from wizard.cli.wiring import EmulatorBackend, LiveBackend, Options
from wizard.emulator import Emulator


def _diagnose(connection_file: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["diagnose", "--emulator", connection_file, "--format", "json"])
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 1, out
    return out


def test_one_diagnosis_opens_no_more_arm_connections_than_its_widest_stage(
    running_emulator: EmulatorMaker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = running_emulator("multi-fault")
    out = _diagnose(connection_path(tmp_path, "multi-fault"), capsys)
    assert out["verdict"] == "unhealthy"
    accepted = emulator.connections_accepted()
    # the first read waits for a prewarmed connection instead of dialling its own (it was 5 or 6)
    assert 1 <= accepted["arm"] <= EARLY_CONNECTIONS, accepted
    assert all(count == 0 for host, count in accepted.items() if host != "arm"), accepted
    assert len(emulator.requests()) == 7


def _factory(emulator: Emulator, transport: SharedTransport, ca_bundle: str | None = "") -> ClientFactory:
    return ClientFactory(
        StaticTokenCredential(emulator.token),
        emulator.connection["subscriptionId"],
        arm_endpoint=emulator.arm_endpoint,
        ca_bundle=emulator.ca_path if ca_bundle == "" else ca_bundle,
        transport=transport,
    )


def _read_cluster(factory: ClientFactory, cluster_id: str) -> None:
    parts = cluster_id.split("/")
    factory.mongo(parts[2]).mongo_clusters.get(parts[4], parts[8])


def test_a_connection_idle_since_its_handshake_is_reused_once_the_session_tickets_arrive(
    running_emulator: EmulatorMaker,
) -> None:
    emulator = running_emulator("healthy")
    transport = SharedTransport()
    factory = _factory(emulator, transport)
    try:
        assert transport.open_connections(emulator.arm_endpoint, 1, emulator.ca_path, 5.0) == 1
        prepared = requests.Request("GET", emulator.arm_endpoint + "/").prepare()
        adapter = transport.session().get_adapter(prepared.url)
        pool = adapter.get_connection_with_tls_context(prepared, emulator.ca_path)
        (idle,) = [c for c in pool.pool.queue if c is not None]
        # TLS 1.3 session tickets come after the handshake: urllib3 alone takes the readable socket
        # for a dropped connection and dials another
        assert until(lambda: bool(select.select([idle.sock], [], [], 0)[0]), 5.0)
        _read_cluster(factory, emulator.connection["clusters"][0])
        assert emulator.connections_accepted()["arm"] == 1
    finally:
        factory.close()


def test_prewarmed_connections_land_in_the_pool_a_request_picks_when_the_ca_comes_from_the_environment(
    running_emulator: EmulatorMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = running_emulator("healthy")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)  # as live Azure behind a corporate CA
    transport = SharedTransport()
    factory = _factory(emulator, transport, ca_bundle=None)
    try:
        assert transport.open_connections(emulator.arm_endpoint, 1, True, 5.0) == 1
        _read_cluster(factory, emulator.connection["clusters"][0])
        assert emulator.connections_accepted()["arm"] == 1
    finally:
        factory.close()


def test_the_pool_connects_over_the_early_sockets_and_still_verifies_tls(
    running_emulator: EmulatorMaker,
) -> None:
    emulator = running_emulator("healthy")
    early = EarlySockets(emulator.arm_endpoint, 2, 5.0)
    transport = SharedTransport(early)
    try:
        assert until(lambda: emulator.connections_accepted()["arm"] == 2, 5.0)
        # not the emulator's CA: the handshake over an early socket fails as any other would
        assert transport.open_connections(emulator.arm_endpoint, 1, True, 5.0) == 0
        assert transport.open_connections(emulator.arm_endpoint, 1, emulator.ca_path, 5.0) == 1
        assert early.dialled == 2
        assert emulator.connections_accepted()["arm"] == 2  # no socket of urllib3's own
    finally:
        transport.close()


def test_an_early_socket_is_only_for_its_own_host() -> None:
    early = EarlySockets("https://127.0.0.1:9", 0, 1.0)
    assert early.take("127.0.0.2", 9) is None
    assert early.take("127.0.0.1", 9) is None  # none dialled: the pool dials as usual
    early.close()


def test_nothing_is_dialled_early_through_a_proxy(
    running_emulator: EmulatorMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = running_emulator("healthy")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert proxied(emulator.arm_endpoint)
    backend = EmulatorBackend(Options(), connection_file=connection_path(tmp_path, "healthy"))
    backend.open_early()
    assert backend._early is None
    assert SharedTransport().open_connections(emulator.arm_endpoint, 2, emulator.ca_path, 5.0) == 0
    assert emulator.connections_accepted()["arm"] == 0


def test_live_azure_switched_off_dials_nothing() -> None:
    backend = LiveBackend(Options())
    backend.open_early()
    assert backend._early is None


def test_diagnose_pauses_the_collector_and_hands_it_back_to_an_in_process_caller() -> None:
    frozen = gc.get_freeze_count()
    with collector_paused("diagnose", whole_process=False):
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    with collector_paused("tui", whole_process=True):
        assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def _probe(code: str) -> str:
    """What a fresh interpreter running `code` prints (from the repository, so it imports this tree)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd=REPO
    ).stdout


def test_the_diagnose_path_imports_no_ui_no_emulator_and_no_sign_in_library(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    running_emulator("multi-fault")
    probe = (
        "import sys, io, contextlib\n"
        "from wizard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['diagnose', '--emulator', {connection_path(tmp_path, 'multi-fault')!r}, '-o', 'json'])\n"
        "print('\\n'.join(sys.modules))\n"
    )
    out = _probe(probe).split()
    unwanted = (
        "textual",
        "screens",
        "wizard.emulator",
        "trustme",
        "yaml",
        "jmespath",
        "cryptography",
        "azure.identity",
        "msal",
        "azure.keyvault",
    )
    loaded = sorted(m for m in out if m in unwanted or m.startswith(tuple(f"{u}." for u in unwanted)))
    assert loaded == []
    assert "azure.mgmt.mongocluster" in out  # the probe really diagnosed


def test_arm_is_dialled_before_the_http_stack_and_the_sdk_are_imported(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    running_emulator("multi-fault")
    probe = (
        "import sys, io, contextlib\n"
        "import wizard.azure.transport as transport\n"
        "assert not [m for m in ('requests', 'urllib3', 'azure') if m in sys.modules]\n"
        "seen = []\n"
        "dial = transport.EarlySockets.__init__\n"
        "def spy(self, *args, **kwargs):\n"
        "    seen.append(sorted(m for m in ('requests', 'urllib3', 'azure.core') if m in sys.modules))\n"
        "    dial(self, *args, **kwargs)\n"
        "transport.EarlySockets.__init__ = spy\n"
        "from wizard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['diagnose', '--emulator', {connection_path(tmp_path, 'multi-fault')!r}])\n"
        "print(seen)\n"
    )
    assert _probe(probe).split() == ["[[]]"]
