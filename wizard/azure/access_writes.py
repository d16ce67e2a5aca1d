"""Writes that give an identity access to its key: the documented role on an RBAC vault, the
missing key permissions on an access-policy vault. Called by GatewayWriter.apply."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from wizard.azure.errors import call
from wizard.domain.access import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    REQUIRED_POLICY,
    key_permissions_of,
    missing_key_permissions,
    scope_covers,
)
from wizard.domain.actions import AddAccessPolicy, GrantCryptoRole
from wizard.domain.errors import Forbidden, WriteRefused
from wizard.domain.ids import VAULT_TYPE, parse_resource_id
from wizard.domain.results import WriteResult

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

NEEDS_POLICY_WRITE = "Microsoft.KeyVault/vaults/accessPolicies/write (Key Vault Contributor)"
NEEDS_ROLE_WRITE = (
    "Microsoft.Authorization/roleAssignments/write (Owner, User Access Administrator "
    "or Key Vault Data Access Administrator)"
)


def _principal(writer: GatewayWriter, remediation: str, principal_id: str | None) -> str:
    """The principal a grant is for; a step still waiting for its identity has none to send."""
    if principal_id is None:
        writer.gateway.guard_write(remediation)
        raise WriteRefused(f"refused to {remediation}: the identity it is for does not exist yet")
    return principal_id


def add_access_policy(writer: GatewayWriter, a: AddAccessPolicy) -> WriteResult:
    """Access-policy operation kind `add` with only the missing key permissions; never replace."""
    from azure.mgmt.keyvault.models import (
        AccessPolicyEntry,
        Permissions,
        VaultAccessPolicyParameters,
        VaultAccessPolicyProperties,
    )

    object_id = _principal(writer, a.remediation, a.principal_id)
    rid = parse_resource_id(a.vault_id, VAULT_TYPE)
    asked = {x.lower() for x in a.permissions}
    wanted = [p for p in REQUIRED_POLICY if p.lower() in asked]

    def before() -> dict[str, Any]:
        v = writer.gateway.get_vault(a.vault_id)
        granted = key_permissions_of(v, object_id)
        return {
            "objectId": object_id,
            "keyPermissions": sorted(granted),
            "missing": missing_key_permissions(granted, wanted),
            "tenantId": a.tenant_id or v.tenant_id,
        }

    def act(b: dict[str, Any]) -> Any:
        entry = AccessPolicyEntry(
            tenant_id=b["tenantId"],
            object_id=object_id,
            permissions=Permissions(keys_property=list(b["missing"])),
        )
        params = VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[entry]))
        client = writer.factory.keyvault(rid.subscription_id)
        return call(
            f"add access policy on vault {rid.name}",
            NEEDS_POLICY_WRITE,
            lambda: client.vaults.update_access_policy(rid.resource_group, rid.name, "add", params),
        )

    return writer.audited(
        a.remediation,
        a.vault_id,
        lambda b: {
            "method": "PUT",
            "url": f"{a.vault_id}/accessPolicies/add?api-version=2026-05-15",
            "body": {
                "properties": {
                    "accessPolicies": [
                        {
                            "tenantId": b["tenantId"],
                            "objectId": object_id,
                            "permissions": {"keys": b["missing"]},
                        }
                    ]
                }
            },
        },
        before=before,
        done=lambda b: (
            "the policy already has get, list, wrapKey and unwrapKey" if not b["missing"] else None
        ),
        act=act,
        after=before,
    )


def grant_crypto_role(writer: GatewayWriter, a: GrantCryptoRole) -> WriteResult:
    """Key Vault Crypto Service Encryption User at the vault, principal type ServicePrincipal."""
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    principal_id = _principal(writer, a.remediation, a.principal_id)
    rid = parse_resource_id(a.vault_id, VAULT_TYPE)
    role_id = a.role_definition_id
    name = str(uuid.uuid4())

    def assignments() -> dict[str, Any]:
        try:
            found = writer.gateway.list_role_assignments(a.vault_id, principal_id)
        except Forbidden as exc:
            return {"principalId": principal_id, "unreadable": exc.needs}
        return {
            "principalId": principal_id,
            "assignments": [
                {"role": r.role_guid, "scope": r.scope, "id": r.id}
                for r in found
                if r.principal_id.lower() == principal_id.lower()
            ],
        }

    def done(b: dict[str, Any]) -> str | None:
        for r in b.get("assignments", []):
            if r["role"] == CRYPTO_SERVICE_ENCRYPTION_USER and scope_covers(r["scope"], a.vault_id):
                return f"the principal already holds the role at {r['scope']}"
        return None

    def act(_: dict[str, Any]) -> Any:
        client = writer.factory.authorization(rid.subscription_id)
        params = RoleAssignmentCreateParameters(
            role_definition_id=role_id, principal_id=principal_id, principal_type=a.principal_type
        )
        return call(
            "create role assignment",
            NEEDS_ROLE_WRITE,
            lambda: client.role_assignments.create(
                scope=a.vault_id, role_assignment_name=name, parameters=params
            ),
        )

    return writer.audited(
        a.remediation,
        a.vault_id,
        {
            "method": "PUT",
            "url": f"{a.vault_id}/providers/Microsoft.Authorization/roleAssignments/{name}"
            "?api-version=2022-04-01",
            "body": {
                "properties": {
                    "roleDefinitionId": role_id,
                    "principalId": principal_id,
                    "principalType": a.principal_type,
                }
            },
        },
        before=assignments,
        done=done,
        act=act,
        after=assignments,
        conflict_done_codes=("RoleAssignmentExists",),
        ours=lambda s: any(
            str(r.get("id", "")).lower().endswith(f"/{name}") for r in s.get("assignments", [])
        ),
    )
