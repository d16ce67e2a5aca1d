"""Resource Graph rows (the resources' ARM JSON, camelCase) as our frozen dataclasses.

The same facts the gateway reads one resource at a time through the SDK models, read here from the
JSON Resource Graph returns for thousands at once; so a cluster, vault or identity means the same
to the engine whichever way it was read. Ids give the resource group and subscription in their
ARM spelling (Resource Graph lower-cases `resourceGroup`).
"""

from __future__ import annotations

from typing import Any

from wizard.domain.errors import BadInput
from wizard.domain.ids import CLUSTER_TYPE, IDENTITY_TYPE, VAULT_TYPE, parse_resource_id
from wizard.domain.models import (
    AccessPolicy,
    AttachedIdentity,
    ClusterFacts,
    IdentityFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def cluster_from_row(row: dict[str, Any]) -> ClusterFacts | None:
    """A `mongoclusters` row; None for a row whose id is not a cluster's (never trusted blindly)."""
    try:
        rid = parse_resource_id(_text(row.get("id")), CLUSTER_TYPE)
    except BadInput:
        return None
    props = _mapping(row.get("properties"))
    cmk = _mapping(_mapping(props.get("encryption")).get("customerManagedKeyEncryption"))
    kek_identity = _mapping(cmk.get("keyEncryptionKeyIdentity"))
    identity = _mapping(row.get("identity"))
    attached = tuple(
        AttachedIdentity(
            str(resource_id),
            _mapping(value).get("principalId"),
            _mapping(value).get("clientId"),
        )
        for resource_id, value in _mapping(identity.get("userAssignedIdentities")).items()
    )
    return ClusterFacts(
        id=_text(row.get("id")),
        name=_text(row.get("name")) or rid.name,
        resource_group=rid.resource_group,
        subscription_id=rid.subscription_id,
        location=_text(row.get("location")),
        cluster_status=_text(props.get("clusterStatus")),
        provisioning_state=_text(props.get("provisioningState")),
        key_url=cmk.get("keyEncryptionKeyUrl") or None,
        key_identity_id=kek_identity.get("userAssignedIdentityResourceId") or None,
        identity_type=_text(identity.get("type")) or None,
        attached_identities=attached,
        replica_role=_text(_mapping(props.get("replica")).get("role")) or None,
    )


def vault_from_row(row: dict[str, Any]) -> VaultFacts | None:
    """A `vaults` row, as `vaults.get` would describe the vault."""
    try:
        rid = parse_resource_id(_text(row.get("id")), VAULT_TYPE)
    except BadInput:
        return None
    props = _mapping(row.get("properties"))
    acls = _mapping(props.get("networkAcls"))
    policies = tuple(
        AccessPolicy(
            tenant_id=_text(p.get("tenantId")),
            object_id=_text(p.get("objectId")),
            key_permissions=frozenset(
                str(k).lower() for k in _mapping(p.get("permissions")).get("keys") or []
            ),
        )
        for p in props.get("accessPolicies") or []
        if isinstance(p, dict)
    )
    return VaultFacts(
        id=_text(row.get("id")),
        name=_text(row.get("name")) or rid.name,
        resource_group=rid.resource_group,
        subscription_id=rid.subscription_id,
        location=_text(row.get("location")),
        tenant_id=_text(props.get("tenantId")),
        vault_uri=_text(props.get("vaultUri")),
        rbac_authorization=bool(props.get("enableRbacAuthorization", False)),
        soft_delete=props.get("enableSoftDelete"),
        purge_protection=props.get("enablePurgeProtection"),
        public_network_access=_text(props.get("publicNetworkAccess")) or None,
        network_default_action=_text(acls.get("defaultAction")) or None,
        network_bypass=_text(acls.get("bypass")) or None,
        ip_rules=tuple(_text(_mapping(r).get("value")) for r in acls.get("ipRules") or []),
        virtual_network_rules=tuple(
            _text(_mapping(r).get("id")) for r in acls.get("virtualNetworkRules") or []
        ),
        access_policies=policies,
        sku=_text(_mapping(props.get("sku")).get("name")) or None,
    )


def identity_from_row(row: dict[str, Any]) -> IdentityFacts | None:
    """A `userassignedidentities` row, with its current principal."""
    try:
        rid = parse_resource_id(_text(row.get("id")), IDENTITY_TYPE)
    except BadInput:
        return None
    props = _mapping(row.get("properties"))
    return IdentityFacts(
        id=_text(row.get("id")),
        name=_text(row.get("name")) or rid.name,
        principal_id=_text(props.get("principalId")),
        client_id=_text(props.get("clientId")),
        tenant_id=_text(props.get("tenantId")),
        location=_text(row.get("location")),
    )


def assignment_from_row(row: dict[str, Any]) -> RoleAssignmentFacts:
    """A projected `roleassignments` row."""
    return RoleAssignmentFacts(
        id=_text(row.get("id")),
        scope=_text(row.get("scope")),
        role_definition_id=_text(row.get("roleDefinitionId")),
        principal_id=_text(row.get("principalId")),
        principal_type=_text(row.get("principalType")) or None,
    )


def role_from_row(row: dict[str, Any]) -> RoleDefinitionFacts:
    """A `roledefinitions` row: its data actions, every permission block together."""
    props = _mapping(row.get("properties"))
    data_actions: list[str] = []
    not_data_actions: list[str] = []
    for permission in props.get("permissions") or []:
        data_actions += [str(a) for a in _mapping(permission).get("dataActions") or []]
        not_data_actions += [str(a) for a in _mapping(permission).get("notDataActions") or []]
    return RoleDefinitionFacts(
        id=_text(row.get("id")),
        role_name=_text(props.get("roleName")),
        data_actions=tuple(data_actions),
        not_data_actions=tuple(not_data_actions),
    )
