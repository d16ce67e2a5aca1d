"""The built-in scenarios at a glance: each one's description and the cluster a demo opens.

Read from `scenarios/index.json`, so that starting the TUI on a built-in scenario needs neither
PyYAML nor the estate code before its first frame (the estate itself loads when the emulator
starts, in the connect worker). `index_text` builds the index from the YAML files; a test keeps
the two equal (`python -m wizard.emulator.builtin` writes it again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class BuiltIn:
    """What the index says of one built-in scenario."""

    description: str
    cluster_id: str | None
    """The estate's first cluster (the one `demo` opens), None if it has none."""


@cache
def builtin_scenarios() -> dict[str, BuiltIn]:
    """Every built-in scenario by name, from the index (no YAML parsed)."""
    text = resources.files("wizard.emulator").joinpath("scenarios", "index.json").read_text("utf-8")
    return {
        name: BuiltIn(str(entry["description"]), entry["cluster"]) for name, entry in json.loads(text).items()
    }


def index_text() -> str:
    """What `scenarios/index.json` must hold: built from the YAML files (loads PyYAML and the estates)."""
    from wizard.emulator.estate import load_estate, scenario_descriptions, scenario_names

    described = scenario_descriptions()
    index: dict[str, dict[str, str | None]] = {}
    for name in scenario_names():
        clusters = load_estate(name).build(0.0).clusters
        index[name] = {"description": described[name], "cluster": clusters[0].id if clusters else None}
    return json.dumps(index, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("scenarios").joinpath("index.json").write_text(index_text(), encoding="utf-8")
