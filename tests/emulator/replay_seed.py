"""The estate a recording starts from, read off its requests and answers: one helper per family.

A resource the recording creates (a PUT that answers 201 or RegisteringDns, a key `create`) or never
finds (404, 204) is left out; everything else it touches is seeded as its first recorded body shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from tests.emulator.replay import GUID, PLACEHOLDER_SUBSCRIPTION, Entry
from wizard.emulator import Estate
from wizard.emulator.model import State

Mutation = Callable[[State], None]
_ARM = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
VAULT_PATH = re.compile(_ARM + r"Microsoft\.KeyVault/vaults/(?P<name>[^/?]+)", re.I)
CLUSTER_PATH = re.compile(_ARM + r"Microsoft\.DocumentDB/mongoClusters/(?P<name>[^/?]+)", re.I)
VAULT_ID = re.compile(r"^" + _ARM + r"Microsoft\.KeyVault/vaults/(?P<name>[^/]+)$", re.I)
KEY_PATH = re.compile(r"^/(?:keys|deletedkeys)/(?P<name>[^/]+)", re.I)


def _sub(value: str) -> str:
    return PLACEHOLDER_SUBSCRIPTION if value == "azure_subscription_id" else value


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _arm(entries: Iterable[Entry]) -> list[Entry]:
    return [e for e in entries if e.vault is None]


def _created_or_absent(first: Entry) -> bool:
    """The first request on a resource shows it did not exist yet: a create, or a miss."""
    body = first.body if isinstance(first.body, dict) else {}
    registering = (body.get("properties") or {}).get("provisioningState") == "RegisteringDns"
    return first.status in (201, 204, 404) or (first.method == "PUT" and registering)


def resource_groups(entries: list[Entry]) -> list[dict[str, str]]:
    """Every (subscription, group) a request path names: they exist before the recording starts."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for entry in _arm(entries):
        match = re.search(r"/subscriptions/([^/]+)/resourceGroups/([^/?]+)", entry.path, re.I)
        if match:
            sub, rg = _sub(match.group(1)), match.group(2)
            found.setdefault((sub.lower(), rg.lower()), {"name": rg, "subscriptionId": sub})
    return list(found.values())


def _first_on_each(pattern: re.Pattern[str], entries: list[Entry]) -> list[tuple[re.Match[str], Entry]]:
    """For each resource a path pattern names, its match and the first request on it (or under it)."""
    firsts: dict[str, tuple[re.Match[str], Entry]] = {}
    for entry in entries:
        match = pattern.search(entry.path)
        if match is not None:
            firsts.setdefault(match.group("name").lower(), (match, entry))
    return list(firsts.values())


def _new_at_first(match: re.Match[str], first: Entry) -> bool:
    """The first request is on the resource itself and shows it did not exist yet."""
    return match.end() == len(first.path.rstrip("/")) and _created_or_absent(first)


def _vault_body(entries: list[Entry], name: str) -> dict[str, Any]:
    """The first recorded body of the vault itself, else of anything under it or its deleted self."""
    marker = re.compile(rf"/(vaults|deletedVaults)/{re.escape(name)}(/|$)", re.I)
    bodies = [
        item
        for e in entries
        if marker.search(e.path) and isinstance(e.body, dict)
        for item in (e.body.get("value") or [e.body])[:1]
        if str(item.get("type", ""))
        .lower()
        .startswith(("microsoft.keyvault/vaults", "microsoft.keyvault/deleted"))
    ]
    own = [b for b in bodies if str(b.get("type")).lower() == "microsoft.keyvault/vaults"]
    first: dict[str, Any] = (own or bodies or [{}])[0]
    return first


def _policies(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "principal": p["objectId"],
            **{k: list(v) for k, v in p["permissions"].items() if k in ("keys", "secrets", "certificates")},
        }
        for p in props.get("accessPolicies") or []
    ]


def arm_vaults(entries: list[Entry]) -> list[dict[str, Any]]:
    """Vaults the management-plane requests find in place, as their first recorded body shows them."""
    arm = _arm(entries)
    vaults = []
    for match, first in _first_on_each(VAULT_PATH, arm):
        if _new_at_first(match, first):
            continue
        body = _vault_body(arm, match.group("name"))
        props = body.get("properties") or {}
        vaults.append(
            {
                "name": match.group("name"),
                "subscriptionId": _sub(match.group("sub")),
                "resourceGroup": match.group("rg"),
                "location": body.get("location") or props.get("location") or "westus2",
                "permissionModel": "rbac" if props.get("enableRbacAuthorization") else "accessPolicy",
                "purgeProtection": bool(props.get("enablePurgeProtection")),
                "softDeleteRetentionDays": props.get("softDeleteRetentionInDays", 90),
                "tags": body.get("tags") or props.get("tags") or {},
                "accessPolicies": _policies(props),
            }
        )
    return vaults


def deleted_vaults(entries: list[Entry]) -> list[dict[str, Any]]:
    """The soft-deleted vaults a subscription-wide deletedVaults listing shows."""
    vaults = []
    for entry in _arm(entries):
        if not entry.path.lower().endswith("/deletedvaults") or not isinstance(entry.body, dict):
            continue
        for item in entry.body.get("value") or []:
            props = item["properties"]
            owner = VAULT_ID.match(props["vaultId"])
            assert owner is not None, props["vaultId"]
            deleted = datetime.fromisoformat(props["deletionDate"].replace("Z", "+00:00")).timestamp()
            purge = datetime.fromisoformat(props["scheduledPurgeDate"].replace("Z", "+00:00")).timestamp()
            vaults.append(
                {
                    "name": item["name"],
                    "subscriptionId": owner.group("sub"),
                    "resourceGroup": owner.group("rg"),
                    "location": props["location"],
                    "tags": props.get("tags") or {},
                    "purgeProtection": False,
                    "softDeleteRetentionDays": round((purge - deleted) / 86400),
                    "deleted": _iso(deleted),
                }
            )
    return vaults


