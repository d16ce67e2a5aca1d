"""One factory for every SDK client: same credential, endpoints, CA bundle, retry and polling."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import azure.core.exceptions
import azure.core.pipeline
import azure.core.polling
import azure.mgmt.core  # noqa: F401  (azure-core and mgmt-core load here, once: see SDK_IMPORTS)
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.pipeline.policies import RetryPolicy

from wizard.azure.transport import ARM_PUBLIC, EARLY_CONNECTIONS, POOL_SIZE, SharedTransport

__all__ = [
    "ARM_PUBLIC",
    "EARLY_CONNECTIONS",
    "POOL_SIZE",
    "ClientFactory",
    "RetrySettings",
    "StaticTokenCredential",
]

SDK_IMPORTS = threading.RLock()
"""The Azure SDK's packages import one another in cycles: two threads importing them at once can
deadlock (`_DeadlockError`) or see a partly initialised module (seen when the connect worker, the
diagnosis's reads and `prewarm` started together). azure-core is imported with this module, which
the backend imports under its own lock; each client package's first import is serialised here."""

Accessor = TypeVar("Accessor", bound=Callable[..., Any])


def imports_serialised(accessor: Accessor) -> Accessor:
    """Run a client accessor (which imports its SDK package on first use) under SDK_IMPORTS."""

    @functools.wraps(accessor)
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with SDK_IMPORTS:
            return accessor(*args, **kwargs)

    return serialised  # type: ignore[return-value]


class BoundedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core's RetryPolicy, except that a Retry-After beyond our budget ends the retries.

    azure-core sleeps for whatever Retry-After says, however long; a throttled ARM can ask for
    minutes. We honour Retry-After up to `max_retry_after` seconds; above that the 429/503 is
    returned at once, so the read becomes `unknown` (exit 3, incomplete) instead of hanging.
    """

    def __init__(self, *, max_retry_after: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_retry_after = max_retry_after

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        """Retry as azure-core would, unless Azure asked for a wait longer than our budget."""
        after = self.get_retry_after(response)
        if after is not None and after > self.max_retry_after:
            return False
        return bool(super().is_retry(settings, response))


@dataclass(frozen=True)
class RetrySettings:
    """The retry budget, explicit: how many tries, how long to back off, when to give up.

    `total` bounds EVERY kind of retry (status 408/429/5xx, connect, read): azure-core's own
    defaults would otherwise cap status, connect and read retries at 3 whatever `total` says.
    """

    total: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_retry_after: float = 60.0

    def worst_case_seconds(self) -> float:
        """The longest one SDK call can take before it gives up: every attempt times out, and
        every wait between attempts is as long as we allow."""
        attempts = self.total + 1
        longest_wait = max(self.backoff_max, self.max_retry_after)
        return attempts * (self.connect_timeout + self.read_timeout) + self.total * longest_wait

    def policy(self) -> BoundedRetryPolicy:
        """A fresh retry policy with this budget (one per client)."""
        return BoundedRetryPolicy(
            max_retry_after=self.max_retry_after,
            retry_total=self.total,
            retry_connect=self.total,
            retry_read=self.total,
            retry_status=self.total,
            retry_backoff_factor=self.backoff_factor,
            retry_backoff_max=self.backoff_max,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """The azure-core keyword arguments that apply these settings."""
        return {
            "retry_policy": self.policy(),
            "retry_total": self.total,
            "retry_connect": self.total,
            "retry_read": self.total,
            "retry_status": self.total,
            "retry_backoff_factor": self.backoff_factor,
            "retry_backoff_max": self.backoff_max,
            "connection_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
        }


class StaticTokenCredential:
    """A credential that hands out one fixed token: for the emulator only, never for Azure."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Any scope, any tenant: the emulator accepts this token."""
        return AccessToken(self._token, 4_102_444_800)

    def __repr__(self) -> str:
        return "StaticTokenCredential(<redacted>)"


PREWARM_THREAD = "cmk-client-prewarm"
"""The name of the short-lived thread `prewarm` starts (it ends within the connect timeout)."""
PREWARMED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mongo", ("mongo_clusters",)),
    ("resource_health", ("availability_statuses",)),
    ("msi", ("user_assigned_identities",)),
    ("graph", ()),
    ("keyvault", ("vaults", "keys")),
    ("authorization", ("role_assignments",)),
)
"""Clients a diagnosis needs, in the order it needs them, and the operation groups it reads
through (a multi-API client imports each group's module on first use). The cluster's client comes
first: the first read waits for it under SDK_IMPORTS, so it must not queue behind the others."""


