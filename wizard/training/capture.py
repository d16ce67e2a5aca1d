"""Capture: what one diagnosis read, written back as an estate (docs/estate-format.md) to replay.

Only what the diagnosis read is known: the estate holds the cluster, its identity, its vault (or
the soft-deleted record of it), the key versions the cluster can use, and the role assignments and
custom roles read for its principal. Names and ids are replaced consistently by `Redactor`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from wizard.domain.errors import NotFound
from wizard.domain.forensics import WhatChanged
from wizard.domain.ids import parse_resource_id
from wizard.domain.models import DeletedKeyFacts, IdentityFacts, KeyFacts, RoleAssignmentFacts
from wizard.engine.facts import Facts
from wizard.engine.reads import Known

RAW_SCHEMA = "cmk-wizard/capture-raw/v1"
RUNNING_STATUSES = ("Ready", "Failed", "Provisioning")
HISTORY_STATUSES = ("Succeeded", "Failed", "Started", "Accepted")
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_VERSION = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", re.IGNORECASE)
_EDGE = r"[A-Za-z0-9_-]"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def _segments(resource_id: str) -> tuple[str, str]:
    """(subscription, resource group) of an ARM id."""
    parts = resource_id.strip("/").split("/")
    lower = [p.lower() for p in parts]
    sub = parts[lower.index("subscriptions") + 1] if "subscriptions" in lower else ""
    rg = parts[lower.index("resourcegroups") + 1] if "resourcegroups" in lower else ""
    return sub, rg


def _identity(identity: IdentityFacts) -> dict[str, Any]:
    sub, rg = _segments(identity.id)
    return {
        "name": identity.name,
        "subscriptionId": sub,
        "resourceGroup": rg,
        "location": identity.location,
        "principalId": identity.principal_id,
        "clientId": identity.client_id,
    }


def _version(key: KeyFacts) -> dict[str, Any]:
    return _drop_none(
        {
            "version": key.version,
            "enabled": key.enabled,
            "notBefore": _iso(key.not_before),
            "expires": _iso(key.expires),
        }
    )


def _key(facts: Facts) -> dict[str, Any] | None:
    """The key as read: the newest version on top, the version the cluster pins (if older) below."""
    key_url = facts.key_url
    if key_url is None:
        return None
    used, newest = facts.key, facts.newest_key or facts.key
    if newest is None:
        deleted: DeletedKeyFacts | None = facts.deleted_key
        if deleted is None:
            return None
        return _drop_none({"name": key_url.key_name, "deleted": _iso(deleted.deleted_on)})
    entry: dict[str, Any] = {"name": key_url.key_name, **_version(newest)}
    if newest.kty:
        entry["kty"] = newest.kty
    if newest.key_size:
        entry["size"] = newest.key_size
    if used is not None and newest.version and used.version and used.version != newest.version:
        entry["olderVersions"] = [_version(used)]
    return entry


def _vault(facts: Facts) -> dict[str, Any] | None:
    key = _key(facts)
    if facts.vault is not None:
        v = facts.vault
        entry: dict[str, Any] = {
            "name": v.name,
            "subscriptionId": v.subscription_id,
            "resourceGroup": v.resource_group,
            "location": v.location,
            "permissionModel": "rbac" if v.rbac_authorization else "accessPolicy",
            "softDelete": v.soft_delete,
            "purgeProtection": v.purge_protection,
            "publicNetworkAccess": v.public_network_access,
            "sku": v.sku,
        }
        if v.network_default_action is not None:
            entry["networkAcls"] = _drop_none(
                {
                    "defaultAction": v.network_default_action,
                    "bypass": v.network_bypass,
                    "ipRules": list(v.ip_rules),
                    "virtualNetworkRules": list(v.virtual_network_rules),
                }
            )
        if not v.rbac_authorization:
            entry["accessPolicies"] = [
                {"principal": p.object_id, "keys": sorted(p.key_permissions)} for p in v.access_policies
            ]
        entry["keys"] = [key] if key else []
        return _drop_none(entry)
    if facts.deleted_vault is not None:
        d = facts.deleted_vault
        sub, rg = _segments(d.vault_id)
        return _drop_none(
            {
                "name": d.name,
                "subscriptionId": sub,
                "resourceGroup": rg,
                "location": d.location,
                "purgeProtection": d.purge_protection,
                "deleted": _iso(d.deletion_date) or "now",
            }
        )
    return None


def _deleted_groups(facts: Facts) -> list[dict[str, Any]]:
    """The soft-deleted vault's resource group when the diagnosis found it gone (recover needs it)."""
    d = facts.deleted_vault
    if facts.vault is not None or d is None or d.group_exists is not False:
        return []
    sub, rg = _segments(d.vault_id)
    return [{"name": rg, "subscriptionId": sub, "deleted": True}]


