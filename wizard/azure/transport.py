"""The one HTTP session every SDK client sends through, and the connections opened before it is needed.

A diagnosis starts with one read to ARM; when the TCP and TLS handshakes pay the network's latency
(two round trips before the first byte of the request), that read waits on them unless they were
started earlier. `EarlySockets` opens TCP connections with the standard library alone, while the
process is still importing the Azure SDK; the session's HTTPS connections take one of those sockets
instead of dialling (`_new_conn`), then do TLS as urllib3 always does (same context, same
verification). Everything here is best effort: with no early socket left, urllib3 dials as usual.

This module imports only the standard library at import time: `EarlySockets` must start before
requests and urllib3 are loaded. urllib3 internals used (pinned to urllib3 2.x in pyproject,
guarded by tests/reliability/test_connections.py): `HTTPConnection._new_conn` (the dialling
step), `HTTPConnectionPool._get_conn` / `_put_conn` (to place connected connections in the pool).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import sys
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

ARM_PUBLIC = "https://management.azure.com"
POOL_SIZE = 16
"""Connections kept per host: at least as many as reads a diagnosis or sweep has in flight."""
EARLY_CONNECTIONS = 4
"""ARM connections opened while the first read is in flight: the widest stage of a diagnosis
(vault, key, newest key version and role assignments side by side)."""
EARLY_SOCKET_SECONDS = 60.0
"""An early socket unused for this long is closed, not used: a load balancer may have dropped it."""
EARLY_WAIT_SECONDS = 2.0
"""How long after dialling began a request still waits for an early socket or a prewarmed
connection rather than dialling its own: several round trips on any network a diagnosis runs
over. On a network that swallows the SYN, the first attempt then fails at most this much later
than it would have (its own connect timeout still applies; retries are unchanged)."""
EARLY_THREAD = "cmk-client-prewarm-connect"
"""The name of the short-lived threads that dial and handshake early (the prefix is PREWARM_THREAD's)."""


def host_and_port(endpoint: str) -> tuple[str, int]:
    """The host and port an https endpoint's connections go to."""
    parts = urlsplit(endpoint)
    return (parts.hostname or "").lower(), parts.port or 443


def proxied(endpoint: str) -> bool:
    """Whether requests would send this endpoint through a proxy (then nothing is dialled early).
    On Linux proxies come from the environment only, so no proxy variable settles it cheaply."""
    if sys.platform.startswith("linux"):
        named = {name.lower() for name, value in os.environ.items() if value}
        if not named & {"https_proxy", "all_proxy"}:
            return False
    import urllib.request

    host, _ = host_and_port(endpoint)
    proxies = urllib.request.getproxies()
    if not proxies.get("https") and not proxies.get("all"):
        return False
    return not urllib.request.proxy_bypass(host)


class EarlySockets:
    """TCP connections to one host, dialled on daemon threads before the HTTP stack is loaded; an
    HTTPS connection to that host takes one instead of dialling (TLS is still its own)."""

    def __init__(self, endpoint: str, count: int, timeout: float) -> None:
        self.host, self.port = host_and_port(endpoint)
        self.timeout = timeout
        self.dialled = 0
        self._ready: deque[tuple[float, socket.socket]] = deque()
        self._pending = count
        self._wait_until = time.monotonic() + min(timeout, EARLY_WAIT_SECONDS)
        self._changed = threading.Condition()
        self._closed = False
        for _ in range(count):
            threading.Thread(target=self._dial, name=EARLY_THREAD, daemon=True).start()

    def _dial(self) -> None:
        sock: socket.socket | None = None
        with contextlib.suppress(OSError):
            sock = socket.create_connection((self.host, self.port), self.timeout)
        with self._changed:
            self._pending -= 1
            if sock is not None:
                self.dialled += 1
                if self._closed:
                    sock.close()
                else:
                    self._ready.append((time.monotonic(), sock))
            self._changed.notify_all()

    def take(self, host: str, port: int) -> socket.socket | None:
        """A connected socket to host:port, waiting (up to EARLY_WAIT_SECONDS after dialling began)
        for one still being dialled; None when there is none (another host, all taken, failed, too
        old, or closed by the other side)."""
        if (host.lower(), port) != (self.host, self.port):
            return None
        with self._changed:
            while not self._ready and self._pending and not self._closed:
                left = self._wait_until - time.monotonic()
                if left <= 0 or not self._changed.wait(left):
                    break
            while self._ready:
                dialled_at, sock = self._ready.popleft()
                if time.monotonic() - dialled_at < EARLY_SOCKET_SECONDS and _still_open(sock):
                    return sock
                sock.close()
        return None

    def close(self) -> None:
        """Close every socket not taken (and any still being dialled, when it connects)."""
        with self._changed:
            self._closed = True
            while self._ready:
                self._ready.popleft()[1].close()
            self._changed.notify_all()


def _still_open(sock: socket.socket) -> bool:
    """No data and no EOF waiting on an idle TCP socket (nothing has been sent on it yet)."""
    import select

    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def _only_tls_records_waiting(sock: Any) -> bool:
    """Read what is waiting on an idle TLS connection: True if it was only TLS's own records (the
    session tickets a TLS 1.3 server sends after the handshake), False on EOF or any data."""
    if not isinstance(sock, ssl.SSLSocket):
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return not sock.recv(1)  # b"" is EOF; data on an idle HTTP/1.1 connection is not ours either
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)


