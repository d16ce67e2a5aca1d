"""The files the wizard writes (audit log, incident reports): refused up front unless a plain file
could really be written there, so a bad path is exit 2 before any Azure write, never an error after.

`os.access` is no test (it always says yes to root), so every check really creates, or opens for
append, what the write will need. Nothing but a regular file is ever written or replaced: a
symlink, FIFO or device node is refused, and so is anything on /proc or /sys.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from wizard.domain.errors import BadInput

KERNEL_FILESYSTEMS = (Path("/proc"), Path("/sys"))


def _on_kernel_filesystem(path: Path) -> bool:
    resolved = path.resolve()
    return any(resolved == root or root in resolved.parents for root in KERNEL_FILESYSTEMS)


def _nearest_directory(path: Path) -> Path:
    """The closest ancestor that exists (the rest would be created), which must be a directory."""
    existing = next((p for p in path.parents if p.exists()), Path("/"))
    if not existing.is_dir():
        raise BadInput(f"{existing} is not a directory")
    return existing


def _probe_directory(directory: Path) -> None:
    """Create and remove a temporary file in `directory`: the one sure test that we can write there."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".cmk-wizard-probe-")
    except OSError as exc:
        raise BadInput(f"cannot create files in {directory}: {exc.strerror or exc}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


def not_regular_reason(path: Path, *, follow: bool) -> str | None:
    """Why `path` must not be written (None when it does not exist or is a regular file)."""
    try:
        info = path.stat() if follow else path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISREG(info.st_mode):
        return None
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link (give the file it points to)"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    return "is not a regular file (a FIFO, socket or device)"


def _check_file(path: str, what: str, *, follow: bool, probe: bool) -> Path:
    target = Path(path).expanduser()
    if not path.strip() or target.name in ("", ".", ".."):
        raise BadInput(f"{what} {path!r} is not a file name")
    reason = not_regular_reason(target, follow=follow)
    if reason is not None:
        raise BadInput(f"{what} {path} {reason}")
    if _on_kernel_filesystem(target):
        raise BadInput(f"{what} {path} is on a kernel filesystem (/proc, /sys): give a real file")
    if probe:
        try:
            _probe_directory(_nearest_directory(target))
        except BadInput as exc:
            raise BadInput(f"{what} {path}: {exc}") from None
    return target


def check_audit_path(path: str | Path) -> None:
    """An append-only log: a regular file (symlinks followed) we can open for append, or a new one."""
    exists = Path(path).expanduser().exists()
    target = _check_file(str(path), "--audit-log", follow=True, probe=not exists)
    if exists:
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK))
        except OSError as exc:
            raise BadInput(f"--audit-log {path} cannot be appended to: {exc.strerror or exc}") from None


def check_report_path(path: str | Path) -> None:
    """A report is written next to its target and renamed over it: a new path or a regular file
    (not a symlink), in a directory where we can create files."""
    _check_file(str(path), "--report", follow=False, probe=True)


def check_report_dir(path: str | Path) -> None:
    """Where the wizard saves reports: a directory we can create files in (or can create)."""
    folder = Path(path).expanduser()
    if _on_kernel_filesystem(folder):
        raise BadInput(f"--report-dir {path} is on a kernel filesystem (/proc, /sys)")
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"--report-dir {path} is not a directory")
    try:
        _probe_directory(folder if folder.is_dir() else _nearest_directory(folder / "report.md"))
    except BadInput as exc:
        raise BadInput(f"--report-dir {path}: {exc}") from None


def write_whole(text: str, path: str | Path) -> Path:
    """Write `text` to `path` whole or not at all (owner-only temporary file, fsync, rename), never
    replacing anything but a regular file; an OSError says why not."""
    target = Path(path).expanduser()
    reason = not_regular_reason(target, follow=False)
    if reason is not None:
        raise OSError(errno.EINVAL, f"{target} {reason}: not replaced")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        reason = not_regular_reason(target, follow=False)
        if reason is not None:
            raise OSError(errno.EINVAL, f"{target} {reason}: not replaced")
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return target
