"""Estate files (YAML/JSON): strict validation with one-line errors, and building the emulator's state."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from wizard.emulator.estate_fields import (
    GUID,
    EstateError,
    Fields,
    field_items,
    paging,
    resource_groups,
    shown,
    timing,
)
from wizard.emulator.estate_limits import parse_text, read_estate_file
from wizard.emulator.fleet import apply_graph_settings, expand_fleet
from wizard.emulator.history import history
from wizard.emulator.key_store import ALL_OPS, CURVE_BITS, KTYS, pseudo_modulus
from wizard.emulator.model import (
    GROUP_ROLES_ONLY,
    HIDE_SUBSCRIPTION,
    LOCK_LEVELS,
    SECONDS_PER_DAY,
    STATUS_MODES,
    AccessPolicy,
    Attached,
    Cluster,
    Identity,
    Key,
    KeyVersion,
    Lock,
    NetworkAcls,
    RoleAssignment,
    RoleDefinition,
    State,
    Vault,
    rid,
)
from wizard.emulator.network import ip_rule_problem, normalize_ip_rule
from wizard.emulator.roles import BUILT_IN_ROLES

__all__ = ["Estate", "EstateError", "load_estate", "restriction_problem", "scenario_names"]

DEFAULT_TENANT = "7d3f9c2a-4b1e-4f8a-9d6c-2e5b8a1f0c34"
DEFAULT_SUBSCRIPTION = "c1a4e8b2-6d3f-4a9e-8b7c-5f2d1e0a9b63"
DEFAULT_LOCATION = "westus2"
DEFAULT_RESOURCE_GROUP = "rg-cmk-demo"
_NAMESPACE = uuid.UUID("2f0c8a4e-1b7d-4e3a-9c5f-6d8e0b1a2c3f")
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._()-]{0,126}[A-Za-z0-9_()-])?$")
_ARM_SEGMENT = re.compile(r"^[A-Za-z0-9_()-][A-Za-z0-9._()-]*$")
_IDENTITY_PATH = "resourcegroups/providers/microsoft.managedidentity/userassignedidentities"
_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")
_VERSION = re.compile(r"^[0-9A-Fa-f]{32}$")
RESTRICTIONS = (
    "no-role-assignment-read",
    "no-data-plane",
    "operator-ip-blocked",
    "stale-resource-graph",
    "no-resource-health-read",
)
ROUTE_KINDS = (
    "clusters",
    "identities",
    "vaults",
    "deleted-vaults",
    "mgmt-keys",
    "role-assignments",
    "role-definitions",
    "resource-graph",
    "operations",
    "resource-health",
    "data-plane",
    "activity-log",
    "subscriptions",
    "locks",
    "resource-groups",
)
_RUNNING = "Ready"
_STOPPED = "Stopped"
_NEVER_CAME_UP = ("Failed", "Provisioning")


def arm_path_problem(value: str) -> str | None:
    """Why `/subscriptions/...` is not a well-formed ARM path (None if it is): no empty, `.` or `..`
    segment, which would change the URL a request goes to."""
    parts = value[1:].removesuffix("/").split("/")
    if not value.startswith("/subscriptions/") or not all(_ARM_SEGMENT.match(p) for p in parts):
        return f"{shown(value)} is not an ARM id (empty, '.' or '..' segments, or odd characters)"
    if not GUID.match(parts[1]):
        return f"{shown(parts[1])} in {shown(value)} is not a subscription GUID"
    if any(p.endswith(".") for p in parts):
        return f"{shown(value)} has a name ending in a dot"
    return None


def restriction_problem(value: object) -> str | None:
    """Why a value is not an operator restriction (None if it is one): the loader and faults share it."""
    if isinstance(value, str):
        if value in RESTRICTIONS or (value.startswith("deny:") and value[5:] in ROUTE_KINDS):
            return None
        for prefix in (HIDE_SUBSCRIPTION, GROUP_ROLES_ONLY):
            if value.startswith(prefix):
                guid = value[len(prefix) :]
                return None if GUID.match(guid) else f"{shown(guid)} in {shown(value)} is not a GUID"
    return (
        f"{shown(value)} is not a restriction (use {', '.join(RESTRICTIONS)}, "
        f"deny:<{'|'.join(ROUTE_KINDS)}>, {HIDE_SUBSCRIPTION}<subscription GUID> or "
        f"{GROUP_ROLES_ONLY}<subscription GUID>)"
    )


def scenario_names() -> list[str]:
    """The built-in scenarios (the YAML files packaged with the emulator), sorted."""
    folder = resources.files("wizard.emulator").joinpath("scenarios")
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith(".yaml"))


def scenario_descriptions() -> dict[str, str]:
    """Each built-in scenario's one-line `description` (what it shows a trainee), by name."""
    import yaml

    folder = resources.files("wizard.emulator").joinpath("scenarios")
    described: dict[str, str] = {}
    for name in scenario_names():
        data = yaml.safe_load(folder.joinpath(f"{name}.yaml").read_text("utf-8"))
        text = data.get("description", "") if isinstance(data, dict) else ""
        described[name] = " ".join(str(text).split())
    return described


