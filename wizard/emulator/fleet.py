"""A generated fleet: N clusters over S subscriptions sharing K keys, a seeded share of them broken.

`fleet:` in an estate (or `cmk-wizard emulator --fleet N`) expands into ordinary `identities`,
`vaults`, `clusters` and `roleAssignments` entries before validation, so a fleet is an estate like
any other: the health rule, Resource Graph and every route treat it the same. The faults are put on
shared things (a key, its identity, its vault) the way they happen, so one broken key takes every
cluster that uses it down with it: what the scan's blast radius is for.
"""

from __future__ import annotations

import math
import random
import uuid
from typing import Any

from wizard.emulator.estate_fields import GUID, EstateError, Fields, shown
from wizard.emulator.model import State

MAX_CLUSTERS = 100_000
MAX_SUBSCRIPTIONS = 1_000
KEYS_PER_VAULT = 5
CRYPTO_USER = "Key Vault Crypto Service Encryption User"
FAULTS = (
    "key-expired",
    "key-disabled",
    "access-missing",
    "identity-deleted",
    "key-not-yet-active",
    "identity-recreated",
    "key-soft-deleted",
    "vault-firewall",
    "vault-soft-deleted",
)
"""The faults a broken share is made of, dealt in this order to keys picked at random."""
VAULT_FAULTS = ("vault-firewall", "vault-soft-deleted")
"""Faults of a whole vault: every key in it (and every cluster on them) goes down together."""
EXPIRING_SHARE = 0.06
"""Keys (of those left healthy) that expire within the next 30 days: warnings, not outages."""
_NAMESPACE = uuid.UUID("8d2b6f4a-3c1e-4a7d-9b5f-0e6c2a8d4f1b")


def _guid(seed: int, *parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in (seed, *parts))))


def subscription_ids(subscriptions: int, seed: int) -> list[str]:
    """The fleet's subscription GUIDs (tests hide one of them by restriction)."""
    return [_guid(seed, "subscription", n) for n in range(subscriptions)]


