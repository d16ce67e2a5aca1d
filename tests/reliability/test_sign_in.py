"""Live sign-in, exercised only against 127.0.0.1: azure-identity's managed-identity credential is
pointed at a local listener through its documented IDENTITY_ENDPOINT / IDENTITY_HEADER settings.
With CMK_WIZARD_OFFLINE set (as in every test) that is the only live path allowed, and the run
stops right after the sign-in: nothing is ever sent to Azure."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from azure.core.credentials import AccessToken, TokenCredential

from tests.reliability.conftest import EmulatorMaker, assert_one_line, connection_path, run_cli
from wizard.azure.credentials import BoundedCredential, offline_identity_endpoint
from wizard.domain.errors import AuthFailed

CLUSTER = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.DocumentDB/mongoClusters/c1"
)


class SilentListener:
    """Accepts every connection on 127.0.0.1 and never answers, as a stalled metadata endpoint."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    listener = SilentListener()
    yield listener
    listener.close()


def _closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _identity_env(port: int, path_dir: Path) -> dict[str, str]:
    return {
        "IDENTITY_ENDPOINT": f"http://127.0.0.1:{port}/msi/token",
        "IDENTITY_HEADER": "test-header",
        "PATH": str(path_dir),
    }


def test_sign_in_is_bounded_by_the_timeout(silent_listener: SilentListener, tmp_path: Path) -> None:
    """Before: a metadata endpoint that accepts and never answers held the run for 300 s."""
    started = time.monotonic()
    result = run_cli(
        "diagnose",
        "--cluster",
        CLUSTER,
        "--retry-total",
        "0",
        "--timeout",
        "2",
        env=_identity_env(silent_listener.port, tmp_path),
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert_one_line(result.stderr)
    assert "within 2 s" in result.stderr
    assert elapsed < 20, elapsed
    assert silent_listener.accepted, "the credential never reached the loopback endpoint"


@pytest.mark.parametrize("command", ["diagnose", "fix", "watch"])
@pytest.mark.parametrize("az_installed", [True, False])
def test_a_failed_sign_in_is_one_line_with_what_to_do(
    tmp_path: Path, command: str, az_installed: bool
) -> None:
    """Before: 28 lines of azure-identity's chain (56 for watch), then `fix` said 'nothing to fix'."""
    if az_installed:
        fake_az = tmp_path / "az"
        fake_az.write_text("#!/bin/sh\nexit 1\n")
        fake_az.chmod(0o755)
    extra = ["--all", "--yes", "--audit-log", str(tmp_path / "audit.jsonl")] if command == "fix" else []
    started = time.monotonic()
    result = run_cli(
        command,
        "--cluster",
        CLUSTER,
        "--retry-total",
        "0",
        *extra,
        env=_identity_env(_closed_port(), tmp_path),
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert_one_line(result.stderr)
    assert "managed identity" in result.stderr
    assert ("az login" in result.stderr) is az_installed
    assert ("--auth device-code" in result.stderr) is not az_installed
    assert result.stdout == ""
    assert time.monotonic() - started < 30


def test_a_sign_in_that_works_still_sends_nothing_to_azure_offline(tmp_path: Path) -> None:
    class TokenEndpoint(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {
                    "access_token": "loopback-test-token",
                    "expires_on": str(int(time.time()) + 3600),
                    "resource": "https://management.azure.com",
                    "token_type": "Bearer",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads the CLI's stderr, not the server's."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_cli(
            "diagnose",
            "--cluster",
            CLUSTER,
            "--retry-total",
            "0",
            env=_identity_env(server.server_address[1], tmp_path),
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr)
    assert "signed in" in result.stderr
    assert "CMK_WIZARD_OFFLINE" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"IDENTITY_ENDPOINT": "http://169.254.169.254/metadata/identity", "IDENTITY_HEADER": "x"},
        {"MSI_ENDPOINT": "http://example.invalid:80/token"},
        {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/t", "MSI_ENDPOINT": "http://10.0.0.1:9/t"},
        {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9", "AZURE_FEDERATED_TOKEN_FILE": "/t"},
        {},
    ],
)
def test_offline_allows_no_sign_in_beyond_loopback(env: dict[str, str]) -> None:
    assert offline_identity_endpoint(env) is None


def test_a_wrong_emulator_token_gets_emulator_advice_and_watch_stops_at_once(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    """Before: 'run `az login`' for a token only the emulator could refuse, and watch polled on."""
    emulator = running_emulator("key-expired", token="the-emulator-was-started-with-this")
    conn = connection_path(tmp_path, "key-expired")
    diagnosed = run_cli("diagnose", "--emulator", conn, "--retry-total", "0")
    assert diagnosed.returncode == 3
    assert "CMK_WIZARD_EMULATOR_TOKEN" in diagnosed.stdout
    assert "az login" not in diagnosed.stdout + diagnosed.stderr
    before = len(emulator.requests())
    watched = run_cli("watch", "--emulator", conn, "--retry-total", "0", "--wait-timeout", "600", timeout=60)
    assert watched.returncode == 3, watched.stdout + watched.stderr
    assert "CMK_WIZARD_EMULATOR_TOKEN" in watched.stdout
    assert len(emulator.requests()) - before == 1  # one refused poll, then it stopped
    fixed = run_cli("fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(tmp_path / "a.jsonl"))
    assert fixed.returncode == 3
    assert_one_line(fixed.stderr)
    assert "nothing to fix" not in fixed.stdout


class _GivesUpAtTheBound:
    """A credential whose own read timeout (the same bound as the deadline) ends it first."""

    def __init__(self, clock: list[float], bound: float) -> None:
        self.clock, self.bound = clock, bound

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.clock[0] += self.bound  # the read timeout ran its course
        raise TimeoutError("read timed out")


def test_a_sign_in_its_own_read_timeout_ended_is_said_as_the_bound() -> None:
    """Before: when the inner read timeout (also --timeout) fired just before the deadline, the line
    said only "could not sign in", and the test above failed on a loaded machine."""
    now = [100.0]
    inner = cast(TokenCredential, _GivesUpAtTheBound(now, 2.0))
    credential = BoundedCredential(inner, auth="offline", deadline=2.0, clock=lambda: now[0])
    with pytest.raises(AuthFailed, match=r"sign-in did not finish within 2 s \(--timeout\)"):
        credential.get_token("https://management.azure.com/.default")
