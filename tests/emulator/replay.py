"""Replaying a recording of the Azure SDKs' live tests against the emulator, and what counts as the same.

Same: the status; the headers that steer a client (LRO and challenge headers, present or absent, and
their shape; the ARM quota headers the recording has, in shape); the body's keys and value types,
recursively (lists item by item); and the values that are states or codes. Ids, dates, GUIDs,
signatures and host names are not compared: the recorder sanitized them and the emulator makes its own.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
VAULT_HOST = re.compile(r"^([A-Za-z0-9-]+)\.vault\.azure\.net(:443)?$", re.I)
PLACEHOLDER_SUBSCRIPTION = "5c0f1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
"""Stands for the JS recorder's `azure_subscription_id`, which is not a GUID."""

STEERING_HEADERS = (
    "azure-asyncoperation",
    "location",
    "retry-after",
    "www-authenticate",
    "x-ms-failure-cause",
)
QUOTA_PREFIXES = ("x-ms-ratelimit-remaining-", "x-ms-user-quota-")
STATE_KEYS = {"provisioningState", "clusterStatus", "status", "recoveryLevel", "resultTruncated"}


@dataclass(frozen=True)
class Entry:
    """One recorded request and the real service's answer (header names lower-cased)."""

    method: str
    uri: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def vault(self) -> str | None:
        """The vault name when the request went to a vault's data plane."""
        found = VAULT_HOST.match(urlsplit(self.uri).netloc)
        return found.group(1) if found else None

    @property
    def path(self) -> str:
        """The request path (as sent, doubled slashes and all)."""
        return urlsplit(self.uri).path

    @property
    def when(self) -> float:
        """When the service answered (its Date header), epoch seconds."""
        return parsedate_to_datetime(self.headers["date"]).timestamp()

    @property
    def challenged(self) -> bool:
        """The anonymous first request a Key Vault client sends (answered 401 with the challenge)."""
        return self.status == 401 and "www-authenticate" in self.headers


def load(path: Path) -> list[Entry]:
    """The entries of one test-proxy recording file."""
    return [
        Entry(
            e["RequestMethod"],
            e["RequestUri"],
            dict(e["RequestHeaders"]),
            e["RequestBody"],
            int(e["StatusCode"]),
            {k.lower(): v for k, v in e["ResponseHeaders"].items()},
            e["ResponseBody"],
        )
        for e in json.loads(path.read_text(encoding="utf-8"))["Entries"]
    ]


@dataclass(frozen=True)
class Answer:
    """The emulator's answer to one replayed request."""

    status: int
    headers: dict[str, str]
    body: Any


def _target(url: str) -> str:
    """The path and query of a URL (the host is mapped separately)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Links:
    """Recorded polling and paging URLs, each paired with the emulator's own URL for the same step;
    and recorded key versions, each paired with the version the emulator made in the same step."""

    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        self.by_path: dict[str, str] = {}
        self.versions: dict[str, str] = {}

    def learn(self, recorded: Entry, answer: Answer) -> None:
        """Pair the LRO headers and nextLink of the recorded answer with those the emulator gave."""
        pairs = [
            (recorded.headers.get(h), answer.headers.get(h)) for h in ("azure-asyncoperation", "location")
        ]
        pairs.append((_next_link(recorded.body), _next_link(answer.body)))
        for theirs, ours in pairs:
            if theirs and ours:
                self.exact[_target(theirs)] = ours
                self.by_path[urlsplit(theirs).path] = ours
        self.versions.update(zip(_versions(recorded.body), _versions(answer.body), strict=False))

    def rewrite(self, target: str) -> str:
        """A recorded path with the key versions it names replaced by the emulator's."""
        path, mark, query = target.partition("?")
        return "/".join(self.versions.get(part, part) for part in path.split("/")) + mark + query

    def resolve(self, recorded_uri: str) -> str | None:
        """The emulator's URL for a recorded follow-up request (a poll, the next page), if it is one."""
        return self.exact.get(_target(recorded_uri)) or self.by_path.get(urlsplit(recorded_uri).path)


def _next_link(body: Any) -> str | None:
    return body.get("nextLink") if isinstance(body, dict) else None


def _versions(body: Any) -> list[str]:
    """The key versions an answer names (data-plane kid, management-plane keyUriWithVersion)."""
    if not isinstance(body, dict):
        return []
    uri = (body.get("key") or {}).get("kid") or (body.get("properties") or {}).get("keyUriWithVersion")
    return [str(uri).rstrip("/").rsplit("/", 1)[-1]] if uri else []


