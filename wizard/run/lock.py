"""One fix per cluster at a time: an advisory lock file per cluster beside the audit log.

The lock is an `fcntl.flock` on `<state dir>/fix-<sha256 of the cluster id>.lock`, so the kernel
drops it when its holder dies however it dies; the file says who holds it (pid, host, start time,
command). A file left by a dead process on this host is stale and is taken over (and said so); a
file from another host whose process cannot be checked is never taken over. Within one process the
lock is shared: sessions there run one after another (the CLI has one, the TUI one fix screen).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import socket
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.domain.errors import BadInput, ClusterBusy
from wizard.domain.times import iso
from wizard.run.audit import redact


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a cluster's lock, as its file says."""

    pid: int
    host: str
    since: str
    command: str

    @classmethod
    def read(cls, fd: int) -> Holder | None:
        """The holder the lock file names; None when it is empty or unreadable."""
        try:
            data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "null")
            return cls(int(data["pid"]), str(data["host"]), str(data["since"]), str(data["command"]))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def describe(self) -> str:
        """`pid 123 on host since 2026-05-01T10:00:00Z (cmk-wizard fix --all --yes)`."""
        return f"pid {self.pid} on {self.host} since {self.since} ({self.command})"

    def alive_here(self) -> bool | None:
        """Is the process still running? None when it ran on another host (we cannot tell)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def lock_path(directory: str | Path, cluster_id: str) -> Path:
    """The lock file of a cluster: ARM ids compare case-insensitively, so the hash is of the lowered id."""
    digest = hashlib.sha256(cluster_id.strip().rstrip("/").lower().encode("utf-8")).hexdigest()[:24]
    return Path(directory) / f"fix-{digest}.lock"


def this_command() -> str:
    """The command line that took the lock, redacted and bounded."""
    words = ["cmk-wizard", *sys.argv[1:]] if sys.argv and sys.argv[0] else ["cmk-wizard"]
    text = str(redact(shlex.join(words)))
    return text if len(text) <= 200 else text[:197] + "..."


_HELD: dict[Path, tuple[int, int]] = {}  # lock file -> (descriptor, sessions in this process using it)
_HELD_LOCK = threading.Lock()


class ClusterLock:
    """The advisory lock of one cluster; `acquire` raises ClusterBusy naming the holder."""

    def __init__(self, directory: str | Path, cluster_id: str, command: str | None = None) -> None:
        self.path = Path(os.path.abspath(lock_path(directory, cluster_id)))
        self.cluster_name = cluster_id.rstrip("/").rsplit("/", 1)[-1]
        self.command = command or this_command()
        self.held = False

    def acquire(self) -> str | None:
        """Take the lock; the one-line notice when a stale lock was taken over, else None."""
        if self.held:
            return None
        with _HELD_LOCK:
            shared = _HELD.get(self.path)
            if shared is not None:
                _HELD[self.path] = (shared[0], shared[1] + 1)
                self.held = True
                return None
            try:
                fd, previous = self._take()
            except OSError as exc:
                raise BadInput(f"cannot take the fix lock {self.path}: {exc.strerror or exc}") from None
            _HELD[self.path] = (fd, 1)
            self.held = True
        if previous is None:
            return None
        gone = "no longer holds it" if previous.alive_here() else "is no longer running"
        return f"took over the stale fix lock of cluster {self.cluster_name}: {previous.describe()} {gone}"

    def _take(self) -> tuple[int, Holder | None]:
        """flock the file that is at the path now (it may be replaced while we wait), then write us in."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = Holder.read(fd)
                os.close(fd)
                raise ClusterBusy(self._busy(holder)) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # its holder removed it as we opened it: take the new one
                os.close(fd)
                continue
            previous = Holder.read(fd)
            if previous is not None and previous.alive_here() is None:
                os.close(fd)
                raise ClusterBusy(
                    self._busy(previous)
                    + f"; it ran on another host, so it cannot be checked: if it is gone, remove {self.path}"
                )
            try:
                self._write_us(fd)
            except OSError:
                os.close(fd)
                raise
            return fd, previous

    def _write_us(self, fd: int) -> None:
        us: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": iso(datetime.now(UTC)),
            "command": self.command,
        }
        data = json.dumps(us).encode("utf-8") + b"\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)

    def _busy(self, holder: Holder | None) -> str:
        who = holder.describe() if holder is not None else "a process that is just starting"
        return f"another fix is running on cluster {self.cluster_name}: {who}; wait for it to finish"

    def release(self) -> None:
        """Give the lock back (the last session in this process removes the file, then unlocks)."""
        if not self.held:
            return
        self.held = False
        with _HELD_LOCK:
            fd, users = _HELD.pop(self.path)
            if users > 1:
                _HELD[self.path] = (fd, users - 1)
                return
            with contextlib.suppress(OSError):
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    os.unlink(self.path)
            os.close(fd)
