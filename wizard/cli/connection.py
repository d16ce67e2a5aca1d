"""The emulator connection file (a DESIGN.md contract), read strictly."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wizard.domain.errors import BadInput
from wizard.domain.ids import CLUSTER_TYPE, parse_resource_id, quoted

MAX_CONNECTION_BYTES = 1 << 20
"""A connection file is a few hundred bytes; anything near this is not one."""
_ID_TEXT = re.compile(r"^[0-9A-Za-z-]{1,64}$")


@dataclass(frozen=True)
class Connection:
    """Where a running emulator listens and what it holds."""

    arm_endpoint: str
    ca_bundle: str
    tenant_id: str
    subscription_id: str
    clusters: tuple[str, ...] = ()
    vaults: dict[str, str] = field(default_factory=dict)


def _loopback_https(url: Any, what: str) -> str:
    """An emulator endpoint: https on loopback with a real port, nothing else (a port of 99999
    would otherwise cost every retry of every read before the run gave up)."""
    if not isinstance(url, str):
        raise BadInput(f"connection file: {what} must be a string")
    wrong = BadInput(f"connection file: {what} must be https://127.0.0.1:PORT, got {quoted(url)}")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise wrong from None
    if parts.scheme != "https" or parts.hostname not in ("127.0.0.1", "localhost") or port in (None, 0):
        raise wrong
    if parts.username or parts.password or parts.path.strip("/") or parts.query or parts.fragment:
        raise wrong
    return url.rstrip("/")


def _cluster_ids(clusters: list[str], source: str) -> tuple[str, ...]:
    """The clusters a connection file names, each a well-formed mongoClusters ID."""
    try:
        return tuple(str(parse_resource_id(c, CLUSTER_TYPE)) for c in clusters)
    except BadInput as exc:
        raise BadInput(f"{source}: clusters: {exc}") from None


def parse_connection(data: Any, *, source: str = "connection file") -> Connection:
    """Validate the JSON object; every problem is one line naming the field."""
    if not isinstance(data, dict):
        raise BadInput(f"{source}: expected a JSON object")
    for name in ("armEndpoint", "caBundle", "tenantId", "subscriptionId"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise BadInput(f"{source}: missing or empty {name!r}")
    for name in ("tenantId", "subscriptionId"):
        if not _ID_TEXT.match(data[name]):
            raise BadInput(f"{source}: {name} {quoted(data[name])} is not a GUID")
    clusters = data.get("clusters", [])
    vaults = data.get("vaults", {})
    if not isinstance(clusters, list) or not all(isinstance(c, str) for c in clusters):
        raise BadInput(f"{source}: 'clusters' must be a list of resource IDs")
    if not isinstance(vaults, dict):
        raise BadInput(f"{source}: 'vaults' must map vault names to https URLs")
    return Connection(
        arm_endpoint=_loopback_https(data["armEndpoint"], "armEndpoint"),
        ca_bundle=data["caBundle"],
        tenant_id=data["tenantId"],
        subscription_id=data["subscriptionId"],
        clusters=_cluster_ids(clusters, source),
        vaults={str(k).lower(): _loopback_https(v, f"vaults[{quoted(str(k))}]") for k, v in vaults.items()},
    )


def load_connection(path: str | Path) -> Connection:
    """Read a connection file written by `cmk-wizard emulator`."""
    file = Path(path)
    try:
        text = _read_small_file(file)
    except FileNotFoundError:
        raise BadInput(f"connection file not found: {file}") from None
    except OSError as exc:
        raise BadInput(f"cannot read connection file {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"connection file {file} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"connection file {file} is not JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise BadInput(f"connection file {file} is nested too deeply to be a connection file") from None
    connection = parse_connection(data, source=f"connection file {file}")
    if not Path(connection.ca_bundle).is_file():
        raise BadInput(
            f"connection file {file}: CA bundle {quoted(connection.ca_bundle)} does not exist "
            "(is the emulator still running?)"
        )
    return connection


def _read_small_file(file: Path) -> str:
    """The text of a regular file of at most MAX_CONNECTION_BYTES (a FIFO would block, /dev/zero not end)."""
    info = file.stat()
    if not stat.S_ISREG(info.st_mode):
        raise OSError(0, "not a regular file")
    if info.st_size > MAX_CONNECTION_BYTES:
        raise OSError(0, f"larger than {MAX_CONNECTION_BYTES // 1024} KiB")
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_CONNECTION_BYTES + 1)
    if len(data) > MAX_CONNECTION_BYTES:
        raise OSError(0, f"larger than {MAX_CONNECTION_BYTES // 1024} KiB")
    return data.decode("utf-8")
