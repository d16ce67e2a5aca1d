"""Request handling: one request from the listener to its answer, and the request log tests read."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from wizard.emulator import admin, arm, dataplane, policy
from wizard.emulator.arm.lro import settle
from wizard.emulator.arm.quota import quota_headers
from wizard.emulator.faults import LOST_WRITE, FaultInjector, is_graph_query
from wizard.emulator.listeners import Listeners
from wizard.emulator.model import ActivityRecord, State
from wizard.emulator.wire import Context, HttpError, Operation, Request, Response, arm_error, kv_error

_READS = ("GET", "HEAD")


def _may_change(kind: str, method: str) -> bool:
    """Whether a request can change what the health rule depends on: every write, and the polls of
    long-running operations (a poll is where an operation takes effect); a Resource Graph POST reads."""
    return kind != "resource-graph" and (method not in _READS or kind == "operations")


class Dispatcher:
    """Admin paths, then the hold, faults, and ARM or data plane: authenticated, authorised, locked."""

    def __init__(
        self,
        *,
        state: State,
        lock: threading.RLock,
        token: str,
        faults: FaultInjector,
        listeners: Listeners,
        admin_api: admin.AdminApi,
        refresh: Callable[[bool], object],
        id_seed: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state
        self._lock = lock
        self._token = token
        self._faults = faults
        self._listeners = listeners
        self._admin_api = admin_api
        self._refresh = refresh
        self._clock = clock
        self._id_rng = random.Random(id_seed)
        self._activity_rng = random.Random(f"{id_seed}|activity")
        self._operations: dict[str, Operation] = {}
        self._log: list[dict[str, Any]] = []

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log entries with seq > since (admin calls are not logged)."""
        with self._lock:
            return [dict(r) for r in self._log if r["seq"] > since]

    def handle(
        self, host: str, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> Response | None:
        """Answer one request (None: drop the connection, the 'timeout' fault)."""
        started = time.perf_counter()
        raw, _, raw_query = raw_path.partition("?")
        path = re.sub(r"/{2,}", "/", raw) if host == "arm" else raw  # ARM takes `//subscriptions` (recorded)
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        if host == "arm" and path.startswith(admin.PREFIX):
            refused = policy.arm_authentication_failure(headers, self._token)
            if refused is not None:
                return refused
            return admin.answer(self._admin_api, method, path, query, body)
        if not self._faults.wait_while_held(host, method, path):
            return None
        request = Request(method, path, query, headers, body, host)
        kind, response = self._answer(request)
        if not self._faults.wait_latency():
            return None
        is_write = method in ("PUT", "PATCH", "DELETE") or (
            method == "POST" and kind != "resource-graph" and not is_graph_query(request)
        )
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

    def _answer(self, request: Request) -> tuple[str, Response | None]:
        """The route kind and the answer; a lost write is carried out and its answer dropped."""
        fault = self._faults.inject(request)
        if fault is None:
            return "fault", None
        if isinstance(fault, Response):
            return "fault", fault
        kind, response = (
            self._arm(request) if request.host == "arm" else ("data-plane", self._data_plane(request))
        )
        return (kind, None) if fault == LOST_WRITE else (kind, response)

    def _context(self) -> Context:
        return Context(
            self._state,
            self._clock(),
            self._listeners.arm_endpoint,
            self._listeners.vault_endpoint,
            self._operations,
            lambda: str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4)),
            lambda: uuid.UUID(int=self._id_rng.getrandbits(128), version=4).hex,
            open_vault=self._listeners.add_vault,
        )

    def _arm(self, request: Request) -> tuple[str, Response]:
        kind, response = self._arm_answer(request)
        response.headers.update(
            quota_headers(request.method, request.path, response.status, response.headers, kind)
        )
        return kind, response

    def _arm_answer(self, request: Request) -> tuple[str, Response]:
        routed = arm.match(request.path)
        if routed is None:
            return "unknown", arm_error(
                404, "NotFound", f"The emulator has no route for {request.method} {request.path}."
            )
        kind, handlers, params = routed
        failed = policy.arm_authentication_failure(request.headers, self._token)
        if failed is not None:
            return kind, failed
        handler = handlers.get(request.method)
        if handler is None:
            return kind, arm_error(
                405, "MethodNotAllowed", f"{request.method} is not supported on this route."
            )
        with self._lock:
            denied = policy.arm_denial(self._state, kind, request, params)
            if denied is not None:
                return kind, denied
            locked = policy.lock_refusal(self._state, kind, request)
            if locked is not None:
                return kind, locked
            self._refresh(False)
            context = self._context()
            pending = any(not op.done for op in self._operations.values())
            writes = pending or _may_change(kind, request.method)
            self._state.memo = None if writes else (self._state.memo or {})
            settle(context)
            try:
                response = handler(context, request, params)
            except HttpError as exc:
                response = exc.response
            self._refresh(writes)
            if writes and kind != "operations":
                self._log_activity(kind, request, response)
        return kind, response

    def _log_activity(self, kind: str, request: Request, response: Response) -> None:
        """Every ARM write answered goes into the Activity Log, as Azure records it (UNVERIFIED: a
        long-running operation's later failure is logged as Azure does, here only its first answer)."""
        self._state.activity.append(
            ActivityRecord(
                self._clock(),
                arm.action_for(kind, request.method, request.path),
                request.path.rstrip("/"),
                "Failed" if response.status >= 400 else "Succeeded",
                correlation_id=str(uuid.UUID(int=self._activity_rng.getrandbits(128), version=4)),
            )
        )

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
            if self._clock() < vault.data_plane_from:
                # UNVERIFIED: what a just-recovered vault's data plane answers (DNS not yet resolving
                # is likelier than an HTTP answer); the emulator answers as for a missing vault.
                return kv_error(
                    404,
                    "VaultNotFound",
                    f"The vault '{request.host}' was recovered moments ago and its data plane "
                    "is not answering yet.",
                )
            tenant = vault.tenant_id
        failed = policy.vault_authentication_failure(tenant, request.headers, self._token)
        if failed is not None:
            return failed
        routed = dataplane.match(request.path)
        if routed is None:
            return kv_error(404, "NotFound", f"The emulator has no Key Vault route for {request.path}.")
        handlers, params = routed
        handler = handlers.get(request.method)
        if handler is None:
            return kv_error(405, "MethodNotAllowed", f"{request.method} is not supported on this route.")
        with self._lock:
            denied = policy.data_plane_denial(self._state, request)
            if denied is not None:
                return denied
            self._refresh(False)
            writes = request.method not in _READS
            self._state.memo = None if writes else (self._state.memo or {})
            try:
                response = handler(self._context(), request, params)
            except HttpError as exc:
                response = exc.response
            self._refresh(writes)
            return response
