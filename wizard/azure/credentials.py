"""Live credentials: Azure CLI first, then the rest of azure-identity's chain, or device code.

Sign-in is bounded: every credential of the chain gets the run's timeouts and retry budget, and
the whole attempt has a deadline of its own (a metadata endpoint that accepts and never answers
would otherwise hold the run for azure-core's 300 s read timeout). A failure is one line that
says what was tried and what to do; azure-identity's per-credential report stays out of sight.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential

from wizard.domain.errors import AuthFailed

AUTH_MODES = ("auto", "cli", "device-code")
SIGN_IN_SCOPE = "https://management.azure.com/.default"
REFRESH_MARGIN_SECONDS = 300
IDENTITY_ENDPOINT_VARIABLES = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST")
"""Where azure-identity's ManagedIdentityCredential looks for its endpoint, in its order."""
TRIED = {
    "auto": "the Azure CLI login, then azure-identity's chain (environment, workload identity, "
    "managed identity, developer tools)",
    "cli": "the Azure CLI login",
    "device-code": "a device-code sign-in",
    "offline": "managed identity at the loopback endpoint",
}


def _device_code_prompt(verification_uri: str, user_code: str, expires_on: Any) -> None:
    """Device-code sign-in for SSH hosts without a browser: say where to go, on stderr."""
    print(f"To sign in, open {verification_uri} and enter the code {user_code}", file=sys.stderr)


def sign_in_advice(auth: str) -> str:
    """What the operator can do next: `az login` where the Azure CLI is installed, else device code."""
    if auth == "device-code":
        return "run again with --auth device-code and enter the code before it expires"
    if shutil.which("az"):
        return "run `az login`, then try again"
    return "use --auth device-code (the Azure CLI is not installed)"


def _is_loopback(url: str) -> bool:
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        return parts.hostname in ("127.0.0.1", "localhost") and parts.port is not None
    except ValueError:
        return False


def offline_identity_endpoint(env: Mapping[str, str]) -> str | None:
    """With live Azure switched off, the one sign-in still allowed: managed identity at a loopback
    endpoint (tests), never workload identity or the developer tools, which reach out to Entra ID."""
    if env.get("AZURE_FEDERATED_TOKEN_FILE"):
        return None
    configured = [env[name] for name in IDENTITY_ENDPOINT_VARIABLES if env.get(name)]
    if not configured or not all(_is_loopback(url) for url in configured):
        return None
    return configured[0]


class BoundedCredential:
    """A credential whose every token request ends within `deadline` seconds (None: device code,
    which waits for a person), whose tokens are shared by every client until close to expiry, and
    whose failure is one AuthFailed line; after a failure it fails at once, without trying again."""

    def __init__(
        self,
        inner: TokenCredential,
        *,
        auth: str,
        deadline: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._auth = auth
        self._deadline = deadline
        self._lock = threading.Lock()
        self._tokens: dict[tuple[Any, ...], AccessToken] = {}
        self._failure: AuthFailed | None = None

    def __repr__(self) -> str:
        return f"BoundedCredential({self._auth}, deadline={self._deadline})"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """A cached token, or a new one within the deadline; AuthFailed (one line) otherwise."""
        key = (scopes, kwargs.get("tenant_id"), kwargs.get("enable_cae"))
        with self._lock:
            if self._failure is not None:
                raise self._failure
            cached = self._tokens.get(key)
            fresh = cached is not None and cached.expires_on - REFRESH_MARGIN_SECONDS > time.time()
            if cached is not None and fresh and kwargs.get("claims") is None:
                return cached
            try:
                token = self._bounded(lambda: self._inner.get_token(*scopes, **kwargs))
            except AuthFailed as exc:
                self._failure = exc
                raise
            self._tokens[key] = token
            return token

    def sign_in(self) -> None:
        """Get the management token now, so a failed sign-in ends the run before anything else."""
        self.get_token(SIGN_IN_SCOPE)

    def _bounded(self, fetch: Callable[[], AccessToken]) -> AccessToken:
        tried, advice = TRIED.get(self._auth, self._auth), sign_in_advice(self._auth)
        result: list[AccessToken] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                result.append(fetch())
            except BaseException as exc:
                errors.append(exc)

        started = self._clock()
        if self._deadline is None:
            run()
        else:
            worker = threading.Thread(target=run, name="cmk-wizard-sign-in", daemon=True)
            worker.start()
            worker.join(self._deadline)
        if result:
            return result[0]
        error = errors[0] if errors else None
        if isinstance(error, KeyboardInterrupt):
            raise error
        # still running, or given up by its own read timeout (the same bound): the time ran out
        if self._deadline is not None and self._clock() - started >= self._deadline:
            raise AuthFailed(
                f"sign-in did not finish within {self._deadline:g} s (--timeout): tried {tried}; {advice}"
            )
        raise AuthFailed(f"could not sign in to Azure: tried {tried}; {advice}")

    def close(self) -> None:
        """Close the wrapped credential's transports."""
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()


def live_credential(
    auth: str = "auto",
    tenant_id: str | None = None,
    *,
    timeout: float = 30.0,
    retry_total: int = 4,
    offline: bool = False,
) -> BoundedCredential:
    """The credential for real Azure; vaults in another tenant are allowed to ask for theirs.

    With `offline`, only managed identity (whose endpoint the caller checked is on loopback)."""
    from azure.identity import (
        AzureCliCredential,
        ChainedTokenCredential,
        DefaultAzureCredential,
        DeviceCodeCredential,
        ManagedIdentityCredential,
    )

    logging.getLogger("azure.identity").addHandler(logging.NullHandler())
    bounds: dict[str, Any] = {
        "connection_timeout": min(10.0, timeout),
        "read_timeout": timeout,
        "retry_total": retry_total,
    }
    tenants = ["*"]
    if offline:
        return BoundedCredential(ManagedIdentityCredential(**bounds), auth="offline", deadline=timeout)
    if auth == "device-code":
        device = DeviceCodeCredential(
            tenant_id=tenant_id,
            prompt_callback=_device_code_prompt,
            additionally_allowed_tenants=tenants,
            **bounds,
        )
        return BoundedCredential(device, auth=auth, deadline=None)
    cli = AzureCliCredential(
        tenant_id=tenant_id or "", additionally_allowed_tenants=tenants, process_timeout=max(1, int(timeout))
    )
    if auth == "cli":
        return BoundedCredential(cli, auth=auth, deadline=timeout)
    rest = DefaultAzureCredential(
        exclude_cli_credential=True,
        additionally_allowed_tenants=tenants,
        exclude_interactive_browser_credential=True,
        process_timeout=max(1, int(timeout)),
        **bounds,
    )
    return BoundedCredential(ChainedTokenCredential(cli, rest), auth=auth, deadline=timeout)
