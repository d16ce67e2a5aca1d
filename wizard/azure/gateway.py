"""The gateway: the SDK calls behind each question, answered with our frozen dataclasses."""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from wizard.azure.clients import ClientFactory
from wizard.azure.errors import call, translate, translated
from wizard.azure.throttling import graph_with_retries
from wizard.domain.actions import Action, ClearKeyNotBefore, EnableKey, ExtendKeyExpiry, RecoverKey
from wizard.domain.background import in_background
from wizard.domain.errors import BadInput, Forbidden, GatewayError, NotFound, ReadOnlyViolation
from wizard.domain.ids import CLUSTER_TYPE, IDENTITY_TYPE, VAULT_TYPE, parse_resource_id
from wizard.domain.models import (
    AccessPolicy,
    AttachedIdentity,
    ClusterFacts,
    ClusterSummary,
    DeletedKeyFacts,
    DeletedVaultFacts,
    IdentityFacts,
    KeyFacts,
    LockReading,
    ResourceHealthFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
    VaultRef,
)
from wizard.domain.network import NETWORK_REFUSALS
from wizard.domain.ports import AuditTrail, Operator

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

VAULT_BY_NAME = "resources | where type =~ 'microsoft.keyvault/vaults' | where name =~ '{name}'"
SUBSCRIPTIONS = (
    "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId"
)
CMK_CLUSTERS = (
    "resources | where type =~ 'microsoft.documentdb/mongoclusters' "
    "| where isnotempty(properties.encryption.customerManagedKeyEncryption)"
)

NEEDS_CLUSTER_READ = "Microsoft.DocumentDB/mongoClusters/read (Reader on the cluster)"
NEEDS_HEALTH_READ = "Microsoft.ResourceHealth/availabilityStatuses/read (Reader on the cluster)"
NEEDS_IDENTITY_READ = "Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader on the identity)"
NEEDS_GRAPH_READ = "Reader on the vault's subscription (Resource Graph shows only what you can read)"
NEEDS_VAULT_READ = "Microsoft.KeyVault/vaults/read (Reader on the vault)"
NEEDS_DELETED_VAULT_READ = "Microsoft.KeyVault/locations/deletedVaults/read (Key Vault Contributor)"
NEEDS_KEY_READ = "Microsoft.KeyVault/vaults/keys/read (Reader on the vault)"
NEEDS_DELETED_KEY_READ = (
    "keys/list on the vault's data plane (Key Vault Crypto Officer or Reader) and network access to the vault"
)
NEEDS_ROLE_READ = "Microsoft.Authorization/roleAssignments/read (Reader on the vault)"
NEEDS_SUBSCRIPTION_LIST = "any role in the subscription (ARM lists those; Resource Graph may not)"
NEEDS_GROUP_READ = "Microsoft.Resources/subscriptions/resourceGroups/read (Reader)"
NEEDS_ROLEDEF_READ = "Microsoft.Authorization/roleDefinitions/read (Reader)"


def text(value: Any) -> str:
    """An SDK enum or string as plain text (enums are open: unknown values pass through)."""
    if value is None:
        return ""
    return str(value.value) if isinstance(value, Enum) else str(value)


def _epoch(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(value), UTC)