def _adapter_class(early: EarlySockets | None) -> Any:
    """requests' HTTPAdapter over an urllib3 pool whose HTTPS connections take early sockets and do
    not mistake TLS session tickets for a dropped connection."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.util.wait import wait_for_read

    class Connection(HTTPSConnection):
        """urllib3's HTTPS connection; dials through `early` when it holds a socket for this host."""

        def _new_conn(self) -> socket.socket:
            tunnelled = getattr(self, "_tunnel_host", None) is not None or self.proxy is not None
            if early is None or tunnelled or self.source_address is not None:
                return super()._new_conn()
            sock = early.take(self.host, self.port)
            if sock is None:
                return super()._new_conn()
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            if self.timeout is None or isinstance(self.timeout, int | float):
                sock.settimeout(self.timeout)  # as urllib3's create_connection (its default: leave it)
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock

        @property
        def is_connected(self) -> bool:
            """Connected unless the socket is gone or something other than TLS records waits on it."""
            if self.sock is None:
                return False
            return not wait_for_read(self.sock, timeout=0.0) or _only_tls_records_waiting(self.sock)

    class Pool(HTTPSConnectionPool):
        ConnectionCls = Connection

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPConnectionPool, "https": Pool}

    return Adapter


class SharedTransport:
    """One requests session for every client (one pool of POOL_SIZE per host), fed by early sockets."""

    def __init__(self, early: EarlySockets | None = None) -> None:
        self.early = early
        self._session: Any = None
        self._lock = threading.Lock()
        self._warm = threading.Event()
        self._warm.set()
        self._warm_until = 0.0
        self._warming: set[str] = set()

    def session(self) -> Any:
        """The requests session, built on first use."""
        with self._lock:
            if self._session is None:
                import requests

                session = requests.Session()
                adapter = _adapter_class(self.early)
                for scheme in ("https://", "http://"):
                    session.mount(scheme, adapter(pool_connections=8, pool_maxsize=POOL_SIZE))
                self._session = session
            return self._session

    def warm(self, endpoint: str, verify: str | bool, timeout: float, count: int = EARLY_CONNECTIONS) -> bool:
        """Start `open_connections` on a daemon thread, once per endpoint (False: already started);
        until its first connection is in the pool, `await_warm` waits."""
        with self._lock:
            if endpoint in self._warming:
                return False
            self._warming.add(endpoint)
        self._warm_until = time.monotonic() + min(timeout, EARLY_WAIT_SECONDS)
        self._warm.clear()
        thread = threading.Thread(
            target=self._quietly_open,
            args=(endpoint, count, verify, timeout),
            name=EARLY_THREAD,
            daemon=True,
        )
        try:
            thread.start()
        except RuntimeError:
            self._warm.set()
            raise
        return True

    def _quietly_open(self, endpoint: str, count: int, verify: str | bool, timeout: float) -> None:
        with contextlib.suppress(Exception):  # best effort: a failure here is the first read's to report
            self.open_connections(endpoint, count, verify, timeout)

    def open_connections(self, endpoint: str, count: int, verify: str | bool, timeout: float) -> int:
        """Put `count` connected (TCP and TLS) connections to `endpoint` in the pool, in parallel,
        without sending a request; each goes in as soon as its handshake is done, and the first
        one to finish (connected or not) ends `await_warm`. Returns how many it opened."""
        try:
            return self._open(endpoint, count, verify, timeout)
        finally:
            self._warm.set()

    def _open(self, endpoint: str, count: int, verify: str | bool, timeout: float) -> int:
        import requests

        if proxied(endpoint):
            return 0
        session = self.session()
        prepared = requests.Request("GET", endpoint.rstrip("/") + "/").prepare()
        # the pool a request will use: requests lets REQUESTS_CA_BUNDLE stand in for verify=True
        verify = session.merge_environment_settings(prepared.url, {}, None, verify, None)["verify"]
        pool = session.get_adapter(prepared.url).get_connection_with_tls_context(prepared, verify)
        connections = [pool._get_conn() for _ in range(count)]
        opened: list[Any] = []
        lock = threading.Lock()

        def connect(connection: Any) -> None:
            try:
                connection.timeout = timeout  # each request sets its own again (urllib3 does)
                connection.connect()
                with lock:
                    opened.append(connection)
            except Exception:  # best effort: the pool dials its own when a request needs one
                connection.close()
            finally:
                pool._put_conn(connection)
                self._warm.set()

        threads = [
            threading.Thread(target=connect, args=(c,), daemon=True, name=EARLY_THREAD) for c in connections
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(2 * timeout)
        return len(opened)

    def await_warm(self) -> None:
        """Wait (up to EARLY_WAIT_SECONDS after `warm` began) until the first connection `warm` is
        opening is in the pool, so the first request takes it rather than dialling one more."""
        left = self._warm_until - time.monotonic()
        if left > 0:
            self._warm.wait(left)

    def close(self) -> None:
        """Close the session and any early socket not taken."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()
        if self.early is not None:
            self.early.close()
