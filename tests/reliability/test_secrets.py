"""Tokens never reach stdout, stderr, logs, the audit log or the report: every built-in scenario
through diagnose (json and text), fix (with --report and --audit-log) and watch."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.reliability.conftest import run_cli
from wizard.cli import main
from wizard.emulator import scenario_names

SECRET = "CMKWIZ-SECRET-TOKEN-1234567890"
# the token, any part of it, a bearer string, or an Authorization header with a value that is
# not the SDK's own 'REDACTED' placeholder (a Key Vault challenge, `WWW-Authenticate: Bearer
# authorization="https://login..."`, names the authority, not a token)
FORBIDDEN = re.compile(
    r"CMKWIZ-SECRET|1234567890|Bearer\s(?!authorization=)|"
    r"\b[Aa]uthorization[\"']?\s*:\s*[\"']?(?!REDACTED|<redacted>)\w"
)


def _assert_clean(where: str, text: str) -> None:
    match = FORBIDDEN.search(text)
    if match is not None:
        context = text[max(0, match.start() - 80) : match.end() + 80]
        raise AssertionError(f"{where} leaks {match.group(0)!r}: ...{context}...")


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    monkeypatch.setenv("CMK_WIZARD_EMULATOR_TOKEN", SECRET)
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's HTTP logging included
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.DEBUG)
    return caplog


@pytest.mark.parametrize("scenario", scenario_names())
def test_the_token_never_leaks(
    scenario: str, tmp_path: Path, secret_env: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs: dict[str, str] = {}
    codes = {}
    for fmt in ("json", "text"):
        codes[f"diagnose-{fmt}"] = main(["diagnose", "--scenario", scenario, "--format", fmt])
        out, err = capsys.readouterr()
        outputs[f"diagnose {fmt} stdout"], outputs[f"diagnose {fmt} stderr"] = out, err
    audit, report = tmp_path / "audit.jsonl", tmp_path / "report.md"
    codes["fix"] = main(
        [
            "fix",
            "--scenario",
            scenario,
            "--all",
            "--yes",
            "--audit-log",
            str(audit),
            "--report",
            str(report),
            "--wait-timeout",
            "5",
        ]
    )
    outputs["fix stdout"], outputs["fix stderr"] = capsys.readouterr()
    codes["watch"] = main(["watch", "--scenario", scenario, "--wait-timeout", "0.3"])
    outputs["watch stdout"], outputs["watch stderr"] = capsys.readouterr()

    # the secret token was really in use: the emulator accepted it (a wrong token is exit 3)
    assert codes["diagnose-json"] in (0, 1), outputs["diagnose json stdout"]
    assert codes["fix"] in (0, 1, 3), outputs["fix stderr"]
    outputs["audit log"] = audit.read_text(encoding="utf-8") if audit.exists() else ""
    outputs["report"] = report.read_text(encoding="utf-8") if report.exists() else ""
    if audit.exists():
        assert report.exists()  # something was written: there is a report to check
    outputs["log records"] = secret_env.text
    for where, text in outputs.items():
        _assert_clean(where, text)
    for leftover in tmp_path.rglob("*"):
        _assert_clean(str(leftover), leftover.read_text(encoding="utf-8", errors="replace"))


def test_the_token_never_leaks_from_a_real_process(tmp_path: Path) -> None:
    """Same, end to end, with the SDK's logging switched on by the environment."""
    env = {"CMK_WIZARD_EMULATOR_TOKEN": SECRET, "AZURE_LOG_LEVEL": "debug"}
    diag = run_cli("diagnose", "--scenario", "multi-fault", "--format", "json", env=env)
    assert diag.returncode == 1, diag.stderr
    fix = run_cli(
        "fix",
        "--scenario",
        "multi-fault",
        "--all",
        "--yes",
        "--audit-log",
        str(tmp_path / "a.jsonl"),
        "--report",
        str(tmp_path / "r.md"),
        env=env,
    )
    for where, text in {
        "diagnose stdout": diag.stdout,
        "diagnose stderr": diag.stderr,
        "fix stdout": fix.stdout,
        "fix stderr": fix.stderr,
        "audit": (tmp_path / "a.jsonl").read_text(),
        "report": (tmp_path / "r.md").read_text(),
    }.items():
        _assert_clean(where, text)


def test_a_wrong_token_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Gives the checks above teeth: the emulator really checks the token, so the runs that
    succeeded above did so with SECRET; and a refused token is not echoed either."""
    from wizard.emulator import Emulator

    emulator = Emulator("healthy", token=SECRET).start()
    try:
        emulator.write_connection_file(tmp_path / "conn.json")
        # --emulator mode presents the default emulator token, not SECRET
        code = main(
            ["diagnose", "--emulator", str(tmp_path / "conn.json"), "--format", "json", "--retry-total", "0"]
        )
        out, err = capsys.readouterr()
        assert code == 3
        assert '"incomplete"' in out
        assert any(r["status"] == 401 for r in emulator.requests())
        _assert_clean("stdout", out)
        _assert_clean("stderr", err)
    finally:
        emulator.stop()
