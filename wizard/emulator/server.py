"""The Emulator: HTTPS listeners (ARM + one per vault), auth, faults, the request log and admin endpoints."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from wizard.emulator import arm, dataplane
from wizard.emulator.estate import Estate, load_estate, restriction_problem
from wizard.emulator.health import REASONS, refresh
from wizard.emulator.model import State
from wizard.emulator.wire import Context, HttpError, Operation, Request, Response, arm_error, kv_error

DEFAULT_TOKEN = "fake-emulator-token"
FAULT_KINDS = ("429", "503", "timeout", "lost-write")
_T = TypeVar("_T")


class _Server(ThreadingHTTPServer):
    """One HTTPS listener (`host`: "arm" or a vault name) that tracks connections to close on stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        self.emulator, self.host = emulator, host
        self.open_connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped or half-open client connections are normal; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    """Parses one request, hands it to the emulator, writes the answer with Content-Length, keep-alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        """TLS handshake here, in the connection's own thread, not in the accept loop."""
        self.server.open_connections.add(self.request)
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

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.emulator.handle(self.server.host, self.command, self.path, headers, body)
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


class Emulator:
    """A local Azure (ARM + Key Vault data plane) over HTTPS on 127.0.0.1, serving one estate."""

    def __init__(
        self,
        estate: Estate | str,
        *,
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        revalidate_seconds: float = 0.0,
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        seed: int = 0,
    ) -> None:
        self.estate = load_estate(estate) if isinstance(estate, str) else estate
        self._state: State = self.estate.build(time.time())
        self._lock = threading.RLock()
        self._port = port
        self._token = token
        self.revalidate_seconds = revalidate_seconds
        self._latency_ms, self._fault_rate = 0, 0.0
        self._fault_kinds: tuple[str, ...] = ("429", "503")
        self._fault_limit: int | None = None
        self._timeout_seconds = 30.0
        self.set_faults(latency_ms=latency_ms, fault_rate=fault_rate)
        self._fault_rng = random.Random(f"faults|{seed}|{self.estate.name}")
        self._id_rng = random.Random(f"ids|{seed}|{self.estate.name}")
        self._operations: dict[str, Operation] = {}
        self._log: list[dict[str, Any]] = []
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._answering = threading.Event()
        self._answering.set()
        self._held = 0
        self._dir: str | None = None
        self._ca_path = ""

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Make the CA and certificate, open the ARM listener and one listener per vault."""
        if self._servers:
            return self
        import trustme

        ca = trustme.CA(organization_name="cmk-wizard emulator")
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self._dir = tempfile.mkdtemp(prefix="cmk-emulator-")
        self._ca_path = os.path.join(self._dir, "ca.pem")
        ca.cert_pem.write_to_path(self._ca_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._stopping.clear()
        try:
            self._listen("arm", self._port, context)
            for vault in self._state.vaults:
                self._listen(vault.name.lower(), 0, context)
        except BaseException:
            self.stop()
            raise
        return self

    def _listen(self, host: str, port: int, context: ssl.SSLContext) -> None:
        server = _Server(self, host, port)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._servers[host] = server
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
        servers, self._servers = list(self._servers.values()), {}
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

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what clients need ----------------------------------------------------------------------

    def _require_started(self) -> None:
        if "arm" not in self._servers:
            raise RuntimeError("the emulator is not running: call start() first")

    @property
    def arm_endpoint(self) -> str:
        """https://127.0.0.1:<ARM port>."""
        self._require_started()
        return f"https://127.0.0.1:{self._servers['arm'].server_address[1]}"

    def vault_endpoint(self, name: str) -> str:
        """https://127.0.0.1:<port> of a vault's data plane."""
        self._require_started()
        return f"https://127.0.0.1:{self._servers[name.lower()].server_address[1]}"

    @property
    def ca_path(self) -> str:
        """The PEM file of the CA that signed the listeners' certificate."""
        self._require_started()
        return self._ca_path

    @property
    def token(self) -> str:
        """The bearer token the emulator accepts."""
        return self._token

    @property
    def connection(self) -> dict[str, Any]:
        """The DESIGN.md connection-file JSON; clusters[0] is the scenario's own cluster."""
        self._require_started()
        with self._lock:
            return {
                "armEndpoint": self.arm_endpoint,
                "caBundle": self._ca_path,
                "tenantId": self._state.tenant_id,
                "subscriptionId": self._state.subscription_id,
                "clusters": [c.id for c in self._state.clusters],
                "vaults": {
                    v.name: self.vault_endpoint(v.name)
                    for v in self._state.vaults
                    if v.name.lower() in self._servers
                },
            }

    def write_connection_file(self, path: str | os.PathLike[str]) -> None:
        """Write the connection file atomically (temporary file in the same folder, then rename)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.connection, out, indent=2)
                out.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- inspection and control -----------------------------------------------------------------

    def _refresh(self) -> dict[str, Any]:
        return refresh(self._state, time.time(), time.monotonic(), self.revalidate_seconds)

    def health(self) -> dict[str, Any]:
        """The emulator's own verdict per cluster (same as GET /_emulator/health)."""
        with self._lock:
            verdicts = self._refresh()
            return {
                "clusters": {
                    c.id: {
                        "status": c.status,
                        "provisioningState": c.provisioning_state,
                        "canUseKey": verdicts[c.id].can_use_key,
                        "reasons": [{"code": r, "message": REASONS[r]} for r in verdicts[c.id].reasons],
                    }
                    for c in self._state.clusters
                }
            }

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log entries with seq > since (admin calls are not logged)."""
        with self._lock:
            return [dict(r) for r in self._log if r["seq"] > since]

    def faults(self) -> dict[str, Any]:
        """The current fault settings."""
        with self._lock:
            return {
                "latencyMs": self._latency_ms,
                "faultRate": self._fault_rate,
                "faultKinds": list(self._fault_kinds),
                "faultLimit": self._fault_limit,
                "restrictions": sorted(self._state.restrictions),
            }

    def set_faults(
        self,
        latency_ms: int | None = None,
        fault_rate: float | None = None,
        restrictions: list[str] | set[str] | tuple[str, ...] | None = None,
        *,
        fault_kinds: list[str] | tuple[str, ...] | None = None,
        fault_limit: int | None = -1,
    ) -> dict[str, Any]:
        """Change latency, faults and operator restrictions live; ValueError names the bad value."""
        if latency_ms is not None and (
            isinstance(latency_ms, bool) or not isinstance(latency_ms, int) or not 0 <= latency_ms <= 60_000
        ):
            raise ValueError(f"latencyMs must be an integer from 0 to 60000, got {latency_ms!r}")
        if fault_rate is not None and (
            isinstance(fault_rate, bool)
            or not isinstance(fault_rate, int | float)
            or not 0.0 <= fault_rate <= 1.0
        ):
            raise ValueError(f"faultRate must be a number from 0 to 1, got {fault_rate!r}")
        if restrictions is not None:
            for r in restrictions:
                problem = restriction_problem(r)
                if problem is not None:
                    raise ValueError(problem)
        if fault_kinds is not None and (not fault_kinds or any(k not in FAULT_KINDS for k in fault_kinds)):
            raise ValueError(f"faultKinds must be a non-empty list of {', '.join(FAULT_KINDS)}")
        if (
            fault_limit is not None
            and fault_limit != -1
            and (isinstance(fault_limit, bool) or not isinstance(fault_limit, int) or fault_limit < 0)
        ):
            raise ValueError(f"faultLimit must be a non-negative integer or null, got {fault_limit!r}")
        with self._lock:
            if latency_ms is not None:
                self._latency_ms = latency_ms
            if fault_rate is not None:
                self._fault_rate = float(fault_rate)
            if restrictions is not None:
                self._state.restrictions = set(restrictions)
            if fault_kinds is not None:
                self._fault_kinds = tuple(fault_kinds)
            if fault_limit != -1:
                self._fault_limit = fault_limit
        return self.faults()

    def locks(self) -> list[dict[str, str]]:
        """The management locks in force (same as GET /_emulator/locks)."""
        with self._lock:
            return [
                {"name": lock.name, "scope": lock.scope, "level": lock.level, "id": lock.id}
                for lock in self._state.locks
            ]

    def remove_lock(self, name_or_scope: str) -> list[dict[str, str]]:
        """The owner removed the lock(s) with this name, scope or id: the locks left (KeyError if none)."""
        with self._lock:
            self._state.remove_lock(name_or_scope)
        return self.locks()

    def hold(self) -> None:
        """Stop answering until `release`, as a stalled Azure would: tests keep work in flight."""
        self._answering.clear()

    def release(self) -> None:
        """Answer the held requests and every later one."""
        self._answering.set()

    def held(self) -> int:
        """How many requests are waiting on `hold` right now."""
        with self._lock:
            return self._held

    def _wait_while_held(self) -> bool:
        """Block while held; False when the emulator stops meanwhile (the connection is dropped)."""
        if self._answering.is_set():
            return True
        with self._lock:
            self._held += 1
        try:
            while not self._answering.wait(0.02):
                if self._stopping.is_set():
                    return False
            return True
        finally:
            with self._lock:
                self._held -= 1

    def mutate(self, fn: Callable[[State], _T]) -> _T:
        """Run fn(state) under the lock: trainers and tests break (or fix) things while it runs."""
        with self._lock:
            result = fn(self._state)
            self._refresh()
            return result

    # -- request handling -----------------------------------------------------------------------

    def _context(self) -> Context:
        return Context(
            self._state,
            time.time(),
            self.arm_endpoint,
            self.vault_endpoint,
            self._operations,
            lambda: str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4)),
            lambda: uuid.UUID(int=self._id_rng.getrandbits(128), version=4).hex,
        )

    def handle(
        self, host: str, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> Response | None:
        """Answer one request (None: drop the connection, the 'timeout' fault)."""
        started = time.perf_counter()
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if host == "arm" and path.startswith("/_emulator/"):
            return self._admin(method, path, query, body)
        if not self._wait_while_held():
            return None
        request = Request(method, path, query, headers, body, host)
        kind, response = self._answer(request)
        latency = self._latency_ms
        if latency and self._stopping.wait(latency / 1000.0):
            return None
        is_write = method in ("PUT", "PATCH", "DELETE") or (method == "POST" and kind != "resource-graph")
        with self._lock:
            self._log.append(
                {
                    "seq": len(self._log) + 1,
                    "method": method,
                    "path": path,
                    "status": response.status if response else 0,
                    "latencyMs": round((time.perf_counter() - started) * 1000.0, 3),
                    "host": host,
                    "write": is_write,
                    "kind": kind,
                    "apiVersion": query.get("api-version"),
                    "anonymous": "authorization" not in headers,
                }
            )
        return response

    def _fault(self, host: str, request: Request) -> Response | str | None:
        """A fault to inject for this request, if the dice say so (deterministic, seeded).

        `lost-write` applies only to authenticated writes: the write is carried out, then the
        connection drops before the answer, as when Azure took a write and the reply was lost.
        """
        authenticated_write = (
            request.method in ("PUT", "PATCH", "DELETE", "POST")
            and bool(request.headers.get("authorization"))
            and not request.path.endswith("/resources")
        )
        with self._lock:
            if self._fault_rate <= 0.0 or self._fault_limit == 0:
                return "none"
            kinds = [k for k in self._fault_kinds if k != "lost-write" or authenticated_write]
            if not kinds or self._fault_rng.random() >= self._fault_rate:
                return "none"
            kind = self._fault_rng.choice(kinds)
            if self._fault_limit is not None:
                self._fault_limit -= 1
        if kind == "lost-write":
            return "lost-write"
        if kind == "timeout":
            self._stopping.wait(self._timeout_seconds)
            return None
        if kind == "429":
            if host == "arm":
                return arm_error(
                    429,
                    "TooManyRequests",
                    "The request is being throttled as the limit has been "
                    "reached for operation type - Read_ObservationWindow_00:05:00. For more details, "
                    "see https://aka.ms/armthrottling",
                    {"Retry-After": "1"},
                )
            return kv_error(
                429,
                "Throttled",
                "Request was not allowed because the vault's request rate limit was exceeded.",
                headers={"Retry-After": "1"},
            )
        return arm_error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry.",
            {"Retry-After": "1"},
        )

    def _answer(self, request: Request) -> tuple[str, Response | None]:
        fault = self._fault(request.host, request)
        if fault is None:
            return "fault", None
        if isinstance(fault, Response):
            return "fault", fault
        kind, response = (
            self._arm(request) if request.host == "arm" else ("data-plane", self._data_plane(request))
        )
        return (kind, None) if fault == "lost-write" else (kind, response)

    def _arm(self, request: Request) -> tuple[str, Response]:
        routed = arm.match(request.path)
        if routed is None:
            return "unknown", arm_error(
                404, "NotFound", f"The emulator has no route for {request.method} {request.path}."
            )
        kind, handlers, params = routed
        auth = request.headers.get("authorization", "")
        if not auth:
            return kind, arm_error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        if auth != f"Bearer {self._token}":
            return kind, arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        handler = handlers.get(request.method)
        if handler is None:
            return kind, arm_error(
                405, "MethodNotAllowed", f"{request.method} is not supported on this route."
            )
        with self._lock:
            restrictions = self._state.restrictions
            denied = (
                f"deny:{kind}" in restrictions
                or (
                    kind == "role-assignments"
                    and request.method == "GET"
                    and "no-role-assignment-read" in restrictions
                )
                or self._in_hidden_subscription(request.path)
            )
            if denied:
                action = arm.action_for(kind, request.method, request.path)
                scope = params.get("scope") or request.path
                return kind, arm_error(
                    403,
                    "AuthorizationFailed",
                    f"The client 'operator@emulator.local' with object id "
                    f"'{self._operator_oid()}' does not have authorization to perform action "
                    f"'{action}' over scope '{scope}' or the scope is invalid. If access was "
                    "recently granted, please refresh your credentials.",
                )
            locked = self._lock_refusal(kind, request)
            if locked is not None:
                return kind, locked
            self._refresh()
            context = self._context()
            try:
                response = handler(context, request, params)
            except HttpError as exc:
                response = exc.response
            self._refresh()
        return kind, response

    def _in_hidden_subscription(self, path: str) -> bool:
        """A path under a subscription `hide-subscription:` hides: the operator has no role there."""
        parts = path.split("/")
        return (
            len(parts) > 2
            and parts[1].lower() == "subscriptions"
            and parts[2].lower() in self._state.hidden_subscriptions()
        )

    def _lock_refusal(self, kind: str, request: Request) -> Response | None:
        """409 ScopeLocked before anything changes; role assignments pass (UNVERIFIED), graph POSTs read."""
        if request.method in ("GET", "HEAD") or kind in ("role-assignments", "resource-graph"):
            return None
        scope = request.path.rstrip("/")
        locks = [lock for lock in self._state.locks_over(scope) if lock.refuses(request.method)]
        if not locks:
            return None
        operation = "delete" if request.method == "DELETE" else "write"
        scopes = ", ".join(dict.fromkeys(f"'{lock.scope}'" for lock in locks))
        return arm_error(
            409,
            "ScopeLocked",
            f"The scope '{scope}' cannot perform {operation} operation because following scope(s) are "
            f"locked: {scopes}. Please remove the lock and try again.",
        )

    def _operator_oid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"operator|{self._state.tenant_id}"))

    def _data_plane(self, request: Request) -> Response:
        with self._lock:
            vault = self._state.vault(request.host)
            if vault is None or not vault.live:
                return kv_error(
                    404,
                    "VaultNotFound",
                    f"The vault '{request.host}' does not exist or is "
                    "soft-deleted (its DNS name would not resolve in Azure).",
                )
            tenant = vault.tenant_id
        auth = request.headers.get("authorization", "")
        challenge = {
            "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{tenant}", '
            'resource="https://vault.azure.net"'
        }
        if not auth:
            return kv_error(
                401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", headers=challenge
            )
        if auth != f"Bearer {self._token}":
            return kv_error(401, "Unauthorized", "AKV10032: Invalid issuer or token.", headers=challenge)
        routed = dataplane.match(request.path)
        if routed is None:
            return kv_error(404, "NotFound", f"The emulator has no Key Vault route for {request.path}.")
        handlers, params = routed
        handler = handlers.get(request.method)
        if handler is None:
            return kv_error(405, "MethodNotAllowed", f"{request.method} is not supported on this route.")
        with self._lock:
            denied = self._data_plane_denial(request)
            if denied is not None:
                return denied
            self._refresh()
            try:
                response = handler(self._context(), request, params)
            except HttpError as exc:
                response = exc.response
            self._refresh()
            return response

    def _data_plane_denial(self, request: Request) -> Response | None:
        """Why the OPERATOR's data-plane call is refused, if it is (never about the cluster's identity)."""
        vault = self._state.live_vault(request.host)
        assert vault is not None
        restrictions = self._state.restrictions
        where = f"Vault: {vault.name};location={vault.location}"
        caller = f"Caller: appid=04b07795-8ddb-461a-bbee-02f9e1bf7b46;oid={self._operator_oid()}"
        if vault.public_network_access.lower() == "disabled":
            return kv_error(
                403,
                "Forbidden",
                "Public network access is disabled and request is not from a trusted "
                f"service nor via an approved private link.\r\n{caller}\r\n{where}",
                "ForbiddenByConnection",
            )
        if "operator-ip-blocked" in restrictions:
            return kv_error(
                403,
                "Forbidden",
                "Client address is not authorized and caller is not a trusted "
                f"service.\r\nClient address: 127.0.0.1\r\n{caller}\r\n{where}",
                "ForbiddenByFirewall",
            )
        permission = dataplane.permission_for(request.method, request.path)
        if "no-data-plane" in restrictions:
            return kv_error(
                403,
                "Forbidden",
                f"The user, group or application 'appid=04b07795-8ddb-461a-bbee-"
                f"02f9e1bf7b46;oid={self._operator_oid()}' does not have keys {permission} permission "
                f"on key vault '{vault.name};location={vault.location}'. For help resolving this issue, "
                "please see https://go.microsoft.com/fwlink/?linkid=2125287",
                "AccessDenied",
            )
        if "deny:data-plane" in restrictions:
            return kv_error(
                403,
                "Forbidden",
                "Caller is not authorized to perform action on resource.\r\nIf role "
                "assignments, deny assignments or role definitions were changed recently, please "
                f"observe propagation time.\r\n{caller}\r\n"
                f"Action: '{dataplane.DATA_ACTION.get(permission, permission)}'\r\n"
                f"Resource: '{vault.id.lower()}/keys'\r\n{where}",
                "ForbiddenByRbac",
            )
        return None

    def _admin(self, method: str, path: str, query: dict[str, str], body: bytes) -> Response:
        if method == "GET" and path == "/_emulator/health":
            return Response(200, self.health())
        if method == "GET" and path == "/_emulator/requests":
            try:
                since = int(query.get("since", "0"))
            except ValueError:
                return arm_error(400, "BadRequest", "since must be an integer")
            return Response(200, {"requests": self.requests(since)})
        if method == "GET" and path == "/_emulator/faults":
            return Response(200, self.faults())
        if method == "POST" and path == "/_emulator/faults":
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("the body must be a JSON object")
                unknown = set(data) - {"latencyMs", "faultRate", "restrictions", "faultKinds", "faultLimit"}
                if unknown:
                    raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
                restrictions = data.get("restrictions")
                if restrictions is not None and not isinstance(restrictions, list):
                    raise ValueError("restrictions must be a list")
                return Response(
                    200,
                    self.set_faults(
                        data.get("latencyMs"),
                        data.get("faultRate"),
                        restrictions,
                        fault_kinds=data.get("faultKinds"),
                        fault_limit=data.get("faultLimit", -1),
                    ),
                )
            except ValueError as exc:
                return arm_error(400, "BadRequest", str(exc))
        if method == "GET" and path == "/_emulator/locks":
            return Response(200, {"locks": self.locks()})
        if method == "POST" and path == "/_emulator/locks":
            try:
                data = json.loads(body or b"{}")
            except ValueError as exc:
                return arm_error(400, "BadRequest", str(exc))
            if not isinstance(data, dict) or set(data) != {"remove"} or not isinstance(data["remove"], str):
                return arm_error(400, "BadRequest", 'the body must be {"remove": "<lock name, scope or id>"}')
            try:
                return Response(200, {"locks": self.remove_lock(data["remove"])})
            except KeyError as exc:
                return arm_error(404, "LockNotFound", str(exc.args[0]))
        return arm_error(404, "NotFound", f"No admin route {method} {path}.")
