"""Emulators started per test (mutating tests get their own) and real SDK clients pointed at them."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from azure.core.credentials import AccessToken
from azure.keyvault.keys import KeyClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.mongocluster import MongoClusterMgmtClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.locks import ManagementLockClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcehealth import ResourceHealthMgmtClient

from wizard.emulator import Emulator, Estate

RG = "rg-cmk-demo"
VAULT = "kv-cmk-demo"


class FakeCredential:
    """Hands out the emulator's token for any scope and tenant (accepts the challenge's kwargs)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 365 * 86400)


@dataclass
class Clients:
    """The real SDK clients, all pointed at one emulator."""

    emu: Emulator
    sub: str
    mongo: MongoClusterMgmtClient
    kv: KeyVaultManagementClient
    msi: ManagedServiceIdentityClient
    authz: AuthorizationManagementClient
    graph: ResourceGraphClient
    resource_health: ResourceHealthMgmtClient
    locks: ManagementLockClient

    def keys(self, vault: str = VAULT, **kwargs: Any) -> KeyClient:
        return KeyClient(
            self.emu.connection["vaults"][vault],
            FakeCredential(self.emu.token),
            verify_challenge_resource=False,
            connection_verify=self.emu.ca_path,
            **{"retry_total": 0, **kwargs},
        )

    @property
    def cluster_id(self) -> str:
        return str(self.emu.connection["clusters"][0])

    @property
    def cluster_name(self) -> str:
        return self.cluster_id.rsplit("/", 1)[-1]

    def health(self) -> dict[str, Any]:
        return dict(self.emu.health()["clusters"][self.cluster_id])

    def reasons(self) -> list[str]:
        return [r["code"] for r in self.health()["reasons"]]


def make_clients(emu: Emulator, **kwargs: Any) -> Clients:
    """SDK clients with polling_interval=0 and, unless told, retry_total=0."""
    cred = FakeCredential(emu.token)
    sub = str(emu.connection["subscriptionId"])
    common = {
        "base_url": emu.arm_endpoint,
        "connection_verify": emu.ca_path,
        "polling_interval": 0,
        "retry_total": 0,
        **kwargs,
    }
    return Clients(
        emu,
        sub,
        MongoClusterMgmtClient(cred, sub, **common),
        KeyVaultManagementClient(cred, sub, **common),
        ManagedServiceIdentityClient(cred, sub, **common),
        AuthorizationManagementClient(cred, sub, **common),
        ResourceGraphClient(cred, **common),
        ResourceHealthMgmtClient(cred, sub, **common),
        ManagementLockClient(cred, sub, **common),
    )


def admin(emu: Emulator, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Call an admin endpoint over HTTPS with the emulator's token (the door refuses anyone else)."""
    context = ssl.create_default_context(cafile=emu.ca_path)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        emu.arm_endpoint + path,
        data=data,
        method="POST" if data else "GET",
        headers={"Authorization": f"Bearer {emu.token}"},
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def raw(c: Clients, method: str, url: str, body: object = None) -> tuple[int, dict[str, str], object]:
    """One authenticated call outside the SDK: status, headers and JSON body (None when empty)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url if url.startswith("https://") else c.emu.arm_endpoint + url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {c.emu.token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=c.emu.ca_path)
    try:
        with urllib.request.urlopen(request, context=context) as response:
            text = response.read()
            return response.status, dict(response.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        return exc.code, dict(exc.headers), json.loads(text) if text else None


class StartEmulator(Protocol):
    """The `start` fixture: a scenario (name, estate file or Estate) in, clients for its emulator out."""

    def __call__(
        self,
        scenario: str | Estate,
        client_kwargs: dict[str, Any] | None = None,
        *,
        latency_ms: int = 0,
        revalidate_seconds: float = 0.0,
        status_mode: str | None = None,
    ) -> Clients: ...


@pytest.fixture
def start() -> Iterator[StartEmulator]:
    """Start an emulator on a scenario (stopped after the test) and return clients for it."""
    started: list[Emulator] = []

    def run(
        scenario: str | Estate,
        client_kwargs: dict[str, Any] | None = None,
        *,
        latency_ms: int = 0,
        revalidate_seconds: float = 0.0,
        status_mode: str | None = None,
    ) -> Clients:
        emu = Emulator(
            scenario, latency_ms=latency_ms, revalidate_seconds=revalidate_seconds, status_mode=status_mode
        )
        started.append(emu)
        emu.start()
        return make_clients(emu, **(client_kwargs or {}))

    yield run
    for emu in started:
        emu.stop()