def _bundles(entries: list[Entry]) -> dict[str, dict[str, dict[str, Any]]]:
    """Key name -> version -> the bundle (or list item) of every kid the answers show."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in entries:
        body = entry.body if isinstance(entry.body, dict) else {}
        for item in [body, *(body.get("value") or [])]:
            kid = (item.get("key") or {}).get("kid") or item.get("kid")
            if kid:
                name, version = kid.rstrip("/").rsplit("/", 2)[-2:]
                found.setdefault(name, {}).setdefault(version, item)
    return found


def data_plane_vaults(entries: list[Entry]) -> tuple[list[dict[str, Any]], list[Mutation]]:
    """Each vault host a recording calls, with the keys it finds in place (and their recorded versions)."""
    vaults = []
    mutations: list[Mutation] = []
    for vault_name in dict.fromkeys(e.vault for e in entries if e.vault is not None):
        mine = [e for e in entries if e.vault == vault_name and not e.challenged]
        bundles = _bundles(mine)
        attrs: dict[str, Any] = next((b["attributes"] for v in bundles.values() for b in v.values()), {})
        keys = []
        for match, first in _first_on_each(KEY_PATH, mine):
            name = match.group("name")
            if first.path.lower().endswith("/create") or first.status == 404 or name not in bundles:
                continue
            keys.append(_key(name, bundles[name]))
            mutations.append(_rename_versions(vault_name, name, bundles[name]))
        vaults.append(
            {
                "name": vault_name,
                "softDeleteRetentionDays": attrs.get("recoverableDays", 90),
                "purgeProtection": "Purgeable" not in attrs.get("recoveryLevel", "Recoverable+Purgeable"),
                "permissionModel": "accessPolicy",
                "keys": keys,
            }
        )
    return vaults, mutations


def _key(name: str, versions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A keys[] entry from the newest recorded version (its JWK when a bundle shows it)."""
    newest = max(versions.values(), key=lambda b: b["attributes"]["created"])
    attrs = newest["attributes"]
    jwk: dict[str, Any] = next((b["key"] for b in versions.values() if "key" in b), {})
    key: dict[str, Any] = {
        "name": name,
        "kty": jwk.get("kty", "RSA"),
        "enabled": attrs["enabled"],
        "created": attrs["created"],
        "tags": newest.get("tags") or {},
        "olderVersions": len(versions) - 1,
    }
    if "crv" in jwk:
        key["curve"] = jwk["crv"]
    else:
        key["size"] = attrs.get("key_size") or len(jwk.get("n", "")) * 6 // 8 * 8 or 2048
    if "key_ops" in jwk:
        key["ops"] = jwk["key_ops"]
    key.update({k: attrs[a] for k, a in (("expires", "exp"), ("notBefore", "nbf")) if a in attrs})
    return key


def _rename_versions(vault: str, name: str, versions: dict[str, dict[str, Any]]) -> Mutation:
    """Give the seeded versions the recorded ids (oldest first), so recorded paths find them."""
    ordered = sorted(versions, key=lambda v: versions[v]["attributes"]["created"])

    def rename(state: State) -> None:
        key = state.vault(vault).key(name)  # type: ignore[union-attr]
        assert key is not None
        for seeded, version in zip(key.versions, ordered, strict=True):
            seeded.version = version
            seeded.created = seeded.updated = versions[version]["attributes"]["created"]

    return rename


def clusters(entries: list[Entry]) -> list[dict[str, Any]]:
    """mongoClusters the recording finds in place (not created, not missing), with location and tags."""
    arm = _arm(entries)
    found = []
    for match, first in _first_on_each(CLUSTER_PATH, arm):
        if _new_at_first(match, first):
            continue
        mine = [e.body for e in arm if CLUSTER_PATH.search(e.path) and isinstance(e.body, dict)]
        body = next((b for b in mine if "properties" in b), {})
        found.append(
            {
                "name": match.group("name"),
                "resourceGroup": match.group("rg"),
                "location": body.get("location", "westus2"),
                "tags": body.get("tags") or {},
            }
        )
    return found


def graph_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """As many identities as a Resource Graph answer counted (`totalRecords`), in the queried subscription."""
    rows: list[dict[str, Any]] = []
    for entry in _arm(entries):
        if entry.path.lower().endswith("/microsoft.resourcegraph/resources") and isinstance(entry.body, dict):
            sub = (entry.request_body.get("subscriptions") or [None])[0]
            rows += [
                {"name": f"graph-row-{i}", "resourceGroup": "rg-graph", "subscriptionId": sub}
                for i in range(int(entry.body["totalRecords"]))
            ]
    return rows


def estate(name: str, entries: list[Entry]) -> tuple[Estate, list[Mutation]]:
    """The estate the recording starts from, and the changes the estate format cannot express."""
    subs = [_sub(m.group(1)) for e in _arm(entries) if (m := re.search(r"/subscriptions/([^/]+)", e.path))]
    vaults, mutations = data_plane_vaults(entries)
    spec: dict[str, Any] = {
        "name": "replay-" + re.sub(r"[^A-Za-z0-9.-]", "-", name),
        "resourceGroups": resource_groups(entries),
        "vaults": [*arm_vaults(entries), *deleted_vaults(entries), *vaults],
        "clusters": clusters(entries),
        "identities": graph_rows(entries),
    }
    if subs and GUID.fullmatch(subs[0]):
        spec["subscriptionId"] = subs[0]
    return Estate.from_data(spec, name), mutations