class Sender:
    """Sends replayed requests over HTTPS to the emulator's ARM or vault ports (one connection each)."""

    def __init__(
        self, arm_endpoint: str, vault_endpoint: Callable[[str], str], ca_path: str, token: str
    ) -> None:
        self._arm, self._vault, self._token = arm_endpoint, vault_endpoint, token
        self._context = ssl.create_default_context(cafile=ca_path)
        self._connections: dict[str, http.client.HTTPSConnection] = {}

    def url_for(self, entry: Entry, links: Links) -> str:
        """The emulator URL the recorded request maps to: its poll or page, else the same path."""
        linked = links.resolve(entry.uri)
        if linked is not None:
            return linked if linked.startswith("https://") else self._arm + linked
        base = self._vault(entry.vault) if entry.vault else self._arm
        return base + links.rewrite(_target(entry.uri)).replace(
            "azure_subscription_id", PLACEHOLDER_SUBSCRIPTION
        )

    def send(self, entry: Entry, url: str) -> Answer:
        """The recorded method and body, with our token (none for the recorded anonymous challenge)."""
        parts = urlsplit(url)
        headers = {"Accept": entry.request_headers.get("Accept", "application/json")}
        if not entry.challenged:
            headers["Authorization"] = f"Bearer {self._token}"
        body = None if entry.request_body is None else json.dumps(entry.request_body).encode()
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn = self._connections.get(parts.netloc)
        if conn is None:
            host, port = parts.netloc.rsplit(":", 1)
            conn = http.client.HTTPSConnection(host, int(port), context=self._context, timeout=10)
            self._connections[parts.netloc] = conn
        conn.request(entry.method, _target(url), body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            json.loads(payload) if payload else None,
        )

    def close(self) -> None:
        """Close every connection."""
        for conn in self._connections.values():
            conn.close()


def _shape(name: str, value: str) -> str:
    """A header value without its values: URLs by kind, GUIDs and numbers as placeholders."""
    if name in ("location", "azure-asyncoperation"):
        return (
            "absolute URL" if value.startswith("https://") else "relative path" if value[:1] == "/" else value
        )
    return re.sub(r"\d+", "<n>", GUID.sub("<guid>", value))


def header_problems(recorded: Entry, answer: Answer) -> list[str]:
    """Steering headers present on one side only or shaped differently; quota headers likewise
    (the emulator may add the `-global-` family, which is newer than the older recordings)."""
    problems = []
    names = [*STEERING_HEADERS, *(h for h in recorded.headers if h.startswith(QUOTA_PREFIXES))]
    for name in names:
        theirs, ours = recorded.headers.get(name), answer.headers.get(name)
        if (theirs is None) != (ours is None):
            problems.append(f"header {name}: {'absent' if ours is None else 'present'} (recorded {theirs!r})")
        elif theirs is not None and ours is not None and _shape(name, theirs) != _shape(name, ours):
            problems.append(f"header {name}: {ours!r} is not shaped like {theirs!r}")
    extra = [h for h in answer.headers if h.startswith(QUOTA_PREFIXES) and h not in recorded.headers]
    problems += [f"header {h}: not in the recording" for h in extra if "-global-" not in h]
    return problems


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def body_problems(recorded: Any, ours: Any, path: str = "$") -> list[str]:
    """Keys and value types, recursively; states and codes by value."""
    if isinstance(recorded, dict) and isinstance(ours, dict):
        problems = [f"{path}.{k}: missing" for k in recorded if k not in ours]
        problems += [f"{path}.{k}: not in the recording" for k in ours if k not in recorded]
        for key in (k for k in recorded if k in ours):
            where = f"{path}.{key}"
            is_code = key == "code" and ".error" in path
            if (key in STATE_KEYS or is_code) and recorded[key] != ours[key]:
                problems.append(f"{where}: {ours[key]!r}, recorded {recorded[key]!r}")
            problems += body_problems(recorded[key], ours[key], where)
        return problems
    if isinstance(recorded, list) and isinstance(ours, list):
        if len(recorded) != len(ours):
            return [f"{path}: {len(ours)} items, recorded {len(recorded)}"]
        return [
            p
            for i, (a, b) in enumerate(zip(recorded, ours, strict=True))
            for p in body_problems(a, b, f"{path}[{i}]")
        ]
    if _kind(recorded) != _kind(ours):
        return [f"{path}: {_kind(ours)}, recorded {_kind(recorded)}"]
    return []


def problems(index: int, recorded: Entry, answer: Answer) -> list[str]:
    """Everything about the emulator's answer that is not the same as the recorded one."""
    found = (
        [] if recorded.status == answer.status else [f"status {answer.status}, recorded {recorded.status}"]
    )
    found += header_problems(recorded, answer) + body_problems(recorded.body, answer.body)
    return [f"entry {index} ({recorded.method} {urlsplit(recorded.uri).path}): {p}" for p in found]
