"""`cmk-wizard capture`: a real incident, read once (read-only), saved as an estate to replay."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.domain.errors import AuthFailed, BadInput

DEFAULT_OUTPUT = "incident.yaml"


def add_capture_parser(commands: Any, add_target: Callable[..., None]) -> None:
    """capture --cluster ID [--output FILE] [--keep-names], with the usual target flags."""
    capture = commands.add_parser(
        "capture", help="save what the diagnosis reads as an estate file (read-only), to replay with demo"
    )
    add_target(capture)
    capture.add_argument(
        "--output",
        metavar="FILE",
        default=DEFAULT_OUTPUT,
        help=f"the estate file (default {DEFAULT_OUTPUT}); the raw answers go beside it as <stem>.raw.json",
    )
    capture.add_argument(
        "--keep-names",
        action="store_true",
        help="keep resource names (internal use); GUIDs, key versions and IP rules are replaced anyway",
    )


def raw_path(output: Path) -> Path:
    """Where the raw answers go: beside the estate file."""
    return output.with_name(f"{output.stem}.raw.json")


def run_capture(args: argparse.Namespace, make_backend: Callable[[argparse.Namespace], Any]) -> int:
    """Diagnose read-only, turn what was read into an estate, redact, write both files."""
    import yaml

    from wizard.cli.wiring import target_cluster
    from wizard.run.diagnose import diagnose
    from wizard.run.outputs import check_report_path
    from wizard.training.capture import RAW_SCHEMA, Redactor, history, incident_estate, raw_answers

    output = Path(args.output)
    for path in (output, raw_path(output)):
        check_report_path(str(path))
    args.read_only = True  # capture never writes, whatever the flags say
    backend = make_backend(args)
    try:
        cluster_id = target_cluster(backend)
        reader = backend.connect()
        diagnosis = diagnose(reader, cluster_id)
        refused = next((o.error for o in diagnosis.known.values() if isinstance(o.error, AuthFailed)), None)
        if refused is not None:
            raise refused
        tenant = reader.operator().tenant_id
        changed = _what_changed(backend, diagnosis)
    finally:
        backend.close()
    facts = diagnosis.facts
    estate = incident_estate(facts, tenant_id=tenant, captured_at=datetime.now(UTC))
    estate["history"] = history(changed)
    custom = {c["id"] for c in estate["customRoles"]}
    builtin = {a["role"] for a in estate["roleAssignments"] if a["role"] not in custom}
    import secrets  # here: hashlib and hmac are not for every command's start-up

    redactor = Redactor(
        facts,
        keep_names=args.keep_names,
        salt=secrets.token_hex(16),
        keep_guids=builtin,
        callers=tuple(h["caller"] for h in estate["history"]),
    )
    redacted = redactor.apply(estate)
    redacted["name"] = f"incident-{redacted['clusters'][0]['name']}"  # named after redacting, not before
    raw = redactor.apply(
        {
            "schema": RAW_SCHEMA,
            "cluster": cluster_id,
            "verdict": diagnosis.verdict,
            "findings": [f.code for f in diagnosis.findings],
            "answers": raw_answers(diagnosis.known),
        }
    )
    _write(output, yaml.safe_dump(redacted, sort_keys=False, allow_unicode=True))
    _write(raw_path(output), json.dumps(raw, indent=2) + "\n")
    print(f"estate: {output} ({', '.join(f.code for f in diagnosis.findings) or 'no findings'})")
    print(f"raw answers: {raw_path(output)} ({len(raw['answers'])} reads)")
    print(f"replay: cmk-wizard demo --scenario {output}")
    return 0


def _what_changed(backend: Any, diagnosis: Any) -> Any:
    """The Activity Log behind the findings (14 days), or None when it cannot be read: the
    capture holds the estate either way."""
    from wizard.domain.errors import GatewayError
    from wizard.run.forensics import what_changed

    if not diagnosis.findings:
        return None
    try:
        return what_changed(backend.activity(), diagnosis)
    except GatewayError:
        return None


def _write(path: Path, text: str) -> None:
    """Owner-only, never through a symlink."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise BadInput(f"cannot write {str(path)[:80]!r}: {exc.strerror or exc}") from None
