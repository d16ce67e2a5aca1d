"""The decision tree (tree.toml) as frozen check specs, and the reads each one needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path


class ReadKind(StrEnum):
    """The Azure reads the engine can ask for; the runner maps each to one gateway call."""

    CLUSTER = "cluster"
    RESOURCE_HEALTH = "resource_health"
    IDENTITY = "identity"
    VAULT_LOOKUP = "vault_lookup"
    VAULT_SEARCH = "vault_search"
    VAULT = "vault"
    SUBSCRIPTIONS = "subscriptions"
    DELETED_VAULT = "deleted_vault"
    KEY = "key"
    DELETED_KEY = "deleted_key"
    ROLE_ASSIGNMENTS = "role_assignments"
    ROLE_DEFINITION = "role_definition"
    ROLE_DEFINITIONS = "role_definitions"


@dataclass(frozen=True)
class Read:
    """One Azure read the engine wants, with the arguments that make it unique."""

    kind: ReadKind
    args: tuple[str, ...]

    def __str__(self) -> str:
        """kind(args), leaving out empty optional ones (a key read without a version is the latest)."""
        return f"{self.kind.value}({', '.join(a for a in self.args if a)})"


@dataclass(frozen=True)
class CheckSpec:
    """One node of the decision tree."""

    id: str
    title: str
    question: str
    reads: tuple[ReadKind, ...]
    after: tuple[str, ...]
    api: str
    passage: str
    critical: bool = True
    az: str = ""
    """The Azure CLI command that shows the same answer, with `{placeholders}` (teach mode)."""


def tree_json() -> str:
    """What `tree.json` must hold: `tree.toml` (the one to edit) as JSON. The app reads the JSON,
    which parses in a fraction of the time TOML takes and needs no TOML parser before the first
    frame; a test keeps the two equal (`python -m wizard.engine.tree` writes it again)."""
    import tomllib

    text = resources.files("wizard.engine").joinpath("tree.toml").read_text(encoding="utf-8")
    return json.dumps(tomllib.loads(text), indent=1, ensure_ascii=False) + "\n"


@cache
def load_tree() -> tuple[CheckSpec, ...]:
    """The packaged decision tree, in display order."""
    data = json.loads(resources.files("wizard.engine").joinpath("tree.json").read_text(encoding="utf-8"))
    return tuple(
        CheckSpec(
            id=c["id"],
            title=c["title"],
            question=c["question"],
            reads=tuple(ReadKind(r) for r in c["reads"]),
            after=tuple(c["after"]),
            api=c["api"],
            passage=c["passage"],
            critical=bool(c.get("critical", True)),
            az=str(c.get("az", "")),
        )
        for c in data["checks"]
    )


def check_spec(check_id: str) -> CheckSpec:
    """Look a check up by id."""
    return next(c for c in load_tree() if c.id == check_id)


if __name__ == "__main__":
    Path(__file__).with_name("tree.json").write_text(tree_json(), encoding="utf-8")
