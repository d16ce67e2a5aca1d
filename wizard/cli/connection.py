"""The emulator connection file (a DESIGN.md contract), read strictly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wizard.domain.errors import BadInput


@dataclass(frozen=True)
class Connection:
    """Where a running emulator listens and what it holds."""

    arm_endpoint: str
    ca_bundle: str
    tenant_id: str
    subscription_id: str
    clusters: tuple[str, ...] = ()
    vaults: dict[str, str] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)  # the emulator's own token (optional field)


def _loopback_https(url: Any, what: str) -> str:
    if not isinstance(url, str):
        raise BadInput(f"connection file: {what} must be a string")
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in ("127.0.0.1", "localhost"):
        raise BadInput(f"connection file: {what} must be https://127.0.0.1:PORT, got {url!r}")
    return url.rstrip("/")


def parse_connection(data: Any, *, source: str = "connection file") -> Connection:
    """Validate the JSON object; every problem is one line naming the field."""
    if not isinstance(data, dict):
        raise BadInput(f"{source}: expected a JSON object")
    for name in ("armEndpoint", "caBundle", "tenantId", "subscriptionId"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise BadInput(f"{source}: missing or empty {name!r}")
    clusters = data.get("clusters", [])
    vaults = data.get("vaults", {})
    if not isinstance(clusters, list) or not all(isinstance(c, str) for c in clusters):
        raise BadInput(f"{source}: 'clusters' must be a list of resource IDs")
    if not isinstance(vaults, dict):
        raise BadInput(f"{source}: 'vaults' must map vault names to https URLs")
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise BadInput(f"{source}: 'token' must be a non-empty string when present")
    return Connection(
        arm_endpoint=_loopback_https(data["armEndpoint"], "armEndpoint"),
        ca_bundle=data["caBundle"],
        tenant_id=data["tenantId"],
        subscription_id=data["subscriptionId"],
        clusters=tuple(clusters),
        vaults={str(k).lower(): _loopback_https(v, f"vaults.{k}") for k, v in vaults.items()},
        token=token,
    )


def load_connection(path: str | Path) -> Connection:
    """Read a connection file written by `cmk-wizard emulator`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"connection file not found: {file}") from None
    except OSError as exc:
        raise BadInput(f"cannot read connection file {file}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"connection file {file} is not JSON (line {exc.lineno}: {exc.msg})") from None
    connection = parse_connection(data, source=f"connection file {file}")
    if not Path(connection.ca_bundle).is_file():
        raise BadInput(
            f"connection file {file}: CA bundle {connection.ca_bundle} does not exist "
            "(is the emulator still running?)"
        )
    return connection
