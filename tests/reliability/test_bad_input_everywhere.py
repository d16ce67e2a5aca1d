"""Bad input wherever it enters: estate files, connection files, flags, finding codes, output
paths. One clear line on stderr, the documented exit code, no traceback, nothing half-written."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.conftest import assert_one_line, run_cli
from wizard.cli import main
from wizard.emulator import EstateError, load_estate

ESTATE_KEYS = [
    "name",
    "description",
    "clusters",
    "vaults",
    "identities",
    "roleAssignments",
    "customRoles",
    "operator",
    "keys",
    "encryption",
    "expires",
    "permissionModel",
    "networkAcls",
    "principal",
    "role",
    "scope",
    "deleted",
    "restrictions",
    "size",
]
CONNECTION_KEYS = ["armEndpoint", "caBundle", "tenantId", "subscriptionId", "clusters", "vaults"]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)


def _structures(keys: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        _scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), inner, max_size=5)
        ),
        max_leaves=20,
    )


def _files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


@settings(max_examples=120, deadline=None)
@given(data=_structures(ESTATE_KEYS), as_json=st.booleans())
def test_random_estate_structures_are_one_line_estate_errors(data: Any, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("estate.json" if as_json else "estate.yaml")
        path.write_text(json.dumps(data) if as_json else yaml.safe_dump(data))
        try:
            load_estate(str(path))
            message = "loaded"
        except EstateError as exc:
            message = str(exc)
        assert message
        assert "\n" not in message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_structures(ESTATE_KEYS), as_json=st.booleans())
def test_random_estate_files_on_the_cli_are_exit_2(
    data: Any, as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("estate.json" if as_json else "estate.yaml")
        path.write_text(json.dumps(data) if as_json else yaml.safe_dump(data))
        code = main(["diagnose", "--scenario", str(path)])
        out, err = capsys.readouterr()
        assert code == 2, err
        assert_one_line(err)
        assert out == ""
        assert _files(Path(tmp)) == {path.name}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01",
        "- a\n- b\n",
        "name: [",
        "{}",
        "null",
        "42",
        '\ufeff{"name": 1}',
        "a: &x [*x]",
        "name: x\nclusters: {}\n",
    ],
)
def test_odd_estate_texts_are_exit_2(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text(text)
    assert main(["diagnose", "--scenario", str(path)]) == 2
    assert_one_line(capsys.readouterr().err)


def test_an_unreadable_estate_path_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "--scenario", str(tmp_path)]) == 2  # a directory
    assert_one_line(capsys.readouterr().err)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=_structures(CONNECTION_KEYS)
    | st.fixed_dictionaries({k: _scalars | st.just("https://127.0.0.1:1") for k in CONNECTION_KEYS})
)
def test_random_connection_files_are_exit_2(data: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conn.json"
        path.write_text(json.dumps(data))
        code = main(["diagnose", "--emulator", str(path)])
        out, err = capsys.readouterr()
        assert code == 2, err
        assert_one_line(err)
        assert out == ""


def test_a_connection_file_with_a_bad_cluster_id_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    conn = tmp_path / "conn.json"
    conn.write_text(
        json.dumps(
            {
                "armEndpoint": "https://127.0.0.1:9",
                "caBundle": str(ca),
                "tenantId": "t",
                "subscriptionId": "s",
                "clusters": ["nonsense"],
            }
        )
    )
    assert main(["diagnose", "--emulator", str(conn)]) == 2
    assert_one_line(capsys.readouterr().err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.text(max_size=40).filter(
        lambda t: t.strip().upper() not in {"KEY_EXPIRED", "CLUSTER_INACCESSIBLE"}
    )
)
def test_random_finding_codes_are_exit_2_and_write_nothing(
    code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        audit, report = Path(tmp) / "audit.jsonl", Path(tmp) / "report.md"
        rc = main(
            [
                "fix",
                "--scenario",
                "key-expired",
                f"--finding={code}",
                "--yes",
                "--audit-log",
                str(audit),
                "--report",
                str(report),
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2, err
        assert_one_line(err)
        assert _files(Path(tmp)) == set()


@pytest.mark.parametrize("where", ["audit-dir", "report-dir", "audit-under-file", "report-under-file"])
def test_unwritable_outputs_are_refused_before_any_write(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a directory as --audit-log failed after the plan as 'internal error' (exit 3),
    and a bad --report failed after every change had been made."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    audit, report = str(tmp_path / "audit.jsonl"), str(tmp_path / "report.md")
    if where == "audit-dir":
        audit = str(tmp_path)
    elif where == "report-dir":
        report = str(tmp_path)
    elif where == "audit-under-file":
        audit = str(blocker / "audit.jsonl")
    else:
        report = str(blocker / "sub" / "report.md")
    rc = main(
        ["fix", "--scenario", "key-expired", "--all", "--yes", "--audit-log", audit, "--report", report]
    )
    captured = capsys.readouterr()
    assert rc == 2, captured
    assert_one_line(captured.err)
    assert "plan for" not in captured.out
    assert _files(tmp_path) == {"a-file"}


@pytest.mark.parametrize(
    "args",
    [
        ["fix", "--scenario", "key-expired"],  # neither --finding nor --all
        ["fix", "--scenario", "key-expired", "--all", "--finding", "KEY_EXPIRED"],
        ["fix", "--scenario", "key-expired", "--all", "--expiry-days", "soon"],
        ["fix", "--scenario", "key-expired", "--all", "--wait-timeout", "0"],
        ["fix", "--scenario", "key-expired", "--all", "--wait-timeout", "nan"],
        ["watch", "--scenario", "healthy", "--wait-timeout", "-5"],
        ["watch", "--scenario", "healthy", "--timeout", "inf"],
        ["diagnose", "--scenario", "healthy", "--emulator", "x.json"],
        ["diagnose", "--scenario", "healthy", "--auth", "password"],
        [
            "diagnose",
            "--cluster",
            "/subscriptions//resourceGroups/rg/providers/Microsoft.DocumentDB/mongoClusters/c",
            "--scenario",
            "healthy",
        ],
        ["diagnose", "--cluster", "", "--scenario", "healthy"],
        ["emulator", "--scenario", "healthy", "--latency-ms", "-1"],
        ["emulator", "--scenario", "healthy", "--port", "http"],
        ["emulator"],
    ],
)
def test_bad_flags_are_one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(args))
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert_one_line(captured.err)
    assert captured.out == ""


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    """The same contract end to end, for a key URL that cannot be parsed in an estate."""
    estate = tmp_path / "bad-url.yaml"
    estate.write_text(
        "name: bad-url\nidentities: [{name: id1}]\nclusters:\n  - name: c1\n"
        "    identities: [id1]\n    encryption: {identity: id1, keyUrl: 'ftp://nope'}\n"
    )
    result = run_cli("diagnose", "--scenario", str(estate))
    assert result.returncode in (1, 2, 3)
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        assert_one_line(result.stderr)
