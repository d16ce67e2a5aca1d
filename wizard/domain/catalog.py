"""Loads the finding/remediation catalogue (data in catalog.toml) into frozen entries."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from wizard.domain.models import Severity
from wizard.domain.results import ConfirmKind


@dataclass(frozen=True)
class FindingSpec:
    """A catalogue entry for one finding code."""

    code: str
    severity: Severity
    rank: int
    title: str
    summary: str
    explanation: str
    remediations: tuple[str, ...]
    passage: str
    symptom: bool = False
    escalation: str = ""
    follow_ups: tuple[str, ...] = ()
    deferral: str = ""
    not_offered: str = ""
    replacement: str = ""
    when_recreated: str = ""


@dataclass(frozen=True)
class RemediationSpec:
    """A catalogue entry for one remediation id."""

    id: str
    title: str
    summary: str
    change: str
    rest: str
    az: str
    permission: str
    reversible: bool
    confirm: ConfirmKind
    verifies: tuple[str, ...]
    phase: int
    writes: bool = True
    afterwards: str = ""
    """What the operator does once this step is done (e.g. provision again after the delete)."""
    afterwards_az: str = ""
    """The `az` command for `afterwards`."""


@dataclass(frozen=True)
class Order:
    """Where the steps that write nothing go among the remediation phases."""

    deferred: int
    escalate: Mapping[Severity, int]


@dataclass(frozen=True)
class Catalog:
    """All findings, remediations and seed-page passages, by key."""

    findings: Mapping[str, FindingSpec]
    remediations: Mapping[str, RemediationSpec]
    passages: Mapping[str, str]
    order: Order

    def finding(self, code: str) -> FindingSpec:
        """The entry for a finding code; an unknown code is a programming error."""
        return self.findings[code]

    def passage_for(self, code: str) -> str:
        """The seed-page passage that explains a finding."""
        return self.passages.get(self.findings[code].passage, "")


class _Lenient(dict[str, Any]):
    """Leaves unknown placeholders visible instead of failing a render."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a catalogue template; missing values stay as `{name}` so gaps are visible."""
    formatter = string.Formatter()
    safe = _Lenient({k: ("-" if v is None else v) for k, v in values.items()})
    return formatter.vformat(template, (), safe)


def _parse(data: dict[str, Any]) -> Catalog:
    findings = {
        code: FindingSpec(
            code=code,
            severity=Severity(entry["severity"]),
            rank=int(entry["rank"]),
            title=entry["title"],
            summary=entry["summary"],
            explanation=entry["explanation"],
            remediations=tuple(entry["remediations"]),
            passage=entry["passage"],
            symptom=bool(entry.get("symptom", False)),
            escalation=entry.get("escalation", ""),
            follow_ups=tuple(entry.get("follow_ups", ())),
            deferral=entry.get("deferral", ""),
            not_offered=entry.get("not_offered", ""),
            replacement=entry.get("replacement", ""),
            when_recreated=entry.get("when_recreated", ""),
        )
        for code, entry in data["findings"].items()
    }
    remediations = {
        rid: RemediationSpec(
            id=rid,
            title=entry["title"],
            summary=entry["summary"],
            change=entry["change"],
            rest=entry["rest"],
            az=entry["az"],
            permission=entry["permission"],
            reversible=bool(entry["reversible"]),
            confirm=ConfirmKind(entry["confirm"]),
            verifies=tuple(entry["verifies"]),
            phase=int(entry["phase"]),
            writes=bool(entry.get("writes", True)),
            afterwards=entry.get("afterwards", ""),
            afterwards_az=entry.get("afterwards_az", ""),
        )
        for rid, entry in data["remediations"].items()
    }
    order = Order(
        deferred=int(data["order"]["deferred"]),
        escalate={Severity(k): int(v) for k, v in data["order"]["escalate"].items()},
    )
    return Catalog(findings, remediations, dict(data["passages"]), order)


@cache
def load_catalog() -> Catalog:
    """The packaged catalogue, parsed once."""
    text = resources.files("wizard.domain").joinpath("catalog.toml").read_text(encoding="utf-8")
    return _parse(tomllib.loads(text))
