"""The Emulator: a thin facade over the listeners, request handling, fault injection and admin reports."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from wizard.emulator.admin import health_report, lock_rows
from wizard.emulator.dispatch import Dispatcher
from wizard.emulator.estate import Estate, load_estate
from wizard.emulator.faults import UNCHANGED_LIMIT, FaultInjector, check_settings
from wizard.emulator.health import HealthTracker, Verdict
from wizard.emulator.listeners import Listeners
from wizard.emulator.live_faults import LiveFaultDesk
from wizard.emulator.model import STATUS_MODES, State
from wizard.emulator.wire import Response

DEFAULT_TOKEN = "fake-emulator-token"
CONNECTION_CLUSTERS = 1000
"""A connection file lists at most this many clusters (a fleet's first ones): it stays well under the
1 MiB a reader accepts; the fleet itself is found through Resource Graph."""
_T = TypeVar("_T")


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
        status_mode: str | None = None,
        operation_seconds: float | None = None,
        key_lag_seconds: float | None = None,
        grant_propagation_seconds: float | None = None,
        vault_recover_lag_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """The `*_seconds` settings override the estate's `timing`; `clock` is the emulator's idea
        of now (epoch seconds), so tests can replay recorded times without sleeping."""
        self.estate = load_estate(estate) if isinstance(estate, str) else estate
        self._clock = clock
        self._state: State = self.estate.build(clock())
        if status_mode is not None:
            if status_mode not in STATUS_MODES:
                raise ValueError(f"status_mode must be one of {', '.join(STATUS_MODES)}, got {status_mode!r}")
            self._state.status_mode = status_mode
        for name, value in (
            ("operation_seconds", operation_seconds),
            ("key_lag_seconds", key_lag_seconds),
            ("grant_propagation_seconds", grant_propagation_seconds),
            ("vault_recover_lag_seconds", vault_recover_lag_seconds),
        ):
            if value is not None:
                if not 0 <= value <= 3600:
                    raise ValueError(f"{name} must be from 0 to 3600 seconds, got {value!r}")
                setattr(self._state, name, float(value))
        self._lock = threading.RLock()
        self._health = HealthTracker()
        self._live_faults = LiveFaultDesk()
        self._token = token
        self.revalidate_seconds = revalidate_seconds
        stopping = threading.Event()
        self._faults = FaultInjector(self._lock, stopping, f"faults|{seed}|{self.estate.name}")
        self.set_faults(latency_ms=latency_ms, fault_rate=fault_rate)
        self._listeners = Listeners(self, port, stopping)
        self._dispatcher = Dispatcher(
            state=self._state,
            lock=self._lock,
            token=token,
            faults=self._faults,
            listeners=self._listeners,
            admin_api=self,
            refresh=self._refresh,
            id_seed=f"ids|{seed}|{self.estate.name}",
            clock=clock,
        )
        self._refresh()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Make the CA and certificate, open the ARM listener and one listener per vault."""
        self._listeners.start([vault.name for vault in self._state.vaults])
        return self

    def stop(self) -> None:
        """Close every listener and open connection, and remove the CA file."""
        self._listeners.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what clients need ----------------------------------------------------------------------

    @property
    def arm_endpoint(self) -> str:
        """https://127.0.0.1:<ARM port>."""
        return self._listeners.arm_endpoint

    def vault_endpoint(self, name: str) -> str:
        """https://127.0.0.1:<port> of a vault's data plane."""
        return self._listeners.vault_endpoint(name)

    @property
    def ca_path(self) -> str:
        """The PEM file of the CA that signed the listeners' certificate."""
        return self._listeners.ca_path

    @property
    def token(self) -> str:
        """The bearer token the emulator accepts."""
        return self._token

    def connections_accepted(self) -> dict[str, int]:
        """TCP connections accepted so far, by host ("arm" or a vault name): what a client's
        connection reuse is judged by."""
        return self._listeners.connections_accepted()

    @property
    def _servers(self) -> dict[str, Any]:
        """The open listeners by host ("arm" or a vault name); tests check where they bind."""
        return self._listeners.servers

    @property
    def connection(self) -> dict[str, Any]:
        """The DESIGN.md connection-file JSON; clusters[0] is the scenario's own cluster (a fleet's
        first 1,000 only)."""
        return self.connection_data()

    def connection_data(self, *, with_token: bool = False) -> dict[str, Any]:
        """The connection-file JSON, with the optional `token` field when asked (standalone runs)."""
        self._listeners.require_started()
        with self._lock:
            data: dict[str, Any] = {
                "armEndpoint": self.arm_endpoint,
                "caBundle": self.ca_path,
                "tenantId": self._state.tenant_id,
                "subscriptionId": self._state.subscription_id,
                "clusters": [c.id for c in self._state.clusters[:CONNECTION_CLUSTERS]],
                "vaults": {
                    v.name: self.vault_endpoint(v.name)
                    for v in self._state.vaults
                    if v.name.lower() in self._listeners.servers
                },
            }
        if with_token:
            data["token"] = self._token
        return data

    def write_connection_file(self, path: str | os.PathLike[str], *, with_token: bool = False) -> None:
        """Write the connection file atomically, mode 0600 (a temporary file beside it, then rename);
        `with_token` adds the token the emulator accepts, for the commands of another terminal."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.connection_data(with_token=with_token), out, indent=2)
                out.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- inspection and control -----------------------------------------------------------------

    def _refresh(self, changed: bool = False) -> dict[str, Verdict]:
        """Move the clusters' states; `changed`: the estate was written, so judge every cluster again."""
        if changed:
            self._health.changed()
        return self._health.refresh(self._state, self._clock(), time.monotonic(), self.revalidate_seconds)

    @property
    def health_evaluations(self) -> int:
        """How many times every cluster was judged (once per change of the estate, not per request)."""
        return self._health.recomputed

    def health(self) -> dict[str, Any]:
        """The emulator's own verdict per cluster (same as GET /_emulator/health)."""
        with self._lock:
            return health_report(self._state, self._refresh())

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log entries with seq > since (admin calls are not logged)."""
        return self._dispatcher.requests(since)

    def faults(self) -> dict[str, Any]:
        """The current fault settings."""
        with self._lock:
            return {**self._faults.settings(), "restrictions": sorted(self._state.restrictions)}

    def set_faults(
        self,
        latency_ms: int | None = None,
        fault_rate: float | None = None,
        restrictions: list[str] | set[str] | tuple[str, ...] | None = None,
        *,
        fault_kinds: list[str] | tuple[str, ...] | None = None,
        fault_limit: int | None = UNCHANGED_LIMIT,
    ) -> dict[str, Any]:
        """Change latency, faults and operator restrictions live; ValueError names the bad value."""
        check_settings(latency_ms, fault_rate, restrictions, fault_kinds, fault_limit)
        with self._lock:
            self._faults.apply(latency_ms, fault_rate, fault_kinds, fault_limit)
            if restrictions is not None:
                self._state.restrictions = set(restrictions)
        return self.faults()

    def locks(self) -> list[dict[str, str]]:
        """The management locks in force (same as GET /_emulator/locks)."""
        with self._lock:
            return lock_rows(self._state)

    def set_graph_quota(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Resource Graph's quota window (`quotaQueries`, `quotaWindowSeconds`, `enforceQuota`) and the
        throttling fault (`throttleNext`: the next N queries answer 429); ValueError names a bad value."""
        with self._lock:
            self._state.graph_quota.update(settings)
            return self._state.graph_quota.settings()

    def remove_lock(self, name_or_scope: str) -> list[dict[str, str]]:
        """The owner removed the lock(s) with this name, scope or id: the locks left (KeyError if none)."""
        with self._lock:
            self._state.remove_lock(name_or_scope)
        return self.locks()

    def live_faults(self) -> dict[str, Any]:
        """The trainer's catalogue of live faults and every change applied so far."""
        with self._lock:
            return {"faults": self._live_faults.catalogue(), "changes": self._live_faults.changes()}

    def apply_live_fault(self, name: str, cluster_id: str | None = None) -> dict[str, Any]:
        """Break one cluster live, as a trainer does (LiveFaultError, a ValueError, names what is wrong)."""
        now = int(self._clock())
        return self.mutate(lambda state: self._live_faults.apply(state, name, cluster_id, now))

    def undo_live_fault(self, change_id: int) -> dict[str, Any]:
        """Take back one live fault: only what it changed is put back."""
        now = int(self._clock())
        return self.mutate(lambda state: self._live_faults.undo(state, change_id, now))

    def hold(self) -> None:
        """Stop answering until `release`, as a stalled Azure would: tests keep work in flight."""
        self._faults.hold()

    def hold_matching(self, matches: Callable[[str, str, str], bool]) -> None:
        """Hold the requests `matches(host, method, path)` accepts until `release`, answer the rest:
        a test stalls a client at an exact point, where `hold` after an event would race it."""
        self._faults.hold_matching(matches)

    def release(self) -> None:
        """Answer the held requests and every later one."""
        self._faults.release()

    def held(self) -> int:
        """How many requests are waiting on `hold` right now."""
        return self._faults.held()

    def mutate(self, fn: Callable[[State], _T]) -> _T:
        """Run fn(state) under the lock: trainers and tests break (or fix) things while it runs."""
        with self._lock:
            self._state.memo = None
            result = fn(self._state)
            self._refresh(changed=True)
            return result

    # -- request handling -----------------------------------------------------------------------

    def handle(
        self, host: str, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> Response | None:
        """Answer one request (None: drop the connection, the 'timeout' fault)."""
        return self._dispatcher.handle(host, method, raw_path, headers, body)
