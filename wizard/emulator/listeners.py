"""The HTTPS listeners: a CA made at start-up, one TLS server on 127.0.0.1 for ARM and one per vault."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from wizard.emulator.wire import Response

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body the emulator reads (1 MiB): checked before authentication, so an
anonymous client cannot make it hold more than this (a bigger body is 413 and the connection closes)."""


class Answerer(Protocol):
    """What the listeners hand each request to; looked up per request, so a wrapped `handle` takes effect."""

    def handle(
        self, host: str, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> Response | None:
        """Answer one request (None: drop the connection)."""
        ...


class _Server(ThreadingHTTPServer):
    """One HTTPS listener (`host`: "arm" or a vault name) that tracks connections to close on stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answerer: Answerer, host: str, port: int) -> None:
        self.answerer, self.host = answerer, host
        self.open_connections: set[socket.socket] = set()
        self.accepted = 0
        """Connections accepted so far (tests count how many a client opens per host)."""
        self._accepted_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped or half-open client connections are normal; stay quiet."""

    def count_accepted(self) -> None:
        """One more connection accepted (handlers run on threads of their own)."""
        with self._accepted_lock:
            self.accepted += 1


class _Handler(BaseHTTPRequestHandler):
    """Parses one request, hands it to the answerer, writes the answer with Content-Length, keep-alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        """TLS handshake here, in the connection's own thread, not in the accept loop."""
        self.server.open_connections.add(self.request)
        self.server.count_accepted()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def finish(self) -> None:
        """Forget the connection."""
        self.server.open_connections.discard(self.request)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """The emulator keeps its own request log; nothing goes to stderr."""

    def _body(self) -> bytes | None:
        """The body, or None when it would pass MAX_BODY_BYTES (then no more than the cap was read)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
                total += size
                if total > MAX_BODY_BYTES:
                    return None
                if size == 0:
                    self.rfile.readline(64)
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(64)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        body = self._body()
        if body is None:
            self.close_connection = True
            response: Response | None = too_large()
        else:
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = self.server.answerer.handle(self.server.host, self.command, self.path, headers, body)
        if response is None:
            self.close_connection = True
            return
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = do_HEAD = _handle


def too_large() -> Response:
    """413 for a body past the cap, answered before anything else looks at the request."""
    return Response(
        413,
        {
            "error": {
                "code": "RequestEntityTooLarge",
                "message": f"The request body is larger than the emulator's limit of {MAX_BODY_BYTES} bytes.",
            }
        },
        {"Connection": "close"},
    )


class Listeners:
    """Owns the CA file and the listeners: `start` opens them all, `stop` closes them and every connection."""

    def __init__(self, answerer: Answerer, port: int, stopping: threading.Event) -> None:
        self._answerer = answerer
        self._port = port
        self._stopping = stopping
        self.servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._dir: str | None = None
        self._ca_path = ""
        self._context: ssl.SSLContext | None = None

    def start(self, vault_names: list[str]) -> None:
        """Make the CA and certificate, open the ARM listener and one listener per vault (once)."""
        if self.servers:
            return
        import trustme

        ca = trustme.CA(organization_name="cmk-wizard emulator")
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self._dir = tempfile.mkdtemp(prefix="cmk-emulator-")
        self._ca_path = os.path.join(self._dir, "ca.pem")
        ca.cert_pem.write_to_path(self._ca_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._context = context
        self._stopping.clear()
        try:
            self._listen("arm", self._port, context)
            for name in vault_names:
                self._listen(name.lower(), 0, context)
        except BaseException:
            self.stop()
            raise

    def add_vault(self, name: str) -> None:
        """Open the data-plane listener of a vault created while the emulator runs (once)."""
        if self._context is not None and "arm" in self.servers and name.lower() not in self.servers:
            self._listen(name.lower(), 0, self._context)

    def _listen(self, host: str, port: int, context: ssl.SSLContext) -> None:
        server = _Server(self._answerer, host, port)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self.servers[host] = server
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"cmk-emulator-{host}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Close every listener and open connection, and remove the CA file."""
        self._stopping.set()
        servers, self.servers = list(self.servers.values()), {}
        closers = [threading.Thread(target=s.shutdown, daemon=True) for s in servers]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join(timeout=5)
        for server in servers:
            for conn in list(server.open_connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def connections_accepted(self) -> dict[str, int]:
        """Connections accepted so far, by host ("arm" or a vault name)."""
        return {host: server.accepted for host, server in self.servers.items()}

    def require_started(self) -> None:
        """RuntimeError unless the ARM listener is open."""
        if "arm" not in self.servers:
            raise RuntimeError("the emulator is not running: call start() first")

    @property
    def arm_endpoint(self) -> str:
        """https://127.0.0.1:<ARM port>."""
        self.require_started()
        return f"https://127.0.0.1:{self.servers['arm'].server_address[1]}"

    def vault_endpoint(self, name: str) -> str:
        """https://127.0.0.1:<port> of a vault's data plane."""
        self.require_started()
        return f"https://127.0.0.1:{self.servers[name.lower()].server_address[1]}"

    @property
    def ca_path(self) -> str:
        """The PEM file of the CA that signed the listeners' certificate."""
        self.require_started()
        return self._ca_path
