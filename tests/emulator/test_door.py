"""The emulator's own door, over real HTTP on 127.0.0.1: admin endpoints need the token, bodies past
the cap are refused before anything reads them, and a standalone run makes its own token."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import until
from wizard.cli import main
from wizard.emulator import DEFAULT_TOKEN, Emulator
from wizard.emulator.listeners import MAX_BODY_BYTES
from wizard.emulator.standalone import serve


def _connection(emu: Emulator) -> http.client.HTTPSConnection:
    port = int(emu.arm_endpoint.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=emu.ca_path)
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)


def _call(
    emu: Emulator, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    conn = _connection(emu)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        conn.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("healthy", token="door-test-token") as started:
        yield started


@pytest.mark.parametrize("path", ["/_emulator/health", "/_emulator/requests", "/_emulator/locks"])
def test_admin_reads_need_the_token(emu: Emulator, path: str) -> None:
    assert _call(emu, "GET", path)[0] == 401
    assert _call(emu, "GET", path, headers=_bearer("someone-else"))[0] == 401
    assert _call(emu, "GET", path, headers=_bearer(DEFAULT_TOKEN))[0] == 401
    assert _call(emu, "GET", path, headers=_bearer(emu.token))[0] == 200


def test_an_anonymous_admin_write_changes_nothing(emu: Emulator) -> None:
    body = json.dumps({"restrictions": ["no-data-plane"], "faultRate": 1}).encode()
    status, error = _call(emu, "POST", "/_emulator/faults", body)
    assert (status, error["error"]["code"]) == (401, "AuthenticationFailed")
    assert emu.faults()["restrictions"] == []
    assert emu.faults()["faultRate"] == 0.0
    assert _call(emu, "POST", "/_emulator/faults", body, _bearer(emu.token))[0] == 200
    assert emu.faults()["restrictions"] == ["no-data-plane"]


@pytest.mark.parametrize("authorized", [False, True])
def test_a_body_past_the_cap_is_413_before_it_is_read(emu: Emulator, authorized: bool) -> None:
    """The client announces 200 MB and sends none of it: an answer at all proves nothing was read."""
    conn = _connection(emu)
    try:
        conn.putrequest("PUT", "/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/z")
        conn.putheader("Content-Length", str(200 * 1024 * 1024))
        if authorized:
            conn.putheader("Authorization", f"Bearer {emu.token}")
        conn.endheaders()
        response = conn.getresponse()
        error = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413
    assert error["error"]["code"] == "RequestEntityTooLarge"
    assert response.getheader("Connection") == "close"
    assert emu.requests() == []


def test_a_chunked_body_is_read_no_further_than_the_cap(emu: Emulator) -> None:
    port = int(emu.arm_endpoint.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=emu.ca_path)
    chunk = b"x" * (MAX_BODY_BYTES // 2 + 1)
    head = b"POST /_emulator/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(head + b"%x\r\n" % len(chunk) + chunk + b"\r\n" + b"%x\r\n" % len(chunk))
        answer = tls.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_body_within_the_cap_goes_on_to_authentication(emu: Emulator) -> None:
    status, error = _call(emu, "POST", "/_emulator/faults", b"{" + b" " * (MAX_BODY_BYTES - 2) + b"}")
    assert (status, error["error"]["code"]) == (401, "AuthenticationFailed")


@contextmanager
def standalone(target: Path, token: str | None = None) -> Iterator[dict[str, Any]]:
    """`serve` in a thread until the block ends; yields the connection file it wrote."""
    stop = threading.Event()
    thread = threading.Thread(
        target=serve,
        args=("healthy",),
        kwargs={"connection_file": str(target), "out": io.StringIO(), "stop": stop, "token": token},
    )
    thread.start()
    try:
        assert until(target.exists), "the connection file was not written"
        yield json.loads(target.read_text())
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_standalone_run_makes_its_own_token_and_keeps_the_file_private(tmp_path: Path) -> None:
    target = tmp_path / "emu.json"
    with standalone(target) as first:
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    with standalone(target) as second:
        pass
    assert first["token"] != second["token"]
    assert DEFAULT_TOKEN not in (first["token"], second["token"])
    assert len(first["token"]) >= 24


def test_a_given_token_is_the_one_written(tmp_path: Path) -> None:
    with standalone(tmp_path / "emu.json", token=DEFAULT_TOKEN) as data:
        assert data["token"] == DEFAULT_TOKEN


def test_the_connection_file_token_opens_the_door_and_reaches_the_emulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "emu.json"
    with standalone(target) as data:
        port = int(data["armEndpoint"].rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=data["caBundle"])
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        conn.request("GET", "/_emulator/health", headers=_bearer(data["token"]))
        assert conn.getresponse().status == 200
        conn.close()
        assert main(["diagnose", "--emulator", str(target), "--retry-total", "0"]) == 0
    out, err = capsys.readouterr()
    assert data["token"] not in out + err