def _assignments(facts: Facts) -> list[RoleAssignmentFacts]:
    seen: dict[str, RoleAssignmentFacts] = {}
    for listed in facts.role_assignments.values():
        for a in listed:
            seen.setdefault(a.id.lower(), a)
    return list(seen.values())


def incident_estate(facts: Facts, *, tenant_id: str, captured_at: datetime) -> dict[str, Any]:
    """The estate the diagnosis saw (raises NotFound when even the cluster could not be read)."""
    cluster = facts.cluster
    if cluster is None:
        raise NotFound(f"cluster {facts.cluster_id} could not be read: nothing to capture")
    identities = [_identity(facts.identity)] if facts.identity is not None else []
    encryption: dict[str, Any] = {}
    if cluster.key_url:
        encryption = _drop_none({"identity": cluster.key_identity_id, "keyUrl": cluster.key_url})
    status = cluster.cluster_status if cluster.cluster_status in RUNNING_STATUSES else "Ready"
    if cluster.provisioning_state != "Failed" and status != "Ready":
        status = "Ready"
    entry: dict[str, Any] = {
        "name": cluster.name,
        "subscriptionId": cluster.subscription_id,
        "resourceGroup": cluster.resource_group,
        "location": cluster.location,
        "provisioningState": cluster.provisioning_state,
        "clusterStatus": status,
        "replicaRole": cluster.replica_role,
        "identities": [
            _drop_none({"identity": a.resource_id, "principalId": a.principal_id, "clientId": a.client_id})
            for a in cluster.attached_identities
        ],
    }
    if encryption:
        entry["encryption"] = encryption
    vault = _vault(facts)
    definitions = facts.role_definitions.items()
    custom = {key.rstrip("/").rsplit("/", 1)[-1].lower(): d for key, d in definitions}
    estate: dict[str, Any] = {
        "name": "incident",
        "description": f"Captured by cmk-wizard capture at {captured_at.isoformat()}.",
        "tenantId": tenant_id,
        "subscriptionId": cluster.subscription_id,
        "location": cluster.location,
        "resourceGroup": cluster.resource_group,
        "identities": identities,
        "customRoles": [
            {
                "name": d.role_name,
                "id": guid,
                "dataActions": list(d.data_actions),
                "notDataActions": list(d.not_data_actions),
            }
            for guid, d in custom.items()
        ],
        "vaults": [vault] if vault else [],
        "resourceGroups": _deleted_groups(facts),
        "clusters": [_drop_none(entry)],
        "roleAssignments": [
            _drop_none(
                {
                    "principal": a.principal_id,
                    "role": a.role_guid,
                    "scope": a.scope,
                    "principalType": a.principal_type,
                }
            )
            for a in _assignments(facts)
        ],
    }
    return estate


def history(changed: WhatChanged | None) -> list[dict[str, Any]]:
    """The Activity Log events behind the findings, as the estate's `history:` (oldest first)."""
    if changed is None:
        return []
    events = sorted({c.event for c in changed.changes}, key=lambda e: e.time)
    return [
        {
            "operation": e.operation,
            "resource": e.resource_id,
            "caller": e.caller,
            "time": e.time.isoformat(),
            "status": e.status,
        }
        for e in events
        if e.status in HISTORY_STATUSES
    ]


