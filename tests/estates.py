"""Built-in scenarios with a top-level field changed (timing, locks, ...), written as estate files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from wizard.emulator import load_estate


def scenario_with(tmp_path: Path, scenario: str, **fields: Any) -> str:
    """The scenario's estate with `fields` replacing its own, saved under tmp_path; its path."""
    spec = {**load_estate(scenario).spec, **fields}
    path = tmp_path / "estate.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return str(path)
