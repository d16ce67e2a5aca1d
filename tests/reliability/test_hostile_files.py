"""Hostile files in and out: estates that expand, nest, grow or name impossible dates; output paths
that are not plain files. One line, exit 2, before any Azure write; nothing replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import EmulatorMaker, assert_one_line, connection_path, run_cli
from wizard.emulator import EstateError, load_estate
from wizard.emulator.estate_limits import MAX_ESTATE_BYTES

SUB = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-cmk-demo"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join([*lines, "name: *a9"]) + "\n"


ESTATES = {
    "bomb.yaml": _billion_laughs(),  # before: grew 50 MB/s until MemoryError
    "deep.yaml": "name: x\nclusters: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep.json": '{"name": "x", "clusters": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "self.yaml": "name: x\nclusters: &c [*c]\n",
    "huge-epoch.yaml": "name: x\nvaults: [{name: kv-abc, keys: [{name: k, expires: 99999999999999}]}]\n",
    "huge-relative.yaml": "name: x\nvaults: [{name: kv-abc, keys: [{name: k, expires: '+1"
    + "0" * 400
    + "d'}]}]\n",
    "nan-date.yaml": "name: x\nvaults: [{name: kv-abc, keys: [{name: k, notBefore: .nan}]}]\n",
    "before-1970.yaml": "name: x\nvaults: [{name: kv-abc, keys: [{name: k, expires: 1969-12-31}]}]\n",
    "dot-dot-identity.yaml": (
        f"name: x\nclusters: [{{name: c1, identities: ['{IDENTITY.replace('rg-cmk-demo', '..')}/id1']}}]\n"
    ),
    "empty-segment-scope.yaml": (
        "name: x\nidentities: [{name: id1}]\n"
        "roleAssignments: [{principal: id1, role: Owner, "
        f"scope: '/subscriptions/{SUB}//resourceGroups/rg'}}]\n"
    ),
    "trailing-dot.yaml": "name: x\nclusters: [{name: 'c1.'}]\n",
}


@pytest.mark.parametrize("name", sorted(ESTATES))
def test_hostile_estates_are_one_line_estate_errors(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(ESTATES[name])
    with pytest.raises(EstateError) as raised:
        load_estate(str(path))
    message = str(raised.value)
    assert "\n" not in message
    assert len(message) < 300, message


@pytest.mark.parametrize("name", ["bomb.yaml", "deep.json", "huge-relative.yaml"])
def test_hostile_estates_on_the_cli_are_exit_2(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(ESTATES[name])
    result = run_cli("diagnose", "--scenario", str(path), timeout=30)
    assert result.returncode == 2, result.stderr[-500:]
    assert_one_line(result.stderr)


def test_a_long_offending_value_is_quoted_at_most_80_characters(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("name: x\nclusters: [{name: c1, provisioningState: '" + "Q" * 100_000 + "'}]\n")
    with pytest.raises(EstateError) as raised:
        load_estate(str(path))
    assert 0 < str(raised.value).count("Q") <= 80


def test_an_estate_file_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: x\ndescription: '" + "z" * MAX_ESTATE_BYTES + "'\n")
    with pytest.raises(EstateError, match="larger than"):
        load_estate(str(path))


def test_an_estate_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "estate.yaml"
    os.mkfifo(fifo)
    result = run_cli("diagnose", "--scenario", str(fifo), timeout=30)
    assert result.returncode == 2
    assert_one_line(result.stderr)


def test_dates_at_the_edges_still_load(tmp_path: Path) -> None:
    path = tmp_path / "edges.yaml"
    path.write_text(
        "name: x\nvaults: [{name: kv-abc, keys: [{name: k, notBefore: 1970-01-01, expires: 9999-12-31}]}]\n"
    )
    assert load_estate(str(path)).name == "x"


def _writes(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests the emulator logged as writes."""
    return [r for r in requests if r["write"]]


def _fix(conn: str, *extra: str) -> list[str]:
    return ["fix", "--emulator", conn, "--all", "--yes", "--retry-total", "0", *extra]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "proc", "device"])
def test_a_report_target_that_is_not_a_plain_file_is_refused_before_any_write(
    running_emulator: EmulatorMaker, tmp_path: Path, kind: str
) -> None:
    """Before: the temporary report was renamed over a symlink, FIFO or device node (as root,
    /dev/full became a regular file), and /proc/x.md failed after every write was applied."""
    emulator = running_emulator("key-expired")
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("keep me")
    target = Path("/proc/cmk-wizard-test.md") if kind == "proc" else tmp_path / "report.md"
    if kind == "symlink":
        target.symlink_to(elsewhere)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":  # a node of our own, never a real /dev entry a regression could replace
        try:
            os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs root")
    audit = tmp_path / "audit.jsonl"
    before = os.lstat(target) if kind != "proc" else None
    result = run_cli(
        *_fix(connection_path(tmp_path, "key-expired"), "--report", str(target), "--audit-log", str(audit))
    )
    assert result.returncode == 2, result.stdout[-800:] + result.stderr
    assert_one_line(result.stderr)
    assert _writes(emulator.requests()) == []
    assert not audit.exists()
    assert elsewhere.read_text() == "keep me"
    if before is not None:
        after = os.lstat(target)
        assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


@pytest.mark.parametrize(
    "where", ["/dev/full", "/proc/cmk-wizard-audit.jsonl", "/sys/cmk-wizard-audit.jsonl", "fifo"]
)
def test_an_audit_log_that_cannot_be_appended_is_refused_before_anything(
    running_emulator: EmulatorMaker, tmp_path: Path, where: str
) -> None:
    """Before: as root the access() pre-check always passed, and the first write failed after the plan."""
    emulator = running_emulator("key-expired")
    path = tmp_path / "audit.fifo" if where == "fifo" else Path(where)
    if where == "fifo":
        os.mkfifo(path)
    result = run_cli(*_fix(connection_path(tmp_path, "key-expired"), "--audit-log", str(path)), timeout=30)
    assert result.returncode == 2, result.stdout[-800:] + result.stderr
    assert_one_line(result.stderr)
    assert "plan for" not in result.stdout
    assert emulator.requests() == []


def test_the_wizard_checks_its_audit_log_at_start(tmp_path: Path) -> None:
    """Before: the TUI started, and 'This is a bug in cmk-wizard' appeared when applying a fix."""
    result = run_cli("demo", "--audit-log", "/proc/cmk-wizard-audit.jsonl", timeout=30)
    assert result.returncode == 2
    assert_one_line(result.stderr)
    assert "--audit-log" in result.stderr


def test_reports_are_written_owner_only(running_emulator: EmulatorMaker, tmp_path: Path) -> None:
    running_emulator("key-expired")
    report = tmp_path / "incident.md"
    report.write_text("an older report")
    report.chmod(0o644)
    result = run_cli(
        *_fix(
            connection_path(tmp_path, "key-expired"),
            "--report",
            str(report),
            "--audit-log",
            str(tmp_path / "a.jsonl"),
        )
    )
    assert result.returncode == 0, result.stdout[-800:] + result.stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert report.read_text().startswith("# CMK incident")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_fifo_report_is_never_opened(tmp_path: Path) -> None:
    """The writer itself refuses a FIFO too (the wizard's report screen calls it directly)."""
    from wizard.run.incident import save_report

    fifo = tmp_path / "report.md"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def save() -> None:
        try:
            save_report("# report", fifo)
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=save, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert outcome
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