def raw_answers(known: Known) -> list[dict[str, Any]]:
    """Every read and its answer as the gateway returned it (our frozen dataclasses, or the error)."""
    rows = []
    for read, outcome in known.items():
        row: dict[str, Any] = {"read": str(read), "ms": outcome.duration_ms}
        if outcome.error is not None:
            row["error"] = {"type": type(outcome.error).__name__, "message": str(outcome.error)}
        else:
            row["value"] = _plain(outcome.value)
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


class Redactor:
    """Replaces names, GUIDs, key versions and IP rules consistently across the estate and raw file.

    GUIDs become uuid5 of a per-capture salt, so two captures cannot be joined on them; built-in
    role GUIDs are kept (they name Microsoft's roles, not the tenant)."""

    def __init__(
        self,
        facts: Facts,
        *,
        keep_names: bool,
        salt: str,
        keep_guids: set[str],
        callers: tuple[str, ...] = (),
    ) -> None:
        self.salt = salt
        self.keep_guids = {g.lower() for g in keep_guids}
        self.names: dict[str, str] = {}
        self.ip_rules: dict[str, str] = {}
        if not keep_names:
            self._learn_names(facts)
        for n, caller in enumerate(dict.fromkeys(c.lower() for c in callers if c), 1):
            self._name(caller, f"caller-{n}@example.invalid")  # people, always replaced

    def _name(self, original: str, replacement: str) -> None:
        if original and original.lower() not in self.names:
            self.names[original.lower()] = replacement

    def _learn_names(self, facts: Facts) -> None:
        cluster = facts.cluster
        groups: list[str] = []
        ids = [cluster.id if cluster else "", cluster.key_identity_id if cluster else "" or ""]
        ids += [a.resource_id for a in cluster.attached_identities] if cluster else []
        ids += [facts.vault_id]
        for resource_id in filter(None, ids):
            groups.append(_segments(resource_id)[1])
        for n, group in enumerate(dict.fromkeys(g.lower() for g in groups if g), 1):
            self._name(group, f"rg-incident-{n}")
        if cluster is not None:
            self._name(cluster.name, "cluster-incident")
        identity_names = [parse_resource_id(i).name for i in dict.fromkeys(i.lower() for i in ids[1:-1] if i)]
        for n, name in enumerate(dict.fromkeys(identity_names), 1):
            self._name(name, f"id-incident-{n}")
        if facts.key_url is not None:
            self._name(facts.key_url.vault_name, "kv-incident-1")
            self._name(facts.key_url.key_name, "key-incident-1")
        for n, definition in enumerate(facts.role_definitions.values(), 1):
            self._name(definition.role_name, f"custom-role-{n}")

    def guid(self, value: str) -> str:
        """A GUID's stand-in (the same one every time in this capture)."""
        if value.lower() in self.keep_guids:
            return value
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.salt}/{value.lower()}"))

    def text(self, value: str) -> str:
        """One string with every known name, GUID and key version replaced."""
        out = _GUID.sub(lambda m: self.guid(m.group(0)), value)
        out = _VERSION.sub(
            lambda m: hashlib.sha256(f"{self.salt}/{m.group(0).lower()}".encode()).hexdigest()[:32], out
        )
        for original in sorted(self.names, key=len, reverse=True):
            pattern = rf"(?<!{_EDGE}){re.escape(original)}(?!{_EDGE})"
            out = re.sub(pattern, self.names[original], out, flags=re.IGNORECASE)
        return out

    def apply(self, value: Any, *, field: str = "") -> Any:
        """Values only (never the keys of a mapping); `ipRules` become documentation addresses."""
        if isinstance(value, dict):
            return {k: self.apply(v, field=k) for k, v in value.items()}
        if isinstance(value, list):
            if field in ("ipRules", "ip_rules"):
                return [self.ip_rule(str(v)) for v in value]
            return [self.apply(v, field=field) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def ip_rule(self, rule: str) -> str:
        """Each distinct rule becomes the next address of TEST-NET-1 (192.0.2.0/24)."""
        if rule not in self.ip_rules:
            self.ip_rules[rule] = f"192.0.2.{len(self.ip_rules) + 1}/32"
        return self.ip_rules[rule]
