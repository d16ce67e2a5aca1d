"""A full disk never tears the audit log: each record is written whole or not at all, a torn tail
left by an older run is set aside and reported, and a log that cannot be written stops the write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.reliability.conftest import REPO, EmulatorMaker, connection_path, read_jsonl
from wizard.run.audit import AuditLog, read_audit

# A child that may write at most LIMIT bytes to any file (RLIMIT_FSIZE; SIGXFSZ ignored, so an
# over-long write is cut short or refused with EFBIG, as a full disk would): no root, no mount.
_LIMITED = """
import resource, runpy, signal, sys
limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

_APPEND_UNTIL_FULL = """
import sys
from wizard.domain.errors import AuditWriteFailed
from wizard.run.audit import AuditLog
log = AuditLog(sys.argv[1])
for n in range(1000):
    try:
        log.note("filler", n=n, padding="x" * 700)
    except AuditWriteFailed as exc:
        print(f"{n} {exc}")
        break
"""


def _limited(limit: int, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, str(limit), str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_a_record_that_does_not_fit_is_not_written_at_all(tmp_path: Path) -> None:
    """Before: the 5th record was cut at byte 4096 and the next run appended after the fragment."""
    script = tmp_path / "fill.py"
    script.write_text(_APPEND_UNTIL_FULL, encoding="utf-8")
    log = tmp_path / "audit.jsonl"
    done = _limited(4096, script, str(log))
    assert done.returncode == 0, done.stderr
    count, _, message = done.stdout.strip().partition(" ")
    assert int(count) == 4, done.stdout  # four records fit in 4096 bytes, the fifth does not
    assert "audit log" in message
    data = log.read_bytes()
    assert len(data) < 4096
    assert data.endswith(b"\n")
    assert len(read_jsonl(log)) == 4


def test_a_torn_last_line_is_set_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = AuditLog(path)
    first.note("start")
    first.note("verify")
    whole = path.read_bytes()
    torn = b'{"schema": "cmk-wizard/audit/v1", "id": "abc-0003", "phase": "bef'
    path.write_bytes(whole + torn)

    log = AuditLog(path)
    log.note("next run")
    records = read_audit(path)  # every line whole JSON: the fragment is not joined to a record
    assert [r.get("event") for r in records] == ["start", "verify", "torn-record-set-aside", "next run"]
    marker = records[2]
    assert marker["offset"] == len(whole)
    assert marker["bytes"] == len(torn)
    side = Path(marker["movedTo"])
    assert side == path.with_name("audit.jsonl.torn")
    kept = json.loads(side.read_text(encoding="utf-8").splitlines()[0])
    assert kept["text"] == torn.decode()
    assert kept["offset"] == len(whole)
    assert len(log.notices) == 1
    assert "\n" not in log.notices[0]
    assert "torn" in log.notices[0]
    assert str(side) in log.notices[0]
    # once set aside, a later run finds nothing to report
    again = AuditLog(path)
    assert again.open() == []


def test_a_log_that_cannot_be_written_means_the_azure_write_is_not_sent(
    running_emulator: EmulatorMaker, tmp_path: Path
) -> None:
    emulator = running_emulator("key-expired")
    log = tmp_path / "audit.jsonl"
    AuditLog(log).note("earlier run", padding="x" * 2000)  # room for the lock file
    size = log.stat().st_size
    main = tmp_path / "main.py"
    main.write_text("import sys\nfrom wizard.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    conn = connection_path(tmp_path, "key-expired")
    args = ["fix", "--emulator", conn, "--all", "--yes", "--audit-log", str(log), "--retry-total", "0"]
    done = _limited(size + 40, main, *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr  # the finding is still there
    assert "-> refused" in done.stdout
    assert "nothing was sent" in done.stdout
    assert not [r for r in emulator.requests() if r["write"]]
    assert log.read_bytes().endswith(b"\n")
    assert [r.get("event") for r in read_jsonl(log)] == ["earlier run"]
