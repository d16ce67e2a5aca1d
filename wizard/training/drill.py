"""Drills: a seeded estate with hidden causes drawn from the catalogue, so a room can share one."""

from __future__ import annotations

import copy
import random
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from wizard.training import LEVELS

DRILL_CLUSTER = "cluster-drill"
DRILL_IDENTITY = "id-drill"
DRILL_VAULT = "kv-drill"
DRILL_KEY = "cmk"


@dataclass(frozen=True)
class Cause:
    """One hidden cause: the finding it is, and how the base estate is changed to make it true."""

    code: str
    group: str
    key: dict[str, Any]
    vault: dict[str, Any]
    drop_role_assignments: bool
    drop_identity: bool
    later: tuple[str, ...]
    hides: tuple[str, ...]


@dataclass(frozen=True)
class Interaction:
    """Causes that hide or feed each other (level 3), and why, for the reveal."""

    causes: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class DrillSpec:
    """What a seed and a level draw: the hidden causes, and what the first diagnosis can see."""

    seed: int
    level: int
    causes: tuple[str, ...]
    why: str = ""

    @property
    def answer(self) -> frozenset[str]:
        """The causes a right diagnosis names: those the first diagnosis can see."""
        table = drill_causes()
        hidden = {group for c in self.causes for group in table[c].hides}
        return frozenset(c for c in self.causes if table[c].group not in hidden)

    @property
    def later(self) -> tuple[str, ...]:
        """Causes the first diagnosis cannot see: they show up once an earlier fix uncovers them."""
        table = drill_causes()
        uncovered = [code for c in self.causes for code in table[c].later]
        return tuple(dict.fromkeys([*uncovered, *(c for c in self.causes if c not in self.answer)]))

    @property
    def name(self) -> str:
        """The estate's name: it seeds the ids and never names a cause."""
        return f"drill-{self.seed}-level-{self.level}"


@cache
def _data() -> dict[str, Any]:
    text = resources.files("wizard.training").joinpath("drills.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def drill_causes() -> dict[str, Cause]:
    """Every cause a drill may hide, keyed by finding code (each one is in the catalogue)."""
    from wizard.domain.catalog import load_catalog

    findings = load_catalog().findings
    causes: dict[str, Cause] = {}
    for code, entry in _data()["causes"].items():
        if code not in findings:
            raise ValueError(f"drills.toml: {code} is not a finding of the catalogue")
        causes[code] = Cause(
            code=code,
            group=str(entry["group"]),
            key=dict(entry.get("key", {})),
            vault=dict(entry.get("vault", {})),
            drop_role_assignments=bool(entry.get("drop_role_assignments", False)),
            drop_identity=bool(entry.get("drop_identity", False)),
            later=tuple(entry.get("later", ())),
            hides=tuple(entry.get("hides", ())),
        )
    return causes


@cache
def interactions() -> tuple[Interaction, ...]:
    """The level-3 combinations."""
    table = drill_causes()
    found = []
    for entry in _data()["interacting"]:
        codes = tuple(entry["causes"])
        missing = [c for c in codes if c not in table]
        if missing:
            raise ValueError(f"drills.toml: interacting cause {missing[0]} is not a drill cause")
        found.append(Interaction(codes, str(entry["why"])))
    return tuple(found)


def draw_drill(seed: int, level: int) -> DrillSpec:
    """The same seed and level draw the same causes on every machine (random.Random is stable)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(map(str, LEVELS))}: {level!r}")
    rng = random.Random(f"cmk-wizard-drill/{seed}/{level}")
    table = drill_causes()
    if level == 3:
        picked = rng.choice(interactions())
        return DrillSpec(seed, level, picked.causes, picked.why)
    if level == 1:
        return DrillSpec(seed, level, (rng.choice(sorted(table)),))
    # a cause that hides others (a soft-deleted vault) interacts: it is level 3's
    pool = sorted(c for c in table if not table[c].later)
    first = rng.choice(pool)
    second = rng.choice([c for c in pool if table[c].group != table[first].group])
    return DrillSpec(seed, level, tuple(sorted((first, second))))


def base_estate(name: str) -> dict[str, Any]:
    """A healthy CMK cluster: identity, RBAC vault with an in-date key, the crypto role."""
    return {
        "name": name,
        "description": "A training drill: the cause is hidden.",
        "identities": [{"name": DRILL_IDENTITY}],
        "vaults": [
            {
                "name": DRILL_VAULT,
                "keys": [{"name": DRILL_KEY, "size": 4096, "expires": "+365d"}],
            }
        ],
        "clusters": [
            {
                "name": DRILL_CLUSTER,
                "identities": [DRILL_IDENTITY],
                "encryption": {"identity": DRILL_IDENTITY, "vault": DRILL_VAULT, "key": DRILL_KEY},
            }
        ],
        "roleAssignments": [
            {
                "principal": DRILL_IDENTITY,
                "role": "Key Vault Crypto Service Encryption User",
                "scope": f"vault:{DRILL_VAULT}",
            }
        ],
    }


def drill_estate(spec: DrillSpec) -> dict[str, Any]:
    """The estate file's data (docs/estate-format.md) for a drill: the base with every cause applied."""
    estate = base_estate(spec.name)
    table = drill_causes()
    vault = estate["vaults"][0]
    for code in spec.causes:
        cause = table[code]
        vault.update(copy.deepcopy(cause.vault))
        vault["keys"][0].update(copy.deepcopy(cause.key))
        if cause.drop_role_assignments:
            estate["roleAssignments"] = []
        if cause.drop_identity:
            estate["identities"] = []
    if vault.get("permissionModel") == "accessPolicy" and "accessPolicies" not in vault:
        vault["accessPolicies"] = [
            {"principal": DRILL_IDENTITY, "keys": ["get", "list", "wrapKey", "unwrapKey"]}
        ]
    return estate
