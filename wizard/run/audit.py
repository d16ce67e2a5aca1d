"""The append-only audit log: one JSON line before and one after every write, fsync'd each time.

Each record is one `os.write` on an O_APPEND descriptor under an flock, its count checked, then
fsync'd: a full disk leaves the record out entirely (AuditWriteFailed), never half of it. A torn
last line left by an older version or a crash is moved to `<log>.torn` before anything is appended.

Records never carry a token, an Authorization header or anything shaped like a bearer token or
a JWT: every value is passed through `redact` before it is written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.domain.errors import AuditWriteFailed
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


def demo_state_dir() -> Path:
    """`<user state dir>/cmk-wizard/demo`: where runs against an emulator keep their audit log and
    reports, so a training run never lands in the live audit log."""
    return default_audit_path().parent / "demo"


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


def _write_whole(fd: int, data: bytes, path: Path) -> None:
    """Write `data` with one call and fsync it; AuditWriteFailed when it did not all go to disk."""
    try:
        count = os.write(fd, data)
    except OSError as exc:
        raise AuditWriteFailed(f"audit log {path} cannot be written: {exc.strerror or exc}") from None
    if count != len(data):
        raise AuditWriteFailed(
            f"audit log {path} took {count} of {len(data)} bytes of a record (disk full or file too large)"
        )
    try:
        os.fsync(fd)
    except OSError as exc:
        raise AuditWriteFailed(f"audit log {path} cannot be flushed to disk: {exc.strerror or exc}") from None


def torn_tail(fd: int, chunk: int = 65536) -> tuple[int, bytes] | None:
    """(offset, bytes) of a last line with no newline (a record cut short), else None."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return None
    end = size
    while end > 0:
        start = max(0, end - chunk)
        block = os.pread(fd, end - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            offset = start + cut + 1
            return offset, os.pread(fd, size - offset, offset)
        end = start
    return 0, os.pread(fd, size, 0)


class AuditLog:
    """Append-only JSONL; every record written whole (or not at all) and fsync'd before the call returns."""

    def __init__(self, path: str | Path | None = None, *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path) if path is not None else default_audit_path()
        self.secrets = [s for s in secrets if s]
        self.session = uuid.uuid4().hex[:12]
        self.written: list[str] = []
        self.notices: list[str] = []  # one-line reports about the log itself (a torn tail set aside)
        self._lock = threading.Lock()
        self._seq = 0
        self.cluster = ""
        self.incident: dict[str, Any] = {}
        """What every record of this log object carries first: the incident id and the pass number."""
        self.planned_from: dict[str, Any] = {}
        """The diagnosis the next writes were planned from; `before` records carry it (`diagnosis`)."""

    def add_secret(self, secret: str) -> None:
        """A string that must never appear in a record (e.g. the emulator's token)."""
        if secret:
            self.secrets.append(secret)

    def open(self) -> list[str]:
        """Set a torn last line aside before the first write, never creating the log; the notices."""
        with self._lock:
            if not self.path.exists():
                return []
            fd = self._open_fd()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return self._check_tail(fd)
            finally:
                os.close(fd)

    def _open_fd(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AuditWriteFailed(f"audit log {self.path} cannot be opened: {exc.strerror or exc}") from None

    def _check_tail(self, fd: int) -> list[str]:
        """Set a torn last line aside (into `<log>.torn`); the caller holds flock. Checked before
        every record, so a line another process left torn mid-session never swallows ours."""
        torn = torn_tail(fd)
        if torn is None:
            return []
        offset, fragment = torn
        side = self.path.with_name(self.path.name + ".torn")
        kept = {
            "schema": SCHEMA,
            "time": _now(),
            "log": str(self.path),
            "offset": offset,
            "bytes": len(fragment),
            "text": fragment.decode("utf-8", "backslashreplace"),
        }
        try:
            side_fd = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _write_whole(side_fd, (json.dumps(kept) + "\n").encode("utf-8"), side)
            finally:
                os.close(side_fd)
            os.ftruncate(fd, offset)
        except OSError as exc:
            raise AuditWriteFailed(
                f"audit log {self.path} ends in a torn record that could not be set aside "
                f"({exc.strerror or exc}): nothing more is written to it"
            ) from None
        self._write(
            fd,
            {
                "phase": "event",
                "event": "torn-record-set-aside",
                "offset": offset,
                "bytes": len(fragment),
                "movedTo": str(side),
            },
        )
        notice = (
            f"audit log {self.path}: its last record was torn ({len(fragment)} bytes at byte {offset}, "
            f"an earlier write cut short); moved to {side}, and the log goes on after it"
        )
        self.notices.append(notice)
        return [notice]

    def _write(self, fd: int, record: dict[str, Any]) -> str:
        """One record, one `os.write`, then fsync; a short write is cut back off (caller holds the locks)."""
        self._seq += 1
        rid = f"{self.session}-{self._seq:04d}"
        record = {**self.incident, **record}
        line = json.dumps(
            redact({"schema": SCHEMA, "id": rid, "time": _now(), **record}, self.secrets),
            sort_keys=False,
            default=str,
        )
        start = os.fstat(fd).st_size
        try:
            _write_whole(fd, (line + "\n").encode("utf-8"), self.path)
        except AuditWriteFailed:
            with contextlib.suppress(OSError):
                if os.fstat(fd).st_size > start:
                    os.ftruncate(fd, start)
            raise
        self.written.append(rid)
        return rid

    def _append(self, record: dict[str, Any]) -> str:
        with self._lock:
            fd = self._open_fd()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # writers of this log wait for each other's whole record
                self._check_tail(fd)
                return self._write(fd, record)
            finally:
                os.close(fd)

    def intent(
        self,
        *,
        operator: dict[str, Any],
        remediation: str,
        target: str,
        request: dict[str, Any],
        before: dict[str, Any],
        action: dict[str, Any] | None = None,
    ) -> str:
        """The record BEFORE a write: who, what, the request, the before-state, the action and cluster."""
        record: dict[str, Any] = {
            "phase": "before",
            "operator": operator,
            "remediation": remediation,
            "target": target,
            "request": request,
            "before": before,
        }
        if self.cluster:
            record["cluster"] = self.cluster
        if self.planned_from:
            record["diagnosis"] = self.planned_from
        if action is not None:
            record["action"] = action
        return self._append(record)

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
        return self._settling(record, undo, undoes)

    def resolved(
        self,
        intent_id: str,
        *,
        remediation: str,
        target: str,
        was: str,
        found: str,
        message: str,
        state: dict[str, Any],
        undo: dict[str, Any] | None = None,
        undoes: str | None = None,
    ) -> str:
        """A later run's reading of an unsettled write's target: what it found, and the state read;
        with the write's `undo` when its change may be there, and `undoes` (as in `result`)."""
        record: dict[str, Any] = {
            "phase": "resolved",
            "intent": intent_id,
            "remediation": remediation,
            "target": target,
            "was": was,
            "found": found,
            "message": message,
            "state": state,
        }
        return self._settling(record, undo, undoes)

    def _settling(self, record: dict[str, Any], undo: dict[str, Any] | None, undoes: str | None) -> str:
        """A record that settles an intent, with the `undo` of a temporary change or what it `undoes`."""
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


UNDO_KEPT = frozenset({"ok", "unknown"})  # results whose change may be there: its undo is pending
UNDONE = frozenset({"ok", "already-done"})  # results of a removal that took its change back
FOUND_THERE = frozenset({"applied", "unreadable"})  # what settling found: the change may be there


def whole_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of an audit log that are whole JSON objects (none if there is no log)."""
    target = Path(path)
    if not target.exists():
        return []
    records = []
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def pending_undos(path: str | Path) -> list[dict[str, Any]]:
    """The records of temporary changes not taken back since (oldest first), each with its `undo`
    and `intent`: an `after` record that carried an `undo` (ok, or unknown: it may have landed), or
    a `resolved` one (a later run read the target: applied, or unreadable); none once a removal
    that `undoes` it is ok or already-done, or settling found it applied (the rule is gone), or
    settling found the change itself not applied. Lines that are not whole JSON are passed over."""
    pending: dict[str, dict[str, Any]] = {}
    for record in whole_records(path):
        phase, intent, undoes = record.get("phase"), str(record.get("intent")), record.get("undoes")
        if phase == "after":
            if isinstance(record.get("undo"), dict) and record.get("result") in UNDO_KEPT:
                pending[intent] = record
            if undoes and record.get("result") in UNDONE:
                pending.pop(str(undoes), None)
        elif phase == "resolved":
            found = record.get("found")
            if isinstance(record.get("undo"), dict) and found in FOUND_THERE:
                pending[intent] = record
            elif found == "not-applied":
                pending.pop(intent, None)
            if undoes and found == "applied":
                pending.pop(str(undoes), None)
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


SETTLED_RESULTS = frozenset({"ok", "already-done", "error", "not-sent"})
SETTLED_FINDINGS = frozenset({"applied", "not-applied"})


def unsettled_intents(path: str | Path, cluster_id: str) -> list[tuple[dict[str, Any], str]]:
    """(intent, `unknown` or `no result`) of this cluster's writes no run has settled; oldest first."""
    if not Path(path).exists():
        return []
    intents: dict[str, dict[str, Any]] = {}
    was: dict[str, str] = {}
    for record in read_audit(path):
        if not isinstance(record, dict):
            continue
        rid, ref = str(record.get("id", "")), str(record.get("intent", ""))
        phase, request = record.get("phase"), record.get("request")
        if phase == "before" and str(record.get("cluster", "")).lower() == cluster_id.lower():
            sent = not isinstance(request, dict) or request.get("sent") is not False
            if isinstance(record.get("action"), dict) and sent:
                intents[rid], was[rid] = record, "no result"
        elif phase == "after" and ref in intents:
            if record.get("result") in SETTLED_RESULTS:
                intents.pop(ref)
            else:
                was[ref] = str(record.get("result"))
        elif phase == "resolved" and ref in intents and record.get("found") in SETTLED_FINDINGS:
            intents.pop(ref)
    return [(record, was[rid]) for rid, record in intents.items()]