@dataclass
class ClientFactory:
    """Builds SDK clients lazily and caches them; the only place that knows endpoints and TLS.

    Every client shares one HTTP session, so one pool of connections per host serves all the
    management clients (ARM is one host for all of them). `prewarm` opens ARM connections and
    imports and builds the clients a diagnosis needs next, on a daemon thread, while the first
    read is in flight."""

    credential: TokenCredential
    subscription_id: str
    arm_endpoint: str = ARM_PUBLIC
    ca_bundle: str | None = None
    vault_endpoints: Mapping[str, str] = field(default_factory=dict)
    retry: RetrySettings = field(default_factory=RetrySettings)
    polling_interval: float = 5.0
    verify_challenge_resource: bool = True
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    transport: SharedTransport = field(default_factory=SharedTransport, repr=False)
    """The HTTP session and its pool (with any connections dialled before the factory was built)."""
    _building: dict[tuple[str, str], threading.Lock] = field(default_factory=dict, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)

    def session(self) -> Any:
        """The one requests session every client sends through (a pool of POOL_SIZE per host)."""
        return self.transport.session()

    def _common(self) -> dict[str, Any]:
        from azure.core.pipeline.transport import RequestsTransport

        kwargs = self.retry.client_kwargs()
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        # the transport reads TLS and timeouts when built (a client handed one does not pass them on)
        kwargs["transport"] = RequestsTransport(
            session=self.session(),
            session_owner=False,
            connection_timeout=self.retry.connect_timeout,
            read_timeout=self.retry.read_timeout,
            **({"connection_verify": self.ca_bundle} if self.ca_bundle else {}),
        )
        return kwargs

    def _cached(self, kind: str, key: str, build: Callable[[], Any]) -> Any:
        """One client per kind and key, built once; building one does not hold up the others."""
        with self._lock:
            if (kind, key) in self._cache:
                return self._cache[(kind, key)]
            building = self._building.setdefault((kind, key), threading.Lock())
        with building:
            with self._lock:
                if (kind, key) in self._cache:
                    return self._cache[(kind, key)]
            client = build()
            with self._lock:
                self._cache[(kind, key)] = client
            return client

    def prewarm(self) -> threading.Thread:
        """Open EARLY_CONNECTIONS to ARM (unless the transport already is), and import and build the
        PREWARMED clients and their operation groups, on daemon threads: the caller goes on with
        its first read, which waits for the first of those connections rather than dialling its
        own. Best effort: a failure here is the first real read's to report."""
        self.transport.warm(self.arm_endpoint, self.ca_bundle or True, self.retry.connect_timeout)

        def work() -> None:
            for kind, groups in PREWARMED:
                if self._closed:
                    return
                with contextlib.suppress(Exception), SDK_IMPORTS:
                    client = getattr(self, kind)()
                    for group in groups:
                        getattr(client, group)

        thread = threading.Thread(target=work, name=PREWARM_THREAD, daemon=True)
        thread.start()
        return thread

    def _warm(self, client: Any) -> Any:
        """An ARM client, once the pool holds a prewarmed connection (or prewarm gave up): its first
        request then takes that connection instead of dialling one more. The prewarm thread itself
        sends nothing, so it does not wait (it holds SDK_IMPORTS)."""
        if threading.current_thread().name != PREWARM_THREAD:
            self.transport.await_warm()
        return client

    def _arm(self, kind: str, cls: Callable[..., Any], subscription_id: str | None) -> Any:
        sub = subscription_id or self.subscription_id
        return self._warm(
            self._cached(
                kind,
                sub,
                lambda: cls(
                    self.credential,
                    sub,
                    base_url=self.arm_endpoint,
                    polling_interval=self.polling_interval,
                    **self._common(),
                ),
            )
        )

    @imports_serialised
    def mongo(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-mongocluster."""
        from azure.mgmt.mongocluster import MongoClusterMgmtClient

        return self._arm("mongo", MongoClusterMgmtClient, subscription_id)

    @imports_serialised
    def keyvault(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-keyvault (vaults, deleted vaults, management-plane keys)."""
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return self._arm("keyvault", KeyVaultManagementClient, subscription_id)

    @imports_serialised
    def msi(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-msi (user-assigned identities)."""
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return self._arm("msi", ManagedServiceIdentityClient, subscription_id)

    @imports_serialised
    def authorization(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-authorization (role assignments and definitions)."""
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._arm("authorization", AuthorizationManagementClient, subscription_id)

    @imports_serialised
    def monitor(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-monitor (the Activity Log)."""
        from azure.mgmt.monitor import MonitorManagementClient

        return self._arm("monitor", MonitorManagementClient, subscription_id)

    @imports_serialised
    def resource_health(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-resourcehealth (availabilityStatuses/current of a cluster)."""
        from azure.mgmt.resourcehealth import ResourceHealthMgmtClient

        return self._arm("resource_health", ResourceHealthMgmtClient, subscription_id)

    @imports_serialised
    def resources(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-resource (resource groups)."""
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._arm("resources", ResourceManagementClient, subscription_id)

    @imports_serialised
    def locks(self, subscription_id: str | None = None) -> Any:
        """azure-mgmt-resource-locks (management locks, read only: the wizard never changes one)."""
        from azure.mgmt.resource.locks import ManagementLockClient

        return self._arm("locks", ManagementLockClient, subscription_id)

    @imports_serialised
    def subscriptions(self) -> Any:
        """azure-mgmt-resource-subscriptions (ARM's list of every subscription with any role)."""
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return self._warm(
            self._cached(
                "subscriptions",
                "",
                lambda: SubscriptionClient(self.credential, base_url=self.arm_endpoint, **self._common()),
            )
        )

    @imports_serialised
    def graph(self) -> Any:
        """azure-mgmt-resourcegraph (find vaults and clusters across subscriptions)."""
        from azure.mgmt.resourcegraph import ResourceGraphClient

        return self._warm(
            self._cached(
                "graph",
                "",
                lambda: ResourceGraphClient(self.credential, base_url=self.arm_endpoint, **self._common()),
            )
        )

    def resolve_vault_url(self, vault_url: str) -> str:
        """Where a vault's data plane really is: the emulator's port, or the URL itself live."""
        host = (urlsplit(vault_url).hostname or "").lower()
        return self.vault_endpoints.get(host.split(".")[0], vault_url.rstrip("/"))

    @imports_serialised
    def keys(self, vault_url: str) -> Any:
        """azure-keyvault-keys KeyClient for one vault's data plane."""
        from azure.keyvault.keys import KeyClient

        endpoint = self.resolve_vault_url(vault_url)
        return self._cached(
            "keys",
            endpoint,
            lambda: KeyClient(
                endpoint,
                self.credential,
                verify_challenge_resource=self.verify_challenge_resource,
                **self._common(),
            ),
        )

    def close(self) -> None:
        """Close every client built so far, then the shared session."""
        with self._lock:
            clients, self._cache = list(self._cache.values()), {}
            self._closed = True
        for client in clients:
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self.transport.close()
