"""Estates for the scan tests: every built-in scenario at once, and small hand-made fleets."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from wizard.emulator import Estate

DROPPED = ("operator", "statusMode", "description", "name")
"""Per-scenario settings that would apply to the whole combined estate (operator restrictions)."""


def scenario_text(name: str) -> str:
    """A built-in scenario's YAML."""
    return resources.files("wizard.emulator").joinpath("scenarios", f"{name}.yaml").read_text("utf-8")


def combined_estate(names: list[str]) -> Estate:
    """Every named scenario's resources in one estate: each scenario's vault and identity renamed
    (vault names are global, and identities are found by name), their own clusters kept."""
    merged: dict[str, Any] = {"name": "every-scenario"}
    for index, name in enumerate(names):
        text = scenario_text(name)
        text = text.replace("kv-cmk-demo", f"kv-sc{index:02d}").replace("id-cmk-demo", f"id-sc{index:02d}")
        data = yaml.safe_load(text)
        for key in DROPPED:
            data.pop(key, None)
        for section, items in data.items():
            merged.setdefault(section, []).extend(items)
    return Estate.from_data(merged, "every-scenario")


HIDDEN = "3f1e9d2c-8b4a-4c6e-9f0a-1b2c3d4e5f60"
VISIBLE = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
TWO_SUBSCRIPTIONS = {
    "name": "two-subscriptions",
    "subscriptionId": VISIBLE,
    "managementGroups": {"mg-prod": [VISIBLE]},
    "operator": {"restrictions": [f"hide-subscription:{HIDDEN}"]},
    "identities": [
        {"name": "id-a"},
        {"name": "id-b", "subscriptionId": HIDDEN},
    ],
    "vaults": [{"name": "kv-a", "keys": [{"name": "cmk", "expires": "+365d"}]}],
    "clusters": [
        {
            "name": "cluster-a",
            "identities": ["id-a"],
            "encryption": {"identity": "id-a", "vault": "kv-a", "key": "cmk"},
        },
        {
            "name": "cluster-b",
            "identities": [
                f"/subscriptions/{HIDDEN}/resourceGroups/rg-cmk-demo/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/id-b"
            ],
            "encryption": {"vault": "kv-a", "key": "cmk"},
        },
        {"name": "cluster-hidden", "subscriptionId": HIDDEN},
    ],
    "roleAssignments": [
        {"principal": "id-a", "role": "Key Vault Crypto Service Encryption User", "scope": "vault:kv-a"},
        {
            "principal": f"/subscriptions/{HIDDEN}/resourceGroups/rg-cmk-demo/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-b",
            "role": "Key Vault Crypto Service Encryption User",
            "scope": "vault:kv-a",
        },
    ],
}
"""Two clusters in sight (one whose identity lives in a subscription the operator cannot see) and
one in that hidden subscription."""