def load_estate(name_or_path: str) -> Estate:
    """A built-in scenario by name, or an estate file (.yaml/.yml/.json); raises EstateError."""
    if name_or_path in scenario_names():
        text = (
            resources.files("wizard.emulator")
            .joinpath("scenarios", f"{name_or_path}.yaml")
            .read_text("utf-8")
        )
        return Estate.from_data(parse_text(text, name_or_path, False), name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise EstateError(
            f"unknown scenario {shown(name_or_path)} (built in: {', '.join(scenario_names())}; "
            "or give a .yaml/.yml/.json estate file)"
        )
    try:
        text = read_estate_file(path)
    except FileNotFoundError:
        raise EstateError(f"estate file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EstateError(
            f"cannot read estate file {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    return Estate.from_data(parse_text(text, str(path), path.suffix.lower() == ".json"), str(path))


@dataclass(frozen=True)
class Estate:
    """A validated estate description; `build` turns it into fresh emulator state (dates relative to now)."""

    name: str
    source: str
    spec: Mapping[str, Any]

    @classmethod
    def from_data(cls, data: Any, source: str) -> Estate:
        """Validate parsed YAML/JSON fully (a dry build) so errors surface at load time."""
        if not isinstance(data, dict):
            raise EstateError(f"estate {source}: expected a mapping at the top level")
        data = expand_fleet(data, source)
        estate = cls(str(data.get("name", "")), source, data)
        estate.build(0.0)
        return estate

    def build(self, now: float) -> State:
        """Fresh, deterministic state; relative dates resolve against `now` (epoch seconds)."""
        return _Builder(self.source, self.spec, now).build()


class _Builder:
    """One pass over the spec: validates every field and builds the State."""

    def __init__(self, source: str, spec: Mapping[str, Any], now: float) -> None:
        self.top = Fields(dict(spec), "", source)
        self.now = now
        self.name = self.top.text("name", pattern=_NAME)
        self.seed = self.name

    def guid(self, *parts: str) -> str:
        """A stable GUID for this estate and these parts."""
        return str(uuid.uuid5(_NAMESPACE, "|".join((self.seed, *(p.lower() for p in parts)))))

    def seeded_principal(self, identity_id: str) -> str:
        """The principal an identity had when first created (also what a cluster remembers by default)."""
        return self.guid("principal", identity_id)

    def build(self) -> State:
        """Validate everything and assemble the state."""
        top = self.top
        self.tenant = top.guid("tenantId") or DEFAULT_TENANT
        self.sub = top.guid("subscriptionId") or DEFAULT_SUBSCRIPTION
        self.location = top.text("location", DEFAULT_LOCATION)
        self.rg = top.text("resourceGroup", DEFAULT_RESOURCE_GROUP, pattern=_NAME)
        state = State(self.name, self.tenant, self.sub, description=top.text("description", ""))
        state.status_mode = top.text("statusMode", "documented", choices=STATUS_MODES)
        for attr, seconds in timing(top).items():
            setattr(state, attr, seconds)
        state.groups, deleted_groups = resource_groups(top, self.sub, _NAME)
        state.deleted_groups = {(sub.lower(), rg.lower()) for sub, rg in deleted_groups}
        state.page_sizes = paging(top)
        operator = top.child("operator")
        if operator is not None:
            for index, restriction in enumerate(operator.strings("restrictions")):
                problem = restriction_problem(restriction)
                if problem is not None:
                    raise operator.fail(f"restrictions[{index}]", problem)
                state.restrictions.add(restriction)
            state.operator_ip = operator.opt_text("ip")
            if state.operator_ip is not None:
                try:
                    ipaddress.ip_address(state.operator_ip)
                except ValueError:
                    raise operator.fail("ip", f"{shown(state.operator_ip)} is not an IP address") from None
            state.operator_private_endpoint = operator.flag("privateEndpoint", False)
            operator.done()
        state.identities = [self.identity(o) for o in field_items(top, "identities")]
        self.identities = {i.id.lower(): i for i in state.identities}
        self._unique(top, "identities", [i.id for i in state.identities])
        state.custom_roles = [self.custom_role(o) for o in field_items(top, "customRoles")]
        self.roles = (*BUILT_IN_ROLES, *state.custom_roles)
        state.vaults = [self.vault(o) for o in field_items(top, "vaults")]
        self._unique(top, "vaults", [v.name for v in state.vaults])
        self.vaults = {v.name.lower(): v for v in state.vaults}
        state.clusters = [self.cluster(o) for o in field_items(top, "clusters")]
        self._unique(top, "clusters", [c.id for c in state.clusters])
        self.clusters = state.clusters
        state.role_assignments = [
            self.assignment(o, i) for i, o in enumerate(field_items(top, "roleAssignments"))
        ]
        self._nothing_live_in_deleted_groups(top, state)
        state.locks = [self.lock(o, i, state) for i, o in enumerate(field_items(top, "locks"))]
        self._unique(top, "locks", [lock.name for lock in state.locks])
        state.subscriptions = state.known_subscriptions()
        apply_graph_settings(top, state)
        state.activity = history(top, self.now, self.scope, self.guid)
        top.done()
        return state

    def _nothing_live_in_deleted_groups(self, top: Fields, state: State) -> None:
        """A deleted resource group holds nothing live: only soft-deleted vaults outlive it."""
        live = [
            *((c.subscription_id, c.resource_group, c.name) for c in state.clusters),
            *((i.subscription_id, i.resource_group, i.name) for i in state.identities),
            *((v.subscription_id, v.resource_group, v.name) for v in state.vaults if v.live),
        ]
        for sub, rg, name in live:
            if (sub.lower(), rg.lower()) in state.deleted_groups:
                raise top.fail(
                    "resourceGroups",
                    f"{shown(rg)} is deleted but {shown(name)} lives in it (only a soft-deleted vault can)",
                )

    def _unique(self, obj: Fields, key: str, names: list[str]) -> None:
        lowered = [n.lower() for n in names]
        for name in names:
            if lowered.count(name.lower()) > 1:
                raise obj.fail(key, f"{shown(name.rsplit('/', 1)[-1])} is defined twice")

    def identity_id(self, ref: str) -> str:
        """An ARM id, or a name in the default group: the default subscription's, else the one elsewhere."""
        if ref.startswith("/"):
            problem = arm_path_problem(ref)
            parts = ref.split("/")
            shape = "/".join(parts[3:4] + parts[5:8]).lower() if len(parts) == 9 else ""
            if problem is None and shape != _IDENTITY_PATH:
                problem = f"{shown(ref)} is not a userAssignedIdentities id"
            if problem is not None:
                raise EstateError(f"estate {self.top.source}: identity {problem}")
            return ref
        default = rid(self.sub, self.rg, "Microsoft.ManagedIdentity/userAssignedIdentities", ref)
        if default.lower() in self.identities:
            return default
        elsewhere = [
            i.id
            for i in self.identities.values()
            if i.name.lower() == ref.lower() and i.resource_group.lower() == self.rg.lower()
        ]
        return elsewhere[0] if len(elsewhere) == 1 else default

    def principal(self, obj: Fields, key: str) -> str:
        """A principal reference: a GUID, or an identity name (its current principal, else its first one)."""
        ref = obj.text(key)
        if GUID.match(ref):
            return ref
        identity = self.identities.get(self.identity_id(ref).lower())
        if identity is not None:
            return identity.principal_id
        if not _NAME.match(ref):
            raise obj.fail(key, f"{shown(ref)} is neither a GUID nor an identity name")
        return self.seeded_principal(self.identity_id(ref))

    def identity(self, obj: Fields) -> Identity:
        """An identities[] entry."""
        name = obj.text("name", pattern=_NAME)
        sub = obj.guid("subscriptionId") or self.sub
        rg = obj.text("resourceGroup", self.rg, pattern=_NAME)
        ident_id = rid(sub, rg, "Microsoft.ManagedIdentity/userAssignedIdentities", name)
        identity = Identity(
            name,
            sub,
            rg,
            obj.text("location", self.location),
            self.tenant,
            obj.guid("principalId") or self.seeded_principal(ident_id),
            obj.guid("clientId") or self.guid("client", ident_id),
            obj.tags(),
        )
        obj.done()
        return identity

    def custom_role(self, obj: Fields) -> RoleDefinition:
        """A customRoles[] entry."""
        name = obj.text("name")
        role = RoleDefinition(
            obj.guid("id") or self.guid("role", name),
            name,
            obj.text("description", name),
            data_actions=obj.strings("dataActions"),
            not_data_actions=obj.strings("notDataActions"),
            actions=obj.strings("actions"),
            not_actions=obj.strings("notActions"),
            role_type="CustomRole",
        )
        obj.done()
        return role

    def vault(self, obj: Fields) -> Vault:
        """A vaults[] entry, with its keys and access policies."""
        name = obj.text("name", pattern=_VAULT_NAME)
        vault = Vault(
            name,
            obj.guid("subscriptionId") or self.sub,
            obj.text("resourceGroup", self.rg, pattern=_NAME),
            obj.text("location", self.location),
            self.tenant,
            rbac=obj.text("permissionModel", "rbac", choices=("rbac", "accessPolicy")) == "rbac",
            soft_delete=obj.flag("softDelete", True),
            retention_days=obj.number("softDeleteRetentionDays", 90, minimum=7, maximum=90),
            purge_protection=obj.flag("purgeProtection", True),
            public_network_access=obj.text("publicNetworkAccess", "Enabled", choices=("Enabled", "Disabled")),
            sku=obj.text("sku", "standard", choices=("standard", "premium")),
            tags=obj.tags(),
            created=int(self.now) - 400 * SECONDS_PER_DAY,
        )
        acls = obj.child("networkAcls")
        if acls is not None:
            rules = acls.strings("ipRules")
            for index, rule in enumerate(rules):
                problem = ip_rule_problem(rule)
                if problem is not None:
                    raise acls.fail(f"ipRules[{index}]", problem)
            vault.network_acls = NetworkAcls(
                acls.text("defaultAction", "Allow", choices=("Allow", "Deny")),
                acls.text("bypass", "AzureServices", choices=("AzureServices", "None")),
                [normalize_ip_rule(rule) for rule in rules],
                acls.strings("virtualNetworkRules"),
            )
            acls.done()
        for policy in field_items(obj, "accessPolicies"):
            vault.access_policies.append(
                AccessPolicy(
                    self.tenant,
                    self.principal(policy, "principal"),
                    policy.strings("keys"),
                    policy.strings("secrets"),
                    policy.strings("certificates"),
                )
            )
            policy.done()
        for key_obj in field_items(obj, "keys"):
            key = self.key(key_obj, vault)
            if vault.key(key.name) is not None:
                raise obj.fail("keys", f"{shown(key.name)} is defined twice")
            vault.keys[key.name] = key
        vault.deleted_on = obj.when("deleted", self.now)
        if vault.deleted_on is not None and not vault.soft_delete:
            raise obj.fail("deleted", "a vault without soft delete cannot be soft-deleted")
        obj.done()
        return vault

    def key(self, obj: Fields, vault: Vault) -> Key:
        """A vaults[].keys[] entry: the latest version's attributes, plus older versions."""
        name = obj.text("name", pattern=_KEY_NAME)
        kty = obj.text("kty", "RSA", choices=KTYS)
        is_ec = kty.startswith("EC")
        if not is_ec and obj.raw("curve") is not None:
            raise obj.fail("curve", "only EC and EC-HSM keys have a curve")
        curve = obj.text("curve", "P-256", choices=tuple(CURVE_BITS)) if is_ec else None
        default_size = CURVE_BITS[curve] if curve else 256 if kty == "oct-HSM" else 3072
        size = obj.number("size", default_size, minimum=128, maximum=8192)
        created = obj.when("created", self.now)
        created = int(self.now) - 30 * SECONDS_PER_DAY if created is None else created
        ops = obj.strings("ops", ALL_OPS)
        older = self.older_versions(obj)
        versions = [
            KeyVersion(
                uuid.uuid5(_NAMESPACE, f"{self.seed}|{vault.name}|{name}|{n}").hex,
                created=created - (len(older) - n) * 90 * SECONDS_PER_DAY,
                updated=created - (len(older) - n) * 90 * SECONDS_PER_DAY,
                key_ops=list(ops),
            )
            for n in range(len(older) + 1)
        ]
        for version, entry in zip(versions, [*older, obj], strict=True):
            self.version_attributes(entry, version, versions)
        for entry in older:
            entry.done()
        versions[-1].tags = obj.tags()
        deleted = obj.when("deleted", self.now)
        key = Key(
            name,
            kty,
            size,
            pseudo_modulus(self.seed, vault.name, name, size=size),
            versions,
            deleted,
            None if deleted is None else deleted + vault.retention_days * SECONDS_PER_DAY,
            curve,
        )
        obj.done()
        return key

    def older_versions(self, key: Fields) -> list[Fields]:
        """`olderVersions`: a count (that many enabled versions without dates) or, oldest first,
        one mapping of attributes per version."""
        value = key.raw("olderVersions")
        if isinstance(value, list):
            return field_items(key, "olderVersions")
        count = key.number("olderVersions", 0, minimum=0, maximum=20)
        return [Fields({}, f"{key.path}.olderVersions[{n}]", key.source) for n in range(count)]

    def version_attributes(self, obj: Fields, version: KeyVersion, versions: list[KeyVersion]) -> None:
        """One version's own attributes (the key's newest ones are on the key itself)."""
        version.enabled = obj.flag("enabled", True)
        version.not_before = obj.when("notBefore", self.now)
        version.expires = obj.when("expires", self.now)
        given = obj.opt_text("version")
        if given is not None:
            if not _VERSION.match(given):
                raise obj.fail("version", f"{given!r} is not a key version (32 hexadecimal digits)")
            if any(v.version.lower() == given.lower() for v in versions):
                raise obj.fail("version", f"{given!r} is defined twice")
            version.version = given.lower()

    def cluster(self, obj: Fields) -> Cluster:
        """A clusters[] entry: attached identities (with remembered principals) and CMK settings."""
        cluster = Cluster(
            obj.text("name", pattern=_NAME),
            obj.guid("subscriptionId") or self.sub,
            obj.text("resourceGroup", self.rg, pattern=_NAME),
            obj.text("location", self.location),
            provisioning_state=obj.text(
                "provisioningState",
                "Succeeded",
                choices=("Succeeded", "Failed", "Canceled", "InProgress", "Updating"),
            ),
            replica_role=obj.text(
                "replicaRole", "Primary", choices=("Primary", "AsyncReplica", "GeoAsyncReplica")
            ),
            tags=obj.tags(),
            created=int(self.now) - 200 * SECONDS_PER_DAY,
        )
        for index, item in enumerate(obj.items("identities")):
            path = f"{obj.path}.identities[{index}]"
            entry = Fields({"identity": item} if isinstance(item, str) else item, path, obj.source)
            ident_id = self.identity_id(entry.text("identity"))
            current = self.identities.get(ident_id.lower())
            cluster.identities.append(
                Attached(
                    current.id if current is not None else ident_id,
                    entry.guid("principalId")
                    or (current.principal_id if current else self.seeded_principal(ident_id)),
                    entry.guid("clientId")
                    or (current.client_id if current else self.guid("client", ident_id)),
                )
            )
            entry.done()
        encryption = obj.child("encryption")
        if encryption is not None:
            first = cluster.identities[0].identity_id if cluster.identities else None
            ref = encryption.opt_text("identity")
            cluster.key_identity_id = self.identity_id(ref) if ref else first
            if cluster.key_identity_id is None:
                raise encryption.fail("identity", "required when the cluster has no identities")
            url = encryption.opt_text("keyUrl")
            vault_name = encryption.opt_text("vault")
            key_name = encryption.opt_text("key")
            if url is not None and (vault_name or key_name):
                raise encryption.fail("keyUrl", "give either keyUrl or vault + key, not both")
            if url is None:
                if not vault_name or not key_name:
                    raise encryption.fail("keyUrl", "required (or vault + key)")
                url = f"https://{vault_name}.vault.azure.net/keys/{key_name}"
                version = encryption.opt_text("version")
                url += f"/{version}" if version else ""
            elif not re.match(
                r"^https://[A-Za-z0-9-]+\.vault\.azure\.net/keys/[A-Za-z0-9-]+(/[A-Za-z0-9]+)?$", url
            ):
                raise encryption.fail(
                    "keyUrl", f"{shown(url)} is not https://<vault>.vault.azure.net/keys/<key>[/<ver>]"
                )
            else:
                encryption.raw("version")
            cluster.key_url = url
            encryption.done()
        self.cluster_status(obj, cluster)
        obj.done()
        return cluster

    def cluster_status(self, obj: Fields, cluster: Cluster) -> None:
        """clusterStatus: Ready (running), Stopped (came up, stopped by its operator) or, with
        provisioningState Failed, Failed or Provisioning.

        provisioningState Failed alone means the cluster never came up (clusterStatus Failed, the docs'
        word); with `clusterStatus: Ready` it is a running cluster whose last operation failed.
        """
        failed = cluster.provisioning_state == "Failed"
        status = obj.text(
            "clusterStatus",
            "Failed" if failed else _RUNNING,
            choices=(_RUNNING, _STOPPED, *_NEVER_CAME_UP),
        )
        if status in _NEVER_CAME_UP and not failed:
            raise obj.fail(
                "clusterStatus",
                f"{shown(status)} means the cluster never came up, which needs provisioningState Failed",
            )
        cluster.status, cluster.came_up = status, status in (_RUNNING, _STOPPED)
        cluster.stopped = status == _STOPPED
        cluster.availability_since = float(cluster.created)

    def scope(self, obj: Fields, key: str) -> str:
        """A scope in the notation role assignments and locks share (subscription, vault:<name>, ...)."""
        value = obj.text(key)
        if value.startswith("/"):
            problem = arm_path_problem(value)
            if problem is not None:
                raise obj.fail(key, problem)
            return value.rstrip("/")
        kind, _, arg = value.partition(":")
        if kind == "subscription" and (not arg or GUID.match(arg)):
            return f"/subscriptions/{arg or self.sub}"
        if kind == "resourceGroup":
            return f"/subscriptions/{self.sub}/resourceGroups/{arg or self.rg}"
        if kind in ("cluster", "identity") and arg:
            found = [
                r.id
                for r in (self.clusters if kind == "cluster" else self.identities.values())
                if r.name.lower() == arg.lower()
            ]
            if len(found) != 1:
                where = "no" if not found else "more than one"
                raise obj.fail(key, f"{where} {kind} named {shown(arg)} in this estate (give its full id)")
            return found[0]
        if kind in ("vault", "key") and arg:
            vault_name, _, key_name = arg.partition("/")
            vault = self.vaults.get(vault_name.lower())
            if vault is None:
                raise obj.fail(key, f"no vault named {shown(vault_name)} in this estate")
            if kind == "vault" and not key_name:
                return vault.id
            if kind == "key" and key_name:
                return f"{vault.id}/keys/{key_name}"
        raise obj.fail(
            key,
            f"{shown(value)} is not a scope (subscription[:<guid>], resourceGroup[:name], vault:<name>, "
            "key:<vault>/<key>, cluster:<name>, identity:<name> or /subscriptions/...)",
        )

    def assignment(self, obj: Fields, index: int) -> RoleAssignment:
        """A roleAssignments[] entry (soft-deleted vaults have none: soft delete dropped them)."""
        principal = self.principal(obj, "principal")
        role_ref = obj.text("role")
        role = next(
            (r for r in self.roles if role_ref.lower() in (r.guid.lower(), r.role_name.lower())), None
        )
        if role is None:
            raise obj.fail("role", f"{shown(role_ref)} is not a built-in or custom role name or id")
        scope = self.scope(obj, "scope")
        scope_parts = scope.split("/")
        sub = scope_parts[2] if len(scope_parts) > 2 and scope_parts[2] else self.sub
        assignment = RoleAssignment(
            obj.guid("name") or self.guid("assignment", str(index), principal, role.guid, scope),
            scope,
            f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role.guid}",
            principal,
            obj.text("principalType", "ServicePrincipal", choices=("ServicePrincipal", "User", "Group")),
            created=int(self.now) - 100 * SECONDS_PER_DAY,
        )
        for vault in self.vaults.values():
            if not vault.live and (
                scope.lower() == vault.id.lower() or scope.lower().startswith(vault.id.lower() + "/")
            ):
                raise obj.fail(
                    "scope",
                    f"vault {shown(vault.name)} is soft-deleted: soft delete dropped its role "
                    "assignments, so it cannot have any",
                )
        obj.done()
        return assignment

    def lock(self, obj: Fields, index: int, state: State) -> Lock:
        """A locks[] entry, on the subscription, a used resource group or a live resource (as in ARM)."""
        level = obj.text("level", choices=LOCK_LEVELS)
        scope = self.scope(obj, "scope")
        name = obj.text("name", f"lock-{index}", pattern=_NAME)
        subs = {f"/subscriptions/{sub}".lower() for sub in state.known_subscriptions()}
        groups = {f"/subscriptions/{sub}/resourceGroups/{rg}".lower() for sub, rg in state.placements()}
        resources = {c.id.lower() for c in state.clusters} | {i.id.lower() for i in state.identities}
        for vault in state.vaults:
            if vault.live:
                resources |= {vault.id.lower(), *(f"{vault.id}/keys/{k}".lower() for k in vault.keys)}
            elif scope.lower() == vault.id.lower() or scope.lower().startswith(vault.id.lower() + "/"):
                raise obj.fail("scope", f"vault {shown(vault.name)} is soft-deleted: its locks went with it")
        if scope.lower() not in {*subs, *groups, *resources}:
            raise obj.fail(
                "scope",
                f"{shown(scope)} is not the subscription, a resource group or a resource of this estate",
            )
        obj.done()
        return Lock(name, scope, level)
