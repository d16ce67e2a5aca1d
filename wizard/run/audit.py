"""The append-only audit log: one JSON line before and one after every write, fsync'd each time.

Records never carry a token, an Authorization header or anything shaped like a bearer token or
a JWT: every value is passed through `redact` before it is written.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.domain.times import iso

SCHEMA = "cmk-wizard/audit/v1"
REDACTED = "<redacted>"
_SECRET_KEYS = re.compile(
    r"(?i)^(authorization|proxy-authorization|x-ms-authorization-auxiliary|"
    r"token|access_?token|refresh_?token|id_?token|secret|client_?secret|"
    r"password|credential|cookie|set-cookie)$"
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_AUTH_HEADER = re.compile(r"(?i)\bauthorization\s*[:=][^\n\"]*")


def default_audit_path() -> Path:
    """`<user state dir>/cmk-wizard/audit.jsonl` (platformdirs)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("cmk-wizard")) / "audit.jsonl"


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of `value` with tokens, JWTs, bearer strings and secret-named fields removed."""
    known = [s for s in secrets if s and len(s) >= 4]
    if isinstance(value, dict):
        return {
            str(k): (REDACTED if _SECRET_KEYS.match(str(k)) else redact(v, known)) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, known) for v in value]
    if isinstance(value, str):
        text = value
        for secret in known:
            text = text.replace(secret, REDACTED)
        text = _BEARER.sub(REDACTED, text)
        text = _JWT.sub(REDACTED, text)
        return _AUTH_HEADER.sub(REDACTED, text)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), known)


def _now() -> str:
    return iso(datetime.now(UTC), "milliseconds")


class AuditLog:
    """Append-only JSONL; every record flushed and fsync'd before the call returns."""

    def __init__(self, path: str | Path | None = None, *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path) if path is not None else default_audit_path()
        self.secrets = [s for s in secrets if s]
        self.session = uuid.uuid4().hex[:12]
        self.written: list[str] = []
        self._lock = threading.Lock()
        self._seq = 0

    def add_secret(self, secret: str) -> None:
        """A string that must never appear in a record (e.g. the emulator's token)."""
        if secret:
            self.secrets.append(secret)

    def _append(self, record: dict[str, Any]) -> str:
        with self._lock:
            self._seq += 1
            rid = f"{self.session}-{self._seq:04d}"
            line = json.dumps(
                redact({"schema": SCHEMA, "id": rid, "time": _now(), **record}, self.secrets),
                sort_keys=False,
                default=str,
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            size = os.fstat(fd).st_size
            # a run killed mid-line left a torn last line: start on a fresh one, so this record stays whole
            torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(("\n" if torn else "") + line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.written.append(rid)
            return rid

    def intent(
        self,
        *,
        operator: dict[str, Any],
        remediation: str,
        target: str,
        request: dict[str, Any],
        before: dict[str, Any],
    ) -> str:
        """The record written BEFORE a write: who, what, the request, the before-state."""
        return self._append(
            {
                "phase": "before",
                "operator": operator,
                "remediation": remediation,
                "target": target,
                "request": request,
                "before": before,
            }
        )

    def result(
        self,
        intent_id: str,
        *,
        remediation: str,
        target: str,
        result: str,
        message: str,
        after: dict[str, Any],
        undo: dict[str, Any] | None = None,
        undoes: str | None = None,
    ) -> str:
        """The record written AFTER a write: ok, already-done or error, and the after-state; with
        `undo` (a temporary change: the write that takes it back) or `undoes` (the intent it takes back)."""
        record: dict[str, Any] = {
            "phase": "after",
            "intent": intent_id,
            "remediation": remediation,
            "target": target,
            "result": result,
            "message": message,
            "after": after,
        }
        if undo is not None:
            record["undo"] = undo
        if undoes:
            record["undoes"] = undoes
        return self._append(record)

    def note(self, event: str, **fields: Any) -> str:
        """A session event that is not a write (start, verification, wait, end)."""
        return self._append({"phase": "event", "event": event, **fields})


def audit_log(backend: Any, path: str | None) -> AuditLog:
    """The audit log of a fix over `backend`; with an embedded emulator its token is a secret the log
    must never hold (call after `backend.connect()`, which starts the emulator)."""
    audit = AuditLog(path)
    token = getattr(backend, "token", None)
    if callable(token) and getattr(backend, "scenario", None):
        audit.add_secret(str(token()))
    return audit


def pending_undos(path: str | Path) -> list[dict[str, Any]]:
    """The `after` records of temporary changes not taken back since (oldest first): a write that
    carried an `undo` (ok, or unknown: it may have landed) with no later ok/already-done write that
    `undoes` it. Lines that are not whole JSON (a run killed mid-line) are passed over."""
    target = Path(path)
    if not target.exists():
        return []
    pending: dict[str, dict[str, Any]] = {}
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or record.get("phase") != "after":
            continue
        if isinstance(record.get("undo"), dict) and record.get("result") in ("ok", "unknown"):
            pending[str(record.get("intent"))] = record
        if record.get("undoes") and record.get("result") in ("ok", "already-done"):
            pending.pop(str(record["undoes"]), None)
    return list(pending.values())


def read_audit(path: str | Path) -> list[dict[str, Any]]:
    """Every record of an audit log (raises ValueError on a line that is not JSON)."""
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
    return records