def _iso_date(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return _epoch(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _account_from_token(token: str) -> tuple[str, str]:
    """The tenant and account named in a JWT's claims, without keeping or showing the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return "", ""
    account = claims.get("upn") or claims.get("unique_name") or claims.get("appid") or ""
    return str(claims.get("tid", "")), str(account)


class AzureGateway:
    """Reads (and, through a guarded writer, writes) Azure for one operator."""

    def __init__(
        self,
        factory: ClientFactory,
        *,
        mode: str,
        tenant_id: str = "",
        account: str = "",
        read_only: bool = False,
    ) -> None:
        self.factory = factory
        self.mode = mode
        self.read_only = read_only
        self._tenant_id = tenant_id
        self._account = account
        self._warm: set[str] = set()  # vaults whose data plane `warm_data_plane` signed in to
        self._warm_lock = threading.Lock()

    def guard_write(self, action: str) -> None:
        """Read-only is a property of the gateway: every write method calls this first."""
        if self.read_only:
            raise ReadOnlyViolation(f"refused to {action}: the wizard was started with --read-only")

    def writer(self, audit: AuditTrail) -> GatewayWriter:
        """The writes (one action at a time), each guarded and audited into `audit`."""
        from wizard.azure.writes import GatewayWriter

        return GatewayWriter(self, audit)

    def warm_data_plane(self, action: Action) -> None:
        """While a key write waits for its confirmation: sign in to the vault's data plane in the
        background. Key Vault answers a client's first request with a 401 challenge, so the write
        would otherwise pay an extra round trip. One read of the key (public attributes only) per
        vault; its answer is dropped, and a network refusal leaves the vault to be tried again (the
        operator's temporary IP rule may come next)."""
        if self.read_only or not isinstance(
            action, ExtendKeyExpiry | EnableKey | ClearKeyNotBefore | RecoverKey
        ):
            return
        with self._warm_lock:
            if action.vault_url in self._warm:
                return
            self._warm.add(action.vault_url)

        def sign_in() -> None:
            try:
                self.factory.keys(action.vault_url).get_key(action.key_name, action.version or None)
            except Exception as exc:
                error = translate(exc, action=f"read key {action.key_name}", needs="")
                if isinstance(error, Forbidden) and error.inner_code in NETWORK_REFUSALS:
                    with self._warm_lock:
                        self._warm.discard(action.vault_url)

        in_background(sign_in, "cmk-data-plane-sign-in")  # its answer is not waited for

    def locks_at(self, resource_id: str) -> LockReading:
        """The management locks at and above a resource (the fix preview's lock preflight)."""
        from wizard.azure.lock_reads import read_locks

        return read_locks(self.factory, resource_id)

    def operator(self) -> Operator:
        """Who we are: from the token's claims when live, fixed for the emulator."""
        if self.mode == "azure" and not self._account:
            token = call(
                "sign in",
                "",
                lambda: self.factory.credential.get_token("https://management.azure.com/.default"),
            )
            self._tenant_id, self._account = _account_from_token(token.token)
        return Operator(self.mode, self._tenant_id, self._account, self.factory.subscription_id)

    def _graph(self, query: str, subscriptions: list[str] | None = None) -> list[dict[str, Any]]:
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        rows: list[dict[str, Any]] = []
        skip_token: str | None = None
        graph = self.factory.graph()
        while True:
            request = QueryRequest(
                query=query,
                subscriptions=subscriptions,
                options=QueryRequestOptions(result_format="objectArray", skip_token=skip_token),
            )
            with translated("query Resource Graph", NEEDS_GRAPH_READ):
                response = graph_with_retries(
                    functools.partial(graph.resources, request), max_wait=self.factory.retry.max_retry_after
                )
            rows += list(response.data or [])
            skip_token = response.skip_token
            if not skip_token:
                return rows

    def list_cmk_clusters(self) -> list[ClusterSummary]:
        """Every CMK cluster the operator can see, through Resource Graph."""
        rows = self._graph(CMK_CLUSTERS)
        result = []
        for row in rows:
            props = row.get("properties") or {}
            cmk = (props.get("encryption") or {}).get("customerManagedKeyEncryption") or {}
            result.append(
                ClusterSummary(
                    id=row["id"],
                    name=row["name"],
                    resource_group=row.get("resourceGroup", ""),
                    location=row.get("location", ""),
                    cluster_status=str(props.get("clusterStatus", "")),
                    provisioning_state=str(props.get("provisioningState", "")),
                    key_url=cmk.get("keyEncryptionKeyUrl"),
                )
            )
        return sorted(result, key=lambda c: (c.resource_group.lower(), c.name.lower()))

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        """The cluster's identity list, CMK settings and state."""
        rid = parse_resource_id(cluster_id, CLUSTER_TYPE)
        client = self.factory.mongo(rid.subscription_id)
        cluster = call(
            f"read cluster {rid.name}",
            NEEDS_CLUSTER_READ,
            lambda: client.mongo_clusters.get(rid.resource_group, rid.name),
        )
        props = cluster.properties
        encryption = getattr(props, "encryption", None)
        cmk = getattr(encryption, "customer_managed_key_encryption", None)
        kek_identity = getattr(cmk, "key_encryption_key_identity", None)
        identity = cluster.identity
        attached = tuple(
            AttachedIdentity(
                resource_id, getattr(value, "principal_id", None), getattr(value, "client_id", None)
            )
            for resource_id, value in (getattr(identity, "user_assigned_identities", None) or {}).items()
        )
        replica = getattr(props, "replica", None)
        return ClusterFacts(
            id=cluster.id or str(rid),
            name=cluster.name or rid.name,
            resource_group=rid.resource_group,
            subscription_id=rid.subscription_id,
            location=cluster.location or "",
            cluster_status=text(getattr(props, "cluster_status", None)),
            provisioning_state=text(getattr(props, "provisioning_state", None)),
            key_url=getattr(cmk, "key_encryption_key_url", None),
            key_identity_id=getattr(kek_identity, "user_assigned_identity_resource_id", None),
            identity_type=text(getattr(identity, "type", None)) or None,
            attached_identities=attached,
            replica_role=text(getattr(replica, "role", None)) or None,
        )

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """Resource Health's current availability status of the cluster: the service's own view of
        whether it serves connections, which clusterStatus (no Inaccessible in its enum) may not show."""
        rid = parse_resource_id(cluster_id, CLUSTER_TYPE)
        client = self.factory.resource_health(rid.subscription_id)
        # The spec's examples give resourceUri without the leading slash (the URL template adds it).
        # UNVERIFIED: that live ARM answers this form for a mongoCluster (a live GET would settle it).
        status = call(
            f"read Resource Health of cluster {rid.name}",
            NEEDS_HEALTH_READ,
            lambda: client.availability_statuses.get_by_resource(str(rid).lstrip("/")),
        )
        props = status.properties
        return ResourceHealthFacts(
            availability_state=text(getattr(props, "availability_state", None)) or "Unknown",
            title=getattr(props, "title", None) or "",
            summary=getattr(props, "summary", None) or "",
            reason_type=getattr(props, "reason_type", None),
            detailed_status=getattr(props, "detailed_status", None),
            occurred_time=_iso_date(getattr(props, "occured_time", None)),
            reported_time=_iso_date(getattr(props, "reported_time", None)),
        )

    def get_identity(self, identity_id: str) -> IdentityFacts:
        """A user-assigned identity and its current principal."""
        rid = parse_resource_id(identity_id, IDENTITY_TYPE)
        client = self.factory.msi(rid.subscription_id)
        identity = call(
            f"read identity {rid.name}",
            NEEDS_IDENTITY_READ,
            lambda: client.user_assigned_identities.get(rid.resource_group, rid.name),
        )
        return IdentityFacts(
            id=identity.id or str(rid),
            name=identity.name or rid.name,
            principal_id=str(identity.principal_id),
            client_id=str(identity.client_id),
            tenant_id=str(identity.tenant_id),
            location=identity.location or "",
        )

    def find_vault(self, vault_name: str) -> VaultRef | None:
        """A live vault by name in any subscription the operator can read (Resource Graph)."""
        rows = self._graph(VAULT_BY_NAME.format(name=vault_name.replace("'", "")))
        if not rows:
            return None
        row = rows[0]
        rid = parse_resource_id(row["id"], VAULT_TYPE)
        return VaultRef(
            id=row["id"],
            name=row.get("name", rid.name),
            resource_group=rid.resource_group,
            subscription_id=rid.subscription_id,
            location=row.get("location", ""),
        )

    def search_vault(self, vault_name: str, subscription_id: str) -> VaultRef | None:
        """A live vault by name in one subscription through ARM, which Resource Graph can lag
        behind by minutes (a vault recovered a moment ago)."""
        client = self.factory.keyvault(subscription_id)
        vault = call(
            "list vaults",
            NEEDS_VAULT_READ,
            lambda: next(
                (
                    v
                    for v in client.vaults.list_by_subscription()
                    if (v.name or "").lower() == vault_name.lower() and v.id
                ),
                None,
            ),
        )
        if vault is None:
            return None
        rid = parse_resource_id(vault.id, VAULT_TYPE)
        return VaultRef(
            id=vault.id,
            name=vault.name,
            resource_group=rid.resource_group,
            subscription_id=rid.subscription_id,
            location=vault.location or "",
        )

    def get_vault(self, vault_id: str) -> VaultFacts:
        """A live vault's permission model, network rules, protection and policies."""
        rid = parse_resource_id(vault_id, VAULT_TYPE)
        client = self.factory.keyvault(rid.subscription_id)
        vault = call(
            f"read vault {rid.name}",
            NEEDS_VAULT_READ,
            lambda: client.vaults.get(rid.resource_group, rid.name),
        )
        return vault_facts(vault, rid.resource_group, rid.subscription_id)

    def list_subscriptions(self) -> list[str]:
        """The subscriptions the operator sees: ARM's list (every subscription with any role, a
        resource-group role included), else Resource Graph's when ARM's cannot be read."""
        client = self.factory.subscriptions()
        try:
            listed = call(
                "list subscriptions", NEEDS_SUBSCRIPTION_LIST, lambda: list(client.subscriptions.list())
            )
        except GatewayError:
            rows = self._graph(SUBSCRIPTIONS)
            return sorted({str(row["subscriptionId"]) for row in rows if row.get("subscriptionId")})
        return sorted({str(s.subscription_id) for s in listed if s.subscription_id})

    def get_deleted_vault(self, vault_name: str, location: str, subscription_id: str) -> DeletedVaultFacts:
        """A soft-deleted vault in the given subscription, in any region (a vault need not sit
        where the cluster does): one list rather than a guess at the location, paged only until a
        page names the vault."""
        client = self.factory.keyvault(subscription_id)
        deleted = call(
            f"list deleted vaults in subscription {subscription_id}",
            f"{NEEDS_DELETED_VAULT_READ} on subscription {subscription_id}",
            lambda: next(
                (d for d in client.vaults.list_deleted() if (d.name or "").lower() == vault_name.lower()),
                None,
            ),
        )
        if deleted is None:
            raise NotFound(
                f"no soft-deleted vault named {vault_name} in subscription {subscription_id}", status=404
            )
        props = deleted.properties
        vault_id = getattr(props, "vault_id", None) or ""
        return DeletedVaultFacts(
            name=deleted.name or vault_name,
            location=getattr(props, "location", None) or location,
            vault_id=vault_id,
            deletion_date=_iso_date(getattr(props, "deletion_date", None)),
            scheduled_purge_date=_iso_date(getattr(props, "scheduled_purge_date", None)),
            purge_protection=getattr(props, "purge_protection_enabled", None),
            group_exists=self._group_exists(vault_id),
        )

    def _group_exists(self, resource_id: str) -> bool | None:
        """Whether the resource group of `resource_id` exists (deleting a group is a common way a
        vault ends up soft-deleted); None when it cannot be read."""
        try:
            rid = parse_resource_id(resource_id, VAULT_TYPE)
        except BadInput:
            return None
        client = self.factory.resources(rid.subscription_id)
        try:
            call(
                f"read resource group {rid.resource_group}",
                NEEDS_GROUP_READ,
                lambda: client.resource_groups.get(rid.resource_group),
            )
        except NotFound:
            return False
        except GatewayError:
            return None
        return True

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        """Key attributes through the management plane, which the vault firewall does not block:
        the version the cluster's key URL names, else the latest."""
        rid = parse_resource_id(vault_id, VAULT_TYPE)
        client = self.factory.keyvault(rid.subscription_id)
        if version:
            key = call(
                f"read key {key_name}/{version} in {rid.name}",
                NEEDS_KEY_READ,
                lambda: client.keys.get_version(rid.resource_group, rid.name, key_name, version),
            )
        else:
            key = call(
                f"read key {key_name} in {rid.name}",
                NEEDS_KEY_READ,
                lambda: client.keys.get(rid.resource_group, rid.name, key_name),
            )
        props = key.properties
        attrs = getattr(props, "attributes", None)
        with_version = getattr(props, "key_uri_with_version", None) or ""
        return KeyFacts(
            name=key.name or key_name,
            vault_name=rid.name,
            key_uri=getattr(props, "key_uri", None) or "",
            version=with_version.rstrip("/").rsplit("/", 1)[-1] if with_version else None,
            enabled=getattr(attrs, "enabled", None),
            not_before=_epoch(getattr(attrs, "not_before", None)),
            expires=_epoch(getattr(attrs, "expires", None)),
            kty=text(getattr(props, "kty", None)) or None,
            key_size=getattr(props, "key_size", None),
            key_ops=tuple(text(op) for op in (getattr(props, "key_ops", None) or [])),
            recovery_level=text(getattr(attrs, "recovery_level", None)) or None,
        )

    def get_deleted_key(self, vault_url: str, key_name: str) -> DeletedKeyFacts:
        """A soft-deleted key, through the data plane (the only place that knows)."""
        client = self.factory.keys(vault_url)
        deleted = call(
            f"read deleted key {key_name}", NEEDS_DELETED_KEY_READ, lambda: client.get_deleted_key(key_name)
        )
        return DeletedKeyFacts(
            name=deleted.name or key_name,
            deleted_on=_epoch(deleted.deleted_date),
            scheduled_purge_date=_epoch(deleted.scheduled_purge_date),
            recovery_id=deleted.recovery_id,
        )

    def list_role_assignments(self, vault_id: str, principal_id: str) -> list[RoleAssignmentFacts]:
        """The principal's assignments at, above and below the vault."""
        rid = parse_resource_id(vault_id, VAULT_TYPE)
        client = self.factory.authorization(rid.subscription_id)
        assignments: Iterable[Any] = call(
            "list role assignments",
            NEEDS_ROLE_READ,
            lambda: list(
                client.role_assignments.list_for_scope(scope=vault_id, filter=f"assignedTo('{principal_id}')")
            ),
        )
        return [
            RoleAssignmentFacts(
                id=a.id or "",
                scope=a.scope or "",
                role_definition_id=a.role_definition_id or "",
                principal_id=a.principal_id or "",
                principal_type=text(a.principal_type) or None,
            )
            for a in assignments
        ]

    def get_role_definition(self, role_definition_id: str) -> RoleDefinitionFacts:
        """A role's data actions (for roles other than the documented one)."""
        sub = (
            role_definition_id.split("/subscriptions/")[-1].split("/")[0]
            if ("/subscriptions/" in role_definition_id)
            else None
        )
        client = self.factory.authorization(sub)
        role = call(
            "read role definition",
            NEEDS_ROLEDEF_READ,
            lambda: client.role_definitions.get_by_id(role_definition_id),
        )
        return role_facts(role, role_definition_id)

    def list_custom_roles(self, scope: str) -> list[RoleDefinitionFacts]:
        """Every custom role usable at the scope, in one paged list (`type eq 'CustomRole'`, as
        documented), instead of one read per assignment."""
        sub = scope.split("/subscriptions/")[-1].split("/")[0] if "/subscriptions/" in scope else None
        client = self.factory.authorization(sub)
        roles: list[Any] = call(
            "list custom roles",
            NEEDS_ROLEDEF_READ,
            lambda: list(client.role_definitions.list(scope, filter="type eq 'CustomRole'")),
        )
        return [role_facts(role, role.id or "") for role in roles]


def role_facts(role: Any, role_definition_id: str) -> RoleDefinitionFacts:
    """Map an SDK RoleDefinition to our RoleDefinitionFacts (its data actions, all permissions)."""
    data_actions: list[str] = []
    not_data_actions: list[str] = []
    for permission in role.permissions or []:
        data_actions += permission.data_actions or []
        not_data_actions += permission.not_data_actions or []
    return RoleDefinitionFacts(
        id=role.id or role_definition_id,
        role_name=role.role_name or "",
        data_actions=tuple(data_actions),
        not_data_actions=tuple(not_data_actions),
    )


def vault_facts(vault: Any, resource_group: str, subscription_id: str) -> VaultFacts:
    """Map an SDK Vault to our VaultFacts."""
    props = vault.properties
    acls = getattr(props, "network_acls", None)
    policies = tuple(
        AccessPolicy(
            tenant_id=str(p.tenant_id),
            object_id=str(p.object_id),
            key_permissions=frozenset(
                text(k).lower() for k in (getattr(p.permissions, "keys_property", None) or [])
            ),
        )
        for p in (getattr(props, "access_policies", None) or [])
    )
    return VaultFacts(
        id=vault.id or "",
        name=vault.name or "",
        resource_group=resource_group,
        subscription_id=subscription_id,
        location=vault.location or "",
        tenant_id=str(getattr(props, "tenant_id", "") or ""),
        vault_uri=getattr(props, "vault_uri", None) or "",
        rbac_authorization=bool(getattr(props, "enable_rbac_authorization", False)),
        soft_delete=getattr(props, "enable_soft_delete", None),
        purge_protection=getattr(props, "enable_purge_protection", None),
        public_network_access=text(getattr(props, "public_network_access", None)) or None,
        network_default_action=text(getattr(acls, "default_action", None)) or None,
        network_bypass=text(getattr(acls, "bypass", None)) or None,
        ip_rules=tuple(r.value for r in (getattr(acls, "ip_rules", None) or [])),
        virtual_network_rules=tuple(r.id for r in (getattr(acls, "virtual_network_rules", None) or [])),
        access_policies=policies,
        sku=text(getattr(getattr(props, "sku", None), "name", None)) or None,
    )
