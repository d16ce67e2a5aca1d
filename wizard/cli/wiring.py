"""The two ways to reach 'Azure': the real thing, or our emulator (embedded or already running).

Both build the same gateway over the same SDK clients; only the credential, the endpoints and
the CA bundle differ. Everything Azure is imported lazily, inside `connect`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wizard.cli.connection import Connection, load_connection
from wizard.domain.errors import BadInput

OFFLINE_VARIABLE = "CMK_WIZARD_OFFLINE"
DEFAULT_EMULATOR_TOKEN = "fake-emulator-token"
"""What a standalone emulator accepts unless started with CMK_WIZARD_EMULATOR_TOKEN (a test keeps it
equal to the emulator's own default, which is not imported here: it would load the server)."""

if TYPE_CHECKING:
    from wizard.azure.clients import RetrySettings
    from wizard.azure.gateway import AzureGateway
    from wizard.azure.transport import EarlySockets, SharedTransport
    from wizard.domain.fleet_ports import FleetReader
    from wizard.domain.forensics import ActivityReader
    from wizard.emulator.builtin import BuiltIn


@dataclass
class Options:
    """How the operator asked us to talk to Azure."""

    read_only: bool = False
    auth: str = "auto"
    subscription_id: str | None = None
    retry_total: int = 4
    timeout_seconds: float = 30.0
    polling_interval: float = 5.0
    max_retry_after: float = 60.0
    emulator_token: str | None = field(default=None, repr=False)
    """The emulator's token (tests: a recognisable fake); kept out of repr, which a traceback may show."""

    @property
    def connect_timeout(self) -> float:
        """How long one TCP or TLS connect may take."""
        return min(10.0, self.timeout_seconds)

    def retry(self) -> RetrySettings:
        """The explicit retry budget for every client."""
        from wizard.azure.clients import RetrySettings

        return RetrySettings(
            total=self.retry_total,
            read_timeout=self.timeout_seconds,
            connect_timeout=self.connect_timeout,
            max_retry_after=self.max_retry_after,
        )


def _early_sockets(endpoint: str, options: Options) -> EarlySockets | None:
    """TCP connections to ARM dialled now, on daemon threads, while the SDK imports (the standard
    library only: wizard.azure.transport imports nothing else); none through a proxy."""
    from wizard.azure.transport import EARLY_CONNECTIONS, EarlySockets, proxied

    if proxied(endpoint):
        return None
    return EarlySockets(endpoint, EARLY_CONNECTIONS, options.connect_timeout)


def _warm_transport(
    early: EarlySockets | None, endpoint: str, verify: str | bool, options: Options
) -> SharedTransport:
    """The HTTP session (requests imported here, on the calling thread, so no other thread imports
    it at the same time), with TLS to ARM started on daemon threads over the early sockets."""
    from wizard.azure.transport import SharedTransport

    transport = SharedTransport(early)
    transport.session()
    transport.warm(endpoint, verify, options.connect_timeout)
    return transport


class LiveBackend:
    """Real Azure: Azure CLI login first, then azure-identity's chain, or device code."""

    def __init__(self, options: Options, cluster_id: str | None = None) -> None:
        self.options = options
        self.read_only = options.read_only
        self._cluster_id = cluster_id
        self._gateway: AzureGateway | None = None
        self._early: EarlySockets | None = None
        self._lock = threading.Lock()

    def open_early(self) -> None:
        """Dial ARM now (TCP only, nothing sent), so the connections are up when the first read
        goes; never with live Azure switched off."""
        from wizard.azure.transport import ARM_PUBLIC

        with self._lock:
            if self._early is None and self._gateway is None and not os.environ.get(OFFLINE_VARIABLE):
                self._early = _early_sockets(ARM_PUBLIC, self.options)

    def clock(self) -> float:
        """The wall clock reads are timed with."""
        return time.perf_counter()

    @property
    def label(self) -> str:
        """What the start screen says we are talking to."""
        return "Azure"

    def connect(self) -> AzureGateway:
        """Sign in (bounded by --timeout) and build the gateway, once.

        With live Azure switched off (tests, training rooms) only a sign-in against a loopback
        managed-identity endpoint is allowed, and the run stops right after it: nothing is sent
        to Azure."""
        offline = bool(os.environ.get(OFFLINE_VARIABLE))
        switched_off = f"live Azure is switched off ({OFFLINE_VARIABLE} is set): use --scenario or --emulator"
        with self._lock:
            if self._gateway is None:
                from wizard.azure.credentials import live_credential, offline_identity_endpoint

                if offline and offline_identity_endpoint(os.environ) is None:
                    raise BadInput(switched_off)
                from wizard.azure.transport import ARM_PUBLIC, SharedTransport

                transport = (
                    SharedTransport()
                    if offline
                    else _warm_transport(self._early, ARM_PUBLIC, True, self.options)
                )
                from wizard.azure.clients import ClientFactory
                from wizard.azure.gateway import AzureGateway

                credential = live_credential(
                    self.options.auth,
                    timeout=self.options.timeout_seconds,
                    retry_total=self.options.retry_total,
                    offline=offline,
                )
                credential.sign_in()
                if offline:
                    raise BadInput(f"signed in at the loopback identity endpoint, but {switched_off}")
                factory = ClientFactory(
                    credential,
                    self.options.subscription_id or "",
                    retry=self.options.retry(),
                    polling_interval=self.options.polling_interval,
                    transport=transport,
                )
                factory.prewarm()  # connections and clients ready while the first read is in flight
                self._gateway = AzureGateway(factory, mode="azure", read_only=self.read_only)
            return self._gateway

    def default_cluster_id(self) -> str | None:
        """The cluster named on the command line."""
        return self._cluster_id

    def fleet(self) -> FleetReader:
        """The fleet reads (Resource Graph, deleted vaults, keys) over the same signed-in clients."""
        from wizard.azure.fleet import FleetGateway

        return FleetGateway(self.connect())

    def activity(self) -> ActivityReader:
        """The Activity Log over the same clients."""
        from wizard.azure.activity import ActivityGateway

        return ActivityGateway(self.connect())

    def scenarios(self) -> list[str]:
        """Live Azure has no scenarios."""
        return []

    def switch_scenario(self, name: str) -> None:
        """Live Azure has no scenarios."""
        raise ValueError("scenarios exist only in emulator mode")

    def current_scenario(self) -> tuple[str, str] | None:
        """Live Azure plays no scenario."""
        return None

    def scenario_descriptions(self) -> dict[str, str]:
        """Live Azure has no scenarios."""
        return {}

    def close(self) -> None:
        """Close the SDK clients (and any early socket not taken)."""
        if self._gateway is not None:
            self._gateway.factory.close()
        if self._early is not None:
            self._early.close()


@dataclass
class EmulatorBackend:
    """The emulator: embedded from a scenario, or a running one from its connection file."""

    options: Options
    scenario: str | None = None
    connection_file: str | None = None
    cluster_id: str | None = None
    revalidate_seconds: float = 0.0
    latency_ms: int = 0
    fault_rate: float = 0.0
    estate: Any = None
    """An estate made here rather than named (a generated fleet); it opens no cluster by default."""
    status_mode: str | None = None
    """How the embedded emulator shows lost key access (`documented` or `arm-enum`); None: the estate's."""
    _emulator: Any = field(default=None, init=False, repr=False)
    _gateway: AzureGateway | None = field(default=None, init=False, repr=False)
    _early: EarlySockets | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _estate_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _loaded: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.read_only = self.options.read_only
        if self.estate is not None:
            self.scenario = self.scenario or self.estate.name
            self._loaded = self.estate
        elif self.scenario is not None:
            if self._builtin() is None:  # a file (or a bad name): checked now, before any screen
                from wizard.emulator import load_estate

                self._loaded = load_estate(self.scenario)
        else:
            self._connection = load_connection(self.connection_file or "")

    def _builtin(self) -> BuiltIn | None:
        """The index's entry for a built-in scenario (tests keep it true to the YAML), else None
        (also for a running emulator's connection file: nothing of the emulator is loaded then)."""
        if self.scenario is None or self.estate is not None:
            return None
        from wizard.emulator.builtin import builtin_scenarios

        return builtin_scenarios().get(self.scenario)

    @property
    def _estate(self) -> Any:
        """The estate, validated; a built-in scenario's loads on first use (when its emulator starts,
        after the TUI's first frame), an estate file's when the backend is made."""
        with self._estate_lock:
            if self._loaded is None:
                from wizard.emulator import load_estate

                self._loaded = load_estate(self.scenario or "")
            return self._loaded

    def clock(self) -> float:
        """The wall clock reads are timed with."""
        return time.perf_counter()

    @property
    def label(self) -> str:
        """What the start screen says we are talking to."""
        return f"emulator: {self.scenario}" if self.scenario else "emulator"

    @property
    def emulator(self) -> Any:
        """The embedded emulator, started on first use (None for a running one)."""
        if self.scenario is not None and self._emulator is None:
            from wizard.emulator import Emulator

            extra: dict[str, Any] = (
                {"token": self.options.emulator_token} if (self.options.emulator_token) else {}
            )
            self._emulator = Emulator(
                self._estate,
                revalidate_seconds=self.revalidate_seconds,
                latency_ms=self.latency_ms,
                fault_rate=self.fault_rate,
                status_mode=self.status_mode,
                **extra,
            )
            self._emulator.start()
        return self._emulator

    def connection(self) -> Connection:
        """The emulator's endpoints, as a connection file would give them."""
        if self.scenario is None:
            return self._connection
        from wizard.cli.connection import parse_connection

        return parse_connection(self.emulator.connection)

    def token(self) -> str:
        """The bearer token the emulator accepts (never a real one): the embedded emulator's, or
        for a running one the token its connection file carries, else the variable, else its default."""
        if self.scenario is not None:
            return str(self.emulator.token)
        return self._connection.token or self.options.emulator_token or DEFAULT_EMULATOR_TOKEN

    def open_early(self) -> None:
        """Dial the emulator's ARM now (TCP only, nothing sent), so the connections are up when
        the first read goes. A running emulator only: an embedded one is not listening yet."""
        with self._lock:
            if self._early is None and self._gateway is None and self.scenario is None:
                self._early = _early_sockets(self._connection.arm_endpoint, self.options)

    def connect(self) -> AzureGateway:
        """Start the emulator if embedded, then build the gateway over the real SDK clients."""
        with self._lock:
            if self._gateway is None:
                conn = self.connection()
                transport = _warm_transport(self._early, conn.arm_endpoint, conn.ca_bundle, self.options)
                from wizard.azure.clients import ClientFactory, StaticTokenCredential
                from wizard.azure.gateway import AzureGateway

                factory = ClientFactory(
                    StaticTokenCredential(self.token()),
                    conn.subscription_id,
                    arm_endpoint=conn.arm_endpoint,
                    ca_bundle=conn.ca_bundle,
                    vault_endpoints=conn.vaults,
                    retry=self.options.retry(),
                    polling_interval=0.05,
                    verify_challenge_resource=False,
                    transport=transport,
                )
                factory.prewarm()  # connections and clients ready while the first read is in flight
                self._gateway = AzureGateway(
                    factory,
                    mode="emulator",
                    tenant_id=conn.tenant_id,
                    account="emulator operator",
                    read_only=self.read_only,
                )
            return self._gateway

    def default_cluster_id(self) -> str | None:
        """The cluster asked for, else the scenario's own cluster."""
        if self.cluster_id:
            return self.cluster_id
        if self.estate is not None:
            return None
        builtin = self._builtin()
        if builtin is not None and self._loaded is None:
            return builtin.cluster_id
        if self.scenario is not None:
            clusters = self._estate.build(0.0).clusters
            return clusters[0].id if clusters else None
        return self._connection.clusters[0] if self._connection.clusters else None

    def fleet(self) -> FleetReader:
        """The fleet reads over the same SDK clients, pointed at the emulator."""
        from wizard.azure.fleet import FleetGateway

        return FleetGateway(self.connect())

    def activity(self) -> ActivityReader:
        """The Activity Log over the same clients."""
        from wizard.azure.activity import ActivityGateway

        return ActivityGateway(self.connect())

    def scenarios(self) -> list[str]:
        """The built-in scenarios, when the emulator is ours to restart."""
        if self.scenario is None:
            return []
        from wizard.emulator.builtin import builtin_scenarios

        return sorted(builtin_scenarios())

    def current_scenario(self) -> tuple[str, str] | None:
        """The embedded scenario (or estate file) and its `description`."""
        if self.scenario is None:
            return None
        builtin = self._builtin()
        if builtin is not None and self._loaded is None:
            return self.scenario, builtin.description
        text = str(self._estate.spec.get("description", "") or "")
        return self.scenario, " ".join(text.split())

    def scenario_descriptions(self) -> dict[str, str]:
        """The built-in scenarios' descriptions, when the emulator is ours to restart."""
        if self.scenario is None:
            return {}
        from wizard.emulator.builtin import builtin_scenarios

        return {name: entry.description for name, entry in sorted(builtin_scenarios().items())}

    def switch_scenario(self, name: str) -> None:
        """Stop the embedded emulator and start another scenario."""
        from wizard.emulator import load_estate

        estate = load_estate(name)
        self.close()
        with self._lock:
            self.scenario, self._loaded, self.cluster_id, self.estate = name, estate, None, None

    def close(self) -> None:
        """Close clients and stop the embedded emulator."""
        with self._lock:
            if self._gateway is not None:
                self._gateway.factory.close()
                self._gateway = None
            if self._early is not None:
                self._early.close()
                self._early = None
            if self._emulator is not None:
                self._emulator.stop()
                self._emulator = None


def target_cluster(backend: EmulatorBackend | LiveBackend) -> str:
    """The cluster a non-interactive command works on: the one asked for, or the scenario's."""
    cluster_id = backend.default_cluster_id()
    if not cluster_id:
        raise BadInput("no cluster: pass --cluster ID")
    return cluster_id