def _settings(data: dict[str, Any], source: str) -> tuple[int, int, int, float, int]:
    spec = Fields(data, "fleet", source)
    clusters = spec.number("clusters", 100, minimum=1, maximum=MAX_CLUSTERS)
    keys = spec.number("keys", max(1, clusters // 20), minimum=1, maximum=MAX_CLUSTERS)
    subscriptions = spec.number("subscriptions", 1, minimum=1, maximum=MAX_SUBSCRIPTIONS)
    broken = spec.raw("broken")
    if broken is None:
        broken = 0.1
    if isinstance(broken, bool) or not isinstance(broken, int | float) or not 0.0 <= broken <= 1.0:
        raise spec.fail("broken", f"expected a share from 0 to 1, got {shown(broken)}")
    seed = spec.number("seed", 1, minimum=0, maximum=2**31)
    spec.done()
    if keys > clusters:
        raise spec.fail("keys", f"{keys} keys for {clusters} clusters: at most one key per cluster")
    return clusters, keys, subscriptions, float(broken), seed


def expand_fleet(data: dict[str, Any], source: str) -> dict[str, Any]:
    """The estate with its `fleet:` section turned into resources (appended to any listed by hand)."""
    if "fleet" not in data:
        return data
    clusters, keys, subscriptions, broken, seed = _settings(data["fleet"], source)
    generated = generate(clusters, keys, subscriptions, broken, seed)
    out = {k: v for k, v in data.items() if k != "fleet"}
    for section in ("identities", "vaults", "clusters", "roleAssignments"):
        existing = out.get(section) or []
        if not isinstance(existing, list):
            raise EstateError(f"estate {source}: {section} must be a list")
        out[section] = [*existing, *generated[section]]
    out.setdefault("subscriptionId", generated["subscriptionId"])
    return out


class _Fleet:
    """One deterministic generation; the lists are estate entries (plain dicts)."""

    def __init__(self, clusters: int, keys: int, subscriptions: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.subs = subscription_ids(subscriptions, seed)
        self.vault_count = math.ceil(keys / KEYS_PER_VAULT)
        self.keys = keys
        self.users: dict[int, list[int]] = {k: [] for k in range(keys)}
        self.cluster_keys = [self.rng.randrange(keys) if n >= keys else n for n in range(clusters)]
        for n, k in enumerate(self.cluster_keys):
            self.users[k].append(n)

    def vault_of(self, key: int) -> int:
        return key // KEYS_PER_VAULT

    def vault_name(self, vault: int) -> str:
        return f"kv-fleet-{vault:04d}"

    def vault_sub(self, vault: int) -> str:
        return self.subs[vault % len(self.subs)]

    def access_policy_vault(self, vault: int) -> bool:
        return vault % 4 == 3

    def identity_id(self, key: int) -> str:
        sub = self.vault_sub(self.vault_of(key))
        return (
            f"/subscriptions/{sub}/resourceGroups/rg-identities/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk-{key:04d}"
        )

    def principal(self, key: int) -> str:
        return _guid(self.seed, "principal", key)


def _pick_faults(fleet: _Fleet, target: int) -> dict[int, str]:
    """Faults on random keys until about `target` clusters are affected (one fault per key)."""
    order = list(range(fleet.keys))
    fleet.rng.shuffle(order)
    faults: dict[int, str] = {}
    affected = 0
    kinds = iter(FAULTS * (fleet.keys // len(FAULTS) + 1))
    whole: set[int] = set()
    for key in order:
        if affected >= target:
            break
        users = len(fleet.users[key])
        if key in faults or not users or affected + users > max(target, users if not faults else 0):
            continue
        kind = next(kinds)
        vault = fleet.vault_of(key)
        if kind in VAULT_FAULTS:
            siblings = [k for k in fleet.users if fleet.vault_of(k) == vault]
            hit = sum(len(fleet.users[k]) for k in siblings if k not in faults)
            if vault in whole or affected + hit > target or any(k in faults for k in siblings):
                kind = "key-expired"
            else:
                whole.add(vault)
                for k in siblings:
                    faults[k] = kind
                affected += hit
                continue
        faults[key] = kind
        affected += users
    return faults


def generate(clusters: int, keys: int, subscriptions: int, broken: float, seed: int) -> dict[str, Any]:
    """Estate sections for a fleet: every name and GUID follows from the arguments."""
    fleet = _Fleet(clusters, keys, subscriptions, seed)
    faults = _pick_faults(fleet, round(broken * clusters))
    healthy_keys = [k for k in range(keys) if k not in faults]
    expiring = set(fleet.rng.sample(healthy_keys, int(len(healthy_keys) * EXPIRING_SHARE)))
    vaults = [_vault(fleet, v, faults, expiring) for v in range(fleet.vault_count)]
    identities = []
    assignments = []
    for key in range(keys):
        fault = faults.get(key)
        vault = fleet.vault_of(key)
        if fault != "identity-deleted":
            recreated = fault == "identity-recreated"
            principal = _guid(seed, "recreated", key) if recreated else fleet.principal(key)
            identities.append(
                {
                    "name": f"id-cmk-{key:04d}",
                    "subscriptionId": fleet.vault_sub(vault),
                    "resourceGroup": "rg-identities",
                    "principalId": principal,
                    "clientId": _guid(seed, "client", key),
                }
            )
        if not fleet.access_policy_vault(vault) and fault not in ("access-missing", "vault-soft-deleted"):
            assignments.append(
                {
                    "principal": fleet.principal(key),
                    "role": CRYPTO_USER,
                    "scope": _vault_id(fleet, vault),
                    "name": _guid(seed, "assignment", key),
                }
            )
    cluster_entries = [_cluster(fleet, n) for n in range(clusters)]
    return {
        "subscriptionId": fleet.subs[0],
        "identities": identities,
        "vaults": vaults,
        "clusters": cluster_entries,
        "roleAssignments": assignments,
    }


def _vault_id(fleet: _Fleet, vault: int) -> str:
    return (
        f"/subscriptions/{fleet.vault_sub(vault)}/resourceGroups/rg-keys/providers/"
        f"Microsoft.KeyVault/vaults/{fleet.vault_name(vault)}"
    )


def _vault(fleet: _Fleet, vault: int, faults: dict[int, str], expiring: set[int]) -> dict[str, Any]:
    keys = [k for k in range(vault * KEYS_PER_VAULT, min(fleet.keys, (vault + 1) * KEYS_PER_VAULT))]
    entry: dict[str, Any] = {
        "name": fleet.vault_name(vault),
        "subscriptionId": fleet.vault_sub(vault),
        "resourceGroup": "rg-keys",
        "keys": [_key(fleet, k, faults.get(k), k in expiring) for k in keys],
    }
    if fleet.access_policy_vault(vault):
        entry["permissionModel"] = "accessPolicy"
        entry["accessPolicies"] = [
            {"principal": fleet.principal(k), "keys": ["get", "list", "wrapKey", "unwrapKey"]}
            for k in keys
            if faults.get(k) != "access-missing"
        ]
    if any(faults.get(k) == "vault-firewall" for k in keys):
        entry["networkAcls"] = {"defaultAction": "Deny", "bypass": "None", "ipRules": ["203.0.113.0/24"]}
    if any(faults.get(k) == "vault-soft-deleted" for k in keys):
        entry["deleted"] = f"-{fleet.rng.randrange(1, 10)}d"  # soft delete took its role assignments
    return entry


def _key(fleet: _Fleet, key: int, fault: str | None, expiring: bool) -> dict[str, Any]:
    days = fleet.rng.randrange(6, 29) if expiring else fleet.rng.randrange(120, 720)
    entry: dict[str, Any] = {"name": f"cmk-{key:04d}", "size": 3072, "expires": f"+{days}d"}
    if fault == "key-expired":
        entry["expires"] = f"-{fleet.rng.randrange(1, 20)}d"
    elif fault == "key-disabled":
        entry["enabled"] = False
    elif fault == "key-not-yet-active":
        entry["notBefore"] = f"+{fleet.rng.randrange(1, 5)}d"
    elif fault == "key-soft-deleted":
        entry["deleted"] = f"-{fleet.rng.randrange(1, 5)}d"
    return entry


def _cluster(fleet: _Fleet, n: int) -> dict[str, Any]:
    key = fleet.cluster_keys[n]
    vault = fleet.vault_of(key)
    identity = fleet.identity_id(key)
    return {
        "name": f"docdb-{n:05d}",
        "subscriptionId": fleet.subs[n % len(fleet.subs)],
        "resourceGroup": f"rg-app-{n // len(fleet.subs) % 10}",
        "identities": [{"identity": identity, "principalId": fleet.principal(key)}],
        "encryption": {"identity": identity, "vault": fleet.vault_name(vault), "key": f"cmk-{key:04d}"},
    }


def apply_graph_settings(top: Fields, state: State) -> None:
    """`resourceGraph` (the quota window) and `managementGroups` (name to subscriptions)."""
    graph = top.child("resourceGraph")
    if graph is not None:
        quota = state.graph_quota
        quota.queries = graph.number("quotaQueries", quota.queries, minimum=1, maximum=10_000)
        quota.window_seconds = float(graph.number("quotaWindowSeconds", 5, minimum=1, maximum=3600))
        quota.enforced = graph.flag("enforceQuota", False)
        graph.done()
    groups = top.child("managementGroups")
    if groups is None:
        return
    for name in list(groups.data):
        subs = groups.strings(name)
        bad = next((s for s in subs if not GUID.match(s)), None)
        if bad is not None:
            raise groups.fail(name, f"{shown(bad)} is not a subscription GUID")
        state.management_groups[str(name).lower()] = subs
    groups.done()
