"""ARM routes (mongoClusters, identities, vaults, keys, RBAC, Resource Graph) in the real wire shapes."""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.health import parse_key_url, role_definition
from wizard.emulator.model import (
    SECONDS_PER_DAY,
    AccessPolicy,
    Attached,
    Cluster,
    Identity,
    Key,
    KeyVersion,
    NetworkAcls,
    RoleAssignment,
    RoleDefinition,
    Vault,
)
from wizard.emulator.roles import BUILT_IN_ROLES
from wizard.emulator.wire import Context, Handler, HttpError, Operation, Request, Response, arm_error, iso

_SYSTEM_USER = "operator@emulator.local"


def _system_data(created: float, updated: float | None = None) -> dict[str, Any]:
    return {
        "createdBy": _SYSTEM_USER,
        "createdByType": "User",
        "createdAt": iso(created),
        "lastModifiedBy": _SYSTEM_USER,
        "lastModifiedByType": "User",
        "lastModifiedAt": iso(updated or created),
    }


def _not_found(kind: str, name: str, rg: str) -> HttpError:
    return HttpError(
        arm_error(
            404,
            "ResourceNotFound",
            f"The Resource '{kind}/{name}' under resource group '{rg}' was not found. For more "
            "details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    )


def _check_sub(ctx: Context, sub: str) -> str:
    """The estate's spelling of the subscription in the path; one it does not have does not exist."""
    known = ctx.state.subscription(sub)
    if known is None:
        raise HttpError(
            arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        )
    return known


def _check_rg(ctx: Context, sub: str, rg: str) -> str:
    """A resource group no resource of that subscription uses does not exist (ARM says so first)."""
    known = _check_sub(ctx, sub)
    if rg.lower() not in ctx.state.resource_groups(known):
        raise HttpError(arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found."))
    return known


def _same_sub(resource_sub: str, p: dict[str, str]) -> bool:
    """Whether a resource lives in the subscription of the request path."""
    return resource_sub.lower() == p["sub"].lower()


# -- mongoClusters ---------------------------------------------------------------------------


def cluster_json(cluster: Cluster) -> dict[str, Any]:
    """A mongoCluster as GET returns it (the 2026-06-01 shape, CMK fields included)."""
    props: dict[str, Any] = {
        "provisioningState": cluster.provisioning_state,
        "clusterStatus": cluster.status,
        "administrator": {"userName": "mongoAdmin"},
        "authConfig": {"allowedModes": ["NativeAuth"]},
        "serverVersion": "7.0",
        "storage": {"sizeGb": 128, "type": "PremiumSSD"},
        "compute": {"tier": "M30"},
        "sharding": {"shardCount": 1},
        "highAvailability": {"targetMode": "Disabled"},
        "backup": {"earliestRestoreTime": iso(cluster.created + SECONDS_PER_DAY)},
        "privateEndpointConnections": [],
        "previewFeatures": [],
        "infrastructureVersion": "2.0",
        "publicNetworkAccess": "Enabled",
        "connectionString": f"mongodb+srv://<user>:<password>@{cluster.name}.mongocluster.cosmos.azure.com",
        "replica": {"replicationState": "Active", "role": cluster.replica_role},
        "dataApi": {"mode": "Disabled"},
        "createMode": "Default",
    }
    if cluster.key_url:
        props["encryption"] = {
            "customerManagedKeyEncryption": {
                "keyEncryptionKeyIdentity": {
                    "identityType": "UserAssignedIdentity",
                    "userAssignedIdentityResourceId": cluster.key_identity_id,
                },
                "keyEncryptionKeyUrl": cluster.key_url,
            }
        }
    body: dict[str, Any] = {
        "id": cluster.id,
        "name": cluster.name,
        "type": "Microsoft.DocumentDB/mongoClusters",
        "location": cluster.location,
        "tags": dict(cluster.tags),
        "systemData": _system_data(cluster.created),
        "properties": props,
    }
    if cluster.identities:
        body["identity"] = {
            "type": cluster.identity_type,
            "userAssignedIdentities": {
                a.identity_id: {"principalId": a.principal_id, "clientId": a.client_id}
                for a in cluster.identities
            },
        }
    else:
        body["identity"] = {"type": "None"}
    return body


def _cluster(ctx: Context, p: dict[str, str]) -> Cluster:
    _check_rg(ctx, p["sub"], p["rg"])
    cluster = ctx.state.cluster(
        f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/"
        f"Microsoft.DocumentDB/mongoClusters/{p['name']}"
    )
    if cluster is None:
        raise _not_found("Microsoft.DocumentDB/mongoClusters", p["name"], p["rg"])
    return cluster


def get_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a mongoCluster."""
    return Response(200, cluster_json(_cluster(ctx, p)))


def list_clusters(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List mongoClusters in the subscription or one resource group."""
    _check_sub(ctx, p["sub"])
    if p.get("rg"):
        _check_rg(ctx, p["sub"], p["rg"])
    rg = (p.get("rg") or "").lower()
    return Response(
        200,
        {
            "value": [
                cluster_json(c)
                for c in ctx.state.clusters
                if _same_sub(c.subscription_id, p) and (not rg or c.resource_group.lower() == rg)
            ]
        },
    )


def _lro(ctx: Context, kind: str, cluster: Cluster, status: int) -> Response:
    op_id = ctx.new_guid()
    ctx.operations[op_id] = Operation(op_id, kind, cluster.id)
    base = (
        f"{ctx.arm_endpoint}/subscriptions/{cluster.subscription_id}/providers/Microsoft.DocumentDB/"
        f"locations/{cluster.location}"
    )
    return Response(
        status,
        None,
        {
            "Location": f"{base}/mongoClusterOperationResults/{op_id}?api-version=2026-06-01",
            "Azure-AsyncOperation": f"{base}/mongoClusterAzureAsyncOperation/{op_id}?api-version=2026-06-01",
            "Retry-After": "1",
        },
    )


def patch_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH (LRO, 202): merge identities (existing ones stick even on failure), replace CMK settings."""
    cluster = _cluster(ctx, p)
    body = req.json_object()
    problems: list[tuple[str, str]] = []
    identity = body.get("identity")
    if isinstance(identity, dict):
        for ident_id, value in (identity.get("userAssignedIdentities") or {}).items():
            if value is None:
                cluster.identities = [
                    a for a in cluster.identities if a.identity_id.lower() != ident_id.lower()
                ]
                continue
            found = ctx.state.identity(ident_id)
            if found is None:
                problems.append(
                    (
                        "InvalidUserAssignedIdentity",
                        f"The user-assigned identity '{ident_id}' was not found or is not valid.",
                    )
                )
                continue
            current = cluster.attached(found.id)
            if current is None:
                cluster.identities.append(Attached(found.id, found.principal_id, found.client_id))
            else:
                current.principal_id, current.client_id = found.principal_id, found.client_id
        if identity.get("type"):
            cluster.identity_type = str(identity["type"])
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    cmk = ((props or {}).get("encryption") or {}).get("customerManagedKeyEncryption")
    if isinstance(cmk, dict) and not problems:
        kek = cmk.get("keyEncryptionKeyIdentity") or {}
        kek_id = str(kek.get("userAssignedIdentityResourceId") or cluster.key_identity_id or "")
        url = str(cmk.get("keyEncryptionKeyUrl") or cluster.key_url or "")
        parsed = parse_key_url(url)
        vault = ctx.state.live_vault(parsed[0]) if parsed else None
        key = vault.key(parsed[1]) if vault is not None and parsed else None
        if cluster.attached(kek_id) is None or ctx.state.identity(kek_id) is None:
            problems.append(
                (
                    "InvalidKeyEncryptionKeyIdentity",
                    f"The key encryption identity '{kek_id}' must be a valid user-assigned identity "
                    "of the cluster.",
                )
            )
        elif parsed is None or key is None or key.deleted_on is not None:
            problems.append(
                (
                    "InvalidKeyEncryptionKeyUrl",
                    f"The key '{url}' could not be found. It might be missing, or the vault might not exist.",
                )
            )
        else:
            cluster.key_url, cluster.key_identity_id = url, kek_id
    if isinstance(body.get("tags"), dict):
        cluster.tags = {str(k): str(v) for k, v in body["tags"].items()}
    if problems:
        code, message = problems[0]
        raise HttpError(arm_error(400, code, message))
    return _lro(ctx, "update", cluster, 202)


def delete_cluster(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE (LRO, 202): the cluster is gone at once; polls report InProgress once, then done."""
    cluster = _cluster(ctx, p)
    ctx.state.clusters = [c for c in ctx.state.clusters if c is not cluster]
    return _lro(ctx, "delete", cluster, 202)


def poll_operation(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Azure-AsyncOperation and Location URLs of cluster and vault LROs."""
    op = ctx.operations.get(p["op"])
    if op is None:
        raise HttpError(arm_error(404, "OperationNotFound", f"The operation '{p['op']}' was not found."))
    op.polls += 1
    done = op.polls > 1
    if p["what"].lower() == "mongoclusteroperationresults":
        if not done:
            return Response(202, None, {"Location": f"{ctx.arm_endpoint}{req.path}?api-version=2026-06-01"})
        cluster = ctx.state.cluster(op.resource_id)
        if op.kind == "update" and cluster is not None:
            return Response(200, cluster_json(cluster))
        return Response(204)
    return Response(
        200,
        {
            "id": req.path,
            "name": op.op_id,
            "status": "Succeeded" if done else "InProgress",
            "startTime": iso(ctx.now),
            **({"endTime": iso(ctx.now)} if done else {}),
        },
    )


# -- user-assigned identities -------------------------------------------------------------------


def identity_json(identity: Identity) -> dict[str, Any]:
    """An identity as the MSI RP returns it."""
    return {
        "id": identity.id,
        "name": identity.name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": identity.location,
        "tags": dict(identity.tags),
        "properties": {
            "tenantId": identity.tenant_id,
            "principalId": identity.principal_id,
            "clientId": identity.client_id,
            "isolationScope": "None",
            "assignmentRestrictions": {"providers": []},
        },
    }


def _identity_id(p: dict[str, str]) -> str:
    return (
        f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{p['name']}"
    )


def get_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET an identity (404 ResourceNotFound once deleted)."""
    _check_rg(ctx, p["sub"], p["rg"])
    identity = ctx.state.identity(_identity_id(p))
    if identity is None:
        raise _not_found("Microsoft.ManagedIdentity/userAssignedIdentities", p["name"], p["rg"])
    return Response(200, identity_json(identity))


def put_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: create (201, a brand-new principal) or update tags/location (200)."""
    sub = _check_rg(ctx, p["sub"], p["rg"])
    body = req.json_object()
    identity = ctx.state.identity(_identity_id(p))
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$", p["name"]):
        raise HttpError(arm_error(400, "InvalidResourceName", f"Resource name '{p['name']}' is invalid."))
    tags = {str(k): str(v) for k, v in (body.get("tags") or {}).items()}
    if identity is not None:
        identity.tags = tags or identity.tags
        return Response(200, identity_json(identity))
    location = str(body.get("location") or "")
    if not location:
        raise HttpError(
            arm_error(400, "LocationRequired", "The location property is required for this definition.")
        )
    identity = Identity(
        p["name"],
        sub,
        p["rg"],
        location,
        ctx.state.tenant_id,
        ctx.new_guid(),
        ctx.new_guid(),
        tags,
    )
    ctx.state.identities.append(identity)
    return Response(201, identity_json(identity))


def delete_identity(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE an identity (its role assignments stay, orphaned)."""
    identity = ctx.state.identity(_identity_id(p))
    if identity is None:
        return Response(204)
    ctx.state.identities.remove(identity)
    return Response(200)


# -- vaults -----------------------------------------------------------------------------------


def _policy_json(policy: AccessPolicy) -> dict[str, Any]:
    return {
        "tenantId": policy.tenant_id,
        "objectId": policy.object_id,
        "permissions": {
            "keys": list(policy.keys),
            "secrets": list(policy.secrets),
            "certificates": list(policy.certificates),
        },
    }


def vault_json(vault: Vault) -> dict[str, Any]:
    """A vault as Vaults_Get returns it."""
    props: dict[str, Any] = {
        "tenantId": vault.tenant_id,
        "sku": {"family": "A", "name": vault.sku},
        "accessPolicies": [_policy_json(p) for p in vault.access_policies],
        "vaultUri": vault.uri,
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": vault.soft_delete,
        "softDeleteRetentionInDays": vault.retention_days,
        "enableRbacAuthorization": vault.rbac,
        "provisioningState": "Succeeded",
        "publicNetworkAccess": vault.public_network_access,
        "privateEndpointConnections": [],
    }
    if vault.purge_protection:
        props["enablePurgeProtection"] = True
    if vault.network_acls is not None:
        acls = vault.network_acls
        props["networkAcls"] = {
            "bypass": acls.bypass,
            "defaultAction": acls.default_action,
            "ipRules": [{"value": ip} for ip in acls.ip_rules],
            "virtualNetworkRules": [
                {"id": v, "ignoreMissingVnetServiceEndpoint": False} for v in acls.virtual_network_rules
            ],
        }
    return {
        "id": vault.id,
        "name": vault.name,
        "type": "Microsoft.KeyVault/vaults",
        "location": vault.location,
        "tags": dict(vault.tags),
        "systemData": _system_data(vault.created),
        "properties": props,
    }


def _vaults_in(ctx: Context, p: dict[str, str]) -> list[Vault]:
    """The live vaults of the path's subscription (and resource group, if the path names one)."""
    if p.get("rg"):
        _check_rg(ctx, p["sub"], p["rg"])
    else:
        _check_sub(ctx, p["sub"])
    rg = (p.get("rg") or "").lower()
    return [
        v
        for v in ctx.state.vaults
        if v.live and _same_sub(v.subscription_id, p) and (not rg or v.resource_group.lower() == rg)
    ]


def list_vaults(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The live vaults of the path's subscription or group (ARM is consistent at once, unlike the graph)."""
    return Response(200, {"value": [vault_json(v) for v in _vaults_in(ctx, p)]})


def list_vault_resources(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """`vaults.list`: the generic resources list, answered only for the vault type filter it sends."""
    wanted = req.query.get("$filter", "")
    if not re.match(r"^\s*resourceType\s+eq\s+'Microsoft\.KeyVault/vaults'\s*$", wanted, re.I):
        raise HttpError(
            arm_error(
                400,
                "NotSupportedByEmulator",
                f"The emulator lists resources only with $filter=resourceType eq "
                f"'Microsoft.KeyVault/vaults', not {wanted!r}.",
            )
        )
    rows = [
        {
            "id": v.id,
            "name": v.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": v.location,
            "tags": dict(v.tags),
        }
        for v in _vaults_in(ctx, p)
    ]
    return Response(200, {"value": rows})


def _vault_id(p: dict[str, str]) -> str:
    return (
        f"/subscriptions/{p['sub']}/resourceGroups/{p['rg']}/providers/Microsoft.KeyVault/vaults/{p['name']}"
    )


def _live_vault(ctx: Context, p: dict[str, str], name_key: str = "name") -> Vault:
    _check_rg(ctx, p["sub"], p["rg"])
    vault = ctx.state.live_vault(p[name_key])
    if (
        vault is None
        or vault.resource_group.lower() != p["rg"].lower()
        or not _same_sub(vault.subscription_id, p)
    ):
        raise _not_found("Microsoft.KeyVault/vaults", p[name_key], p["rg"])
    return vault


def get_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a live vault (404 when soft-deleted or purged)."""
    return Response(200, vault_json(_live_vault(ctx, p)))


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise HttpError(arm_error(400, "BadRequest", f"Invalid value for '{field}': expected a boolean."))
    return value


def _apply_properties(vault: Vault, props: dict[str, Any]) -> None:
    """Merge PATCH/PUT properties; networkAcls replaces the whole rule set, as ARM does."""
    if "enableRbacAuthorization" in props and props["enableRbacAuthorization"] is not None:
        vault.rbac = _bool(props["enableRbacAuthorization"], "enableRbacAuthorization")
    if props.get("enablePurgeProtection") is not None:
        wanted = _bool(props["enablePurgeProtection"], "enablePurgeProtection")
        if vault.purge_protection and not wanted:
            raise HttpError(
                arm_error(400, "BadRequest", "Once purge protection is enabled it cannot be disabled.")
            )
        vault.purge_protection = wanted
    if props.get("enableSoftDelete") is False and vault.soft_delete:
        raise HttpError(arm_error(400, "BadRequest", "Soft delete cannot be disabled once it is enabled."))
    if props.get("publicNetworkAccess") is not None:
        value = str(props["publicNetworkAccess"])
        if value.lower() not in ("enabled", "disabled"):
            raise HttpError(arm_error(400, "BadRequest", f"Invalid publicNetworkAccess '{value}'."))
        vault.public_network_access = "Enabled" if value.lower() == "enabled" else "Disabled"
    if isinstance(props.get("networkAcls"), dict):
        acls = props["networkAcls"]
        default_action = str(acls.get("defaultAction") or "Allow")
        bypass = str(acls.get("bypass") or "AzureServices")
        if default_action.lower() not in ("allow", "deny") or bypass.lower() not in ("azureservices", "none"):
            raise HttpError(
                arm_error(
                    400,
                    "BadRequest",
                    "Invalid networkAcls: defaultAction must be Allow or Deny "
                    "and bypass AzureServices or None.",
                )
            )
        vault.network_acls = NetworkAcls(
            "Allow" if default_action.lower() == "allow" else "Deny",
            "AzureServices" if bypass.lower() == "azureservices" else "None",
            [str(r.get("value")) for r in acls.get("ipRules") or [] if isinstance(r, dict)],
            [str(r.get("id")) for r in acls.get("virtualNetworkRules") or [] if isinstance(r, dict)],
        )
    if isinstance(props.get("accessPolicies"), list):
        vault.access_policies = [_policy(p) for p in props["accessPolicies"]]
    if isinstance(props.get("sku"), dict) and props["sku"].get("name"):
        vault.sku = str(props["sku"]["name"]).lower()


def _policy(raw: Any) -> AccessPolicy:
    if not isinstance(raw, dict) or not raw.get("objectId"):
        raise HttpError(arm_error(400, "BadRequest", "Each access policy needs an objectId and permissions."))
    perms = raw.get("permissions") or {}
    return AccessPolicy(
        str(raw.get("tenantId") or ""),
        str(raw["objectId"]),
        [str(x) for x in perms.get("keys") or []],
        [str(x) for x in perms.get("secrets") or []],
        [str(x) for x in perms.get("certificates") or []],
    )


def patch_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PATCH a vault (synchronous 200)."""
    vault = _live_vault(ctx, p)
    body = req.json_object()
    _apply_properties(vault, body.get("properties") or {})
    if isinstance(body.get("tags"), dict):
        vault.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return Response(200, vault_json(vault))


def put_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: `createMode: recover` brings a soft-deleted vault back (201 + Azure-AsyncOperation)."""
    _check_rg(ctx, p["sub"], p["rg"])
    body = req.json_object()
    props = body.get("properties") or {}
    vault = ctx.state.vault(p["name"])
    recover = str(props.get("createMode") or "").lower() == "recover"
    if vault is not None and not _same_sub(vault.subscription_id, p) and (recover or vault.live):
        raise HttpError(
            arm_error(
                404 if recover else 409,
                "DeletedVaultNotFound" if recover else "VaultAlreadyExists",
                f"No deleted vault named '{p['name']}' was found in subscription '{p['sub']}'."
                if recover
                else f"The vault name '{p['name']}' is already in use (vault names are global).",
            )
        )
    if recover:
        if vault is None or vault.live:
            raise HttpError(
                arm_error(
                    400 if vault is not None else 404,
                    "BadRequest" if vault is not None else "DeletedVaultNotFound",
                    f"Vault '{p['name']}' is not in a deleted state; there is nothing to recover."
                    if vault is not None
                    else f"No deleted vault named '{p['name']}' was found.",
                )
            )
        if vault.resource_group.lower() != p["rg"].lower():
            raise HttpError(
                arm_error(
                    400,
                    "BadRequest",
                    f"The deleted vault '{p['name']}' belonged to resource group '{vault.resource_group}'.",
                )
            )
        vault.deleted_on = None
        op_id = ctx.new_guid()
        ctx.operations[op_id] = Operation(op_id, "recover", vault.id)
        body_out = vault_json(vault)
        body_out["properties"]["provisioningState"] = "RegisteringDns"
        return Response(
            201,
            body_out,
            {
                "Azure-AsyncOperation": f"{ctx.arm_endpoint}/subscriptions/{vault.subscription_id}/providers/"
                f"Microsoft.KeyVault/locations/{vault.location}/operationResults/{op_id}"
                "?api-version=2026-05-15"
            },
        )
    if vault is not None and not vault.live:
        raise HttpError(
            arm_error(
                409,
                "ConflictError",
                f"Vault name '{p['name']}' is already in use. The vault is in a soft-deleted "
                "state: recover it (createMode recover) or purge it before reusing the name.",
            )
        )
    if vault is None:
        raise HttpError(
            arm_error(
                400,
                "NotSupportedByEmulator",
                "The emulator only updates or recovers vaults; it cannot create new ones "
                "(each vault needs a data-plane listener fixed at start-up).",
            )
        )
    _apply_properties(vault, props)
    if isinstance(body.get("tags"), dict):
        vault.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return Response(200, vault_json(vault))


def delete_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE soft-deletes (role assignments at or below the vault are dropped)."""
    vault = _live_vault(ctx, p)
    ctx.state.soft_delete_vault(vault.name, int(ctx.now))
    return Response(200)


def update_access_policy(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT accessPolicies/{add|remove|replace}: add merges per objectId, remove subtracts."""
    vault = _live_vault(ctx, p)
    kind = p["kind"].lower()
    entries = (req.json_object().get("properties") or {}).get("accessPolicies")
    if not isinstance(entries, list):
        raise HttpError(arm_error(400, "BadRequest", "properties.accessPolicies is required."))
    for entry in (_policy(e) for e in entries):
        current = next(
            (x for x in vault.access_policies if x.object_id.lower() == entry.object_id.lower()), None
        )
        if kind == "replace" or current is None:
            if kind == "remove":
                continue
            if current is not None:
                vault.access_policies.remove(current)
            entry.tenant_id = entry.tenant_id or vault.tenant_id
            vault.access_policies.append(entry)
            continue
        for attr in ("keys", "secrets", "certificates"):
            have: list[str] = getattr(current, attr)
            given = [x for x in getattr(entry, attr)]
            if kind == "add":
                have += [x for x in given if x.lower() not in {h.lower() for h in have}]
            else:
                setattr(current, attr, [h for h in have if h.lower() not in {g.lower() for g in given}])
        if not (current.keys or current.secrets or current.certificates):
            vault.access_policies.remove(current)
    return Response(
        200,
        {
            "id": f"{vault.id}/accessPolicies/{kind}",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": {"accessPolicies": [_policy_json(x) for x in vault.access_policies]},
        },
    )


def deleted_vault_json(vault: Vault) -> dict[str, Any]:
    """A soft-deleted vault as Vaults_GetDeleted returns it."""
    deleted = vault.deleted_on or 0
    return {
        "id": f"/subscriptions/{vault.subscription_id}/providers/Microsoft.KeyVault/locations/"
        f"{vault.location}/"
        f"deletedVaults/{vault.name}",
        "name": vault.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault.id,
            "location": vault.location,
            "deletionDate": iso(deleted),
            "scheduledPurgeDate": iso(deleted + vault.retention_days * SECONDS_PER_DAY),
            "purgeProtectionEnabled": vault.purge_protection,
            "tags": dict(vault.tags),
        },
    }


def get_deleted_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a soft-deleted vault by name and location, in the path's subscription only."""
    _check_sub(ctx, p["sub"])
    vault = ctx.state.vault(p["name"])
    if (
        vault is None
        or vault.live
        or vault.location.lower() != p["loc"].lower()
        or p["sub"].lower() != vault.subscription_id.lower()
    ):
        raise HttpError(
            arm_error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.KeyVault/locations/{p['loc']}/deletedVaults/{p['name']}' "
                "was not found.",
            )
        )
    return Response(200, deleted_vault_json(vault))


def list_deleted_vaults(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List the subscription's soft-deleted vaults (those of other subscriptions are not listed)."""
    _check_sub(ctx, p["sub"])
    return Response(
        200,
        {
            "value": [
                deleted_vault_json(v)
                for v in ctx.state.vaults
                if not v.live and v.subscription_id.lower() == p["sub"].lower()
            ]
        },
    )


def purge_deleted_vault(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """Purge is refused: the product must never purge (the request is still logged)."""
    return arm_error(
        405, "MethodNotAllowed", "The emulator refuses to purge: cmk-wizard never purges vaults."
    )


# -- management-plane keys --------------------------------------------------------------------


def _key_attrs(version: KeyVersion, vault: Vault) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": _recovery_level(vault),
        "exportable": False,
    }
    if version.not_before is not None:
        attrs["nbf"] = version.not_before
    if version.expires is not None:
        attrs["exp"] = version.expires
    return attrs


def _recovery_level(vault: Vault) -> str:
    if not vault.soft_delete:
        return "Purgeable"
    return "Recoverable" if vault.purge_protection else "Recoverable+Purgeable"


def mgmt_key_json(vault: Vault, key: Key, version: KeyVersion | None = None) -> dict[str, Any]:
    """A key (or one version) as the management plane returns it."""
    one = version or key.latest
    key_uri = f"https://{vault.name}.vault.azure.net/keys/{key.name}"
    base_id = f"{vault.id}/keys/{key.name}"
    return {
        "id": f"{base_id}/versions/{one.version}" if version else base_id,
        "name": one.version if version else key.name,
        "type": "Microsoft.KeyVault/vaults/keys/versions" if version else "Microsoft.KeyVault/vaults/keys",
        "location": vault.location,
        "tags": dict(one.tags),
        "properties": {
            "attributes": _key_attrs(one, vault),
            "kty": key.kty,
            "keySize": key.size,
            "keyOps": list(one.key_ops),
            "keyUri": key_uri,
            "keyUriWithVersion": f"{key_uri}/{one.version}",
        },
    }


def _mgmt_key(ctx: Context, p: dict[str, str]) -> tuple[Vault, Key]:
    vault = _live_vault(ctx, p, "vault")
    key = vault.key(p["key"])
    if key is None or key.deleted_on is not None:
        raise _not_found("Microsoft.KeyVault/vaults/keys", f"{vault.name}/keys/{p['key']}", p["rg"])
    return vault, key


def get_mgmt_key(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a key's current attributes (not subject to the vault firewall)."""
    vault, key = _mgmt_key(ctx, p)
    return Response(200, mgmt_key_json(vault, key))


def list_mgmt_keys(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List a vault's (not deleted) keys."""
    vault = _live_vault(ctx, p, "vault")
    return Response(
        200, {"value": [mgmt_key_json(vault, k) for k in vault.keys.values() if k.deleted_on is None]}
    )


def list_mgmt_key_versions(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List a key's versions."""
    vault, key = _mgmt_key(ctx, p)
    return Response(200, {"value": [mgmt_key_json(vault, key, v) for v in key.versions]})


def get_mgmt_key_version(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET one key version."""
    vault, key = _mgmt_key(ctx, p)
    version = key.version(p["ver"])
    if version is None:
        raise _not_found(
            "Microsoft.KeyVault/vaults/keys/versions", f"{key.name}/versions/{p['ver']}", p["rg"]
        )
    return Response(200, mgmt_key_json(vault, key, version))


# -- RBAC -------------------------------------------------------------------------------------


def assignment_json(a: RoleAssignment) -> dict[str, Any]:
    """A role assignment as 2022-04-01 returns it."""
    return {
        "id": a.id,
        "name": a.name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": a.role_definition_id,
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": iso(a.created),
            "updatedOn": iso(a.created),
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
    }


def _related(scope: str, other: str) -> bool:
    """At, above or below: one scope is a path prefix of the other (case-insensitive)."""
    a, b = scope.lower().rstrip("/"), other.lower().rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or not b or not a


_FILTERS = (
    re.compile(r"^\s*assignedTo\(\s*'([^']+)'\s*\)\s*$", re.I),
    re.compile(r"^\s*principalId\s+eq\s+'([^']+)'\s*$", re.I),
)


def list_assignments(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List at, above and below a scope; `$filter` by principal (assignedTo / principalId eq)."""
    raw_filter = req.query.get("$filter", "")
    principal: str | None = None
    if raw_filter and not re.match(r"^\s*atScope\(\)\s*$", raw_filter, re.I):
        match = next((m for m in (f.match(raw_filter) for f in _FILTERS) if m), None)
        if match is None:
            raise HttpError(
                arm_error(400, "UnsupportedQuery", f"The filter '{raw_filter}' is not supported.")
            )
        principal = match.group(1).lower()
    scope = p["scope"]
    rows = [
        assignment_json(a)
        for a in ctx.state.role_assignments
        if _related(a.scope, scope) and (principal is None or a.principal_id.lower() == principal)
    ]
    return Response(200, {"value": rows})


def _assignment(ctx: Context, p: dict[str, str]) -> RoleAssignment | None:
    return next(
        (
            a
            for a in ctx.state.role_assignments
            if a.name.lower() == p["name"].lower()
            and a.scope.lower().rstrip("/") == p["scope"].lower().rstrip("/")
        ),
        None,
    )


def get_assignment(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET one assignment."""
    found = _assignment(ctx, p)
    if found is None:
        raise HttpError(
            arm_error(404, "RoleAssignmentNotFound", f"The role assignment '{p['name']}' is not found.")
        )
    return Response(200, assignment_json(found))


def put_assignment(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT: 201; 409 RoleAssignmentExists for the same principal+role+scope; 400 for unknown roles."""
    props = req.json_object().get("properties") or {}
    role_id, principal = str(props.get("roleDefinitionId") or ""), str(props.get("principalId") or "")
    if not role_id or not principal:
        raise HttpError(
            arm_error(400, "InvalidRequestContent", "roleDefinitionId and principalId are required.")
        )
    if role_definition(ctx.state, role_id) is None:
        raise HttpError(
            arm_error(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{role_id.rsplit('/', 1)[-1]}' does not exist.",
            )
        )
    scope = p["scope"].rstrip("/")
    guid = role_id.rsplit("/", 1)[-1].lower()
    for a in ctx.state.role_assignments:
        if (
            a.principal_id.lower() == principal.lower()
            and a.scope.lower() == scope.lower()
            and a.role_definition_id.rsplit("/", 1)[-1].lower() == guid
        ):
            raise HttpError(
                arm_error(
                    409,
                    "RoleAssignmentExists",
                    "The role assignment already exists. "
                    f"The ID of the existing role assignment is {a.name}.",
                )
            )
    existing = _assignment(ctx, p)
    if existing is not None:
        raise HttpError(
            arm_error(
                409,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        )
    assignment = RoleAssignment(
        p["name"], scope, role_id, principal, str(props.get("principalType") or "User"), int(ctx.now)
    )
    ctx.state.role_assignments.append(assignment)
    return Response(201, assignment_json(assignment))


def delete_assignment(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE an assignment (200 with it, or 204 if none)."""
    found = _assignment(ctx, p)
    if found is None:
        return Response(204)
    ctx.state.role_assignments.remove(found)
    return Response(200, assignment_json(found))


def role_json(role: RoleDefinition, scope: str) -> dict[str, Any]:
    """A role definition as GetRoleDefinitionById returns it."""
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{role.guid}",
        "name": role.guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.role_name,
            "type": role.role_type,
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": list(role.actions),
                    "notActions": list(role.not_actions),
                    "dataActions": list(role.data_actions),
                    "notDataActions": list(role.not_data_actions),
                }
            ],
            "createdOn": "2020-05-19T17:52:47.0099249Z",
            "updatedOn": "2024-02-01T10:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
        },
    }


def get_role(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """GET a role definition by id (any scope prefix; built-ins and the estate's custom roles)."""
    role = role_definition(ctx.state, p["guid"])
    if role is None:
        raise HttpError(
            arm_error(
                404,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{p['guid']}' does not exist.",
            )
        )
    return Response(200, role_json(role, p["scope"]))


def list_roles(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """List role definitions (`roleName eq '...'` filter supported)."""
    match = re.match(r"^\s*roleName\s+eq\s+'([^']+)'\s*$", req.query.get("$filter", ""), re.I)
    roles = [
        r
        for r in (*BUILT_IN_ROLES, *ctx.state.custom_roles)
        if match is None or r.role_name.lower() == match.group(1).lower()
    ]
    return Response(200, {"value": [role_json(r, p["scope"]) for r in roles]})


# -- Resource Graph ---------------------------------------------------------------------------

_VAULT_QUERY = re.compile(
    r"^\s*resources\s*\|\s*where\s+type\s*=~\s*'microsoft\.keyvault/vaults'\s*"
    r"\|\s*where\s+name\s*=~\s*'([^']*)'\s*$",
    re.I,
)
_CMK_QUERY = re.compile(
    r"^\s*resources\s*\|\s*where\s+type\s*=~\s*'microsoft\.documentdb/mongoclusters'\s*"
    r"\|\s*where\s+isnotempty\(\s*properties\.encryption\.customerManagedKeyEncryption\s*\)\s*$",
    re.I,
)
_SUBSCRIPTIONS_QUERY = re.compile(
    r"^\s*resourcecontainers\s*\|\s*where\s+type\s*=~\s*'microsoft\.resources/subscriptions'\s*"
    r"\|\s*project\s+subscriptionId\s*$",
    re.I,
)


def _graph_row(body: dict[str, Any], tenant: str, sub: str, rg: str) -> dict[str, Any]:
    return {
        "id": body["id"],
        "name": body["name"],
        "type": str(body["type"]).lower(),
        "tenantId": tenant,
        "kind": "",
        "location": body.get("location", ""),
        "resourceGroup": rg.lower(),
        "subscriptionId": sub,
        "managedBy": "",
        "sku": body.get("properties", {}).get("sku") or None,
        "plan": None,
        "properties": body.get("properties", {}),
        "tags": body.get("tags") or {},
        "identity": body.get("identity"),
        "zones": None,
        "extendedLocation": None,
    }


def graph_query(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The gateway's queries from live state, hidden subscriptions left out as ARG does; others are a 400."""
    body = req.json_object()
    query = str(body.get("query") or "")
    subs = {str(s).lower() for s in body.get("subscriptions") or []}
    state = ctx.state
    rows: list[dict[str, Any]] = []
    vault_match, cmk_match = _VAULT_QUERY.match(query), _CMK_QUERY.match(query)
    if _SUBSCRIPTIONS_QUERY.match(query):
        rows = [{"subscriptionId": sub} for sub in state.known_subscriptions()]
    elif vault_match:
        rows = [
            _graph_row(vault_json(v), state.tenant_id, v.subscription_id, v.resource_group)
            for v in state.vaults
            if v.live
            and v.name.lower() == vault_match.group(1).lower()
            and "stale-resource-graph" not in state.restrictions
        ]
    elif cmk_match:
        rows = [
            _graph_row(cluster_json(c), state.tenant_id, c.subscription_id, c.resource_group)
            for c in state.clusters
            if c.key_url
        ]
    else:
        raise HttpError(
            Response(
                400,
                {
                    "error": {
                        "code": "BadRequest",
                        "message": "Please provide below info when asking for support: "
                        f"timestamp = {iso(ctx.now)}, correlationId = {ctx.new_guid()}.",
                        "details": [
                            {
                                "code": "InvalidQuery",
                                "message": "Query is invalid. Please refer to the documentation "
                                "for the Azure Resource Graph service and fix the query before retrying.",
                            },
                            {
                                "code": "UnsupportedByEmulator",
                                "message": "The emulator answers only the vault-by-name, "
                                "CMK-cluster and subscriptions queries cmk-wizard sends.",
                            },
                        ],
                    }
                },
            )
        )
    hidden = state.hidden_subscriptions()
    rows = [
        r
        for r in rows
        if r["subscriptionId"].lower() not in hidden and (not subs or r["subscriptionId"].lower() in subs)
    ]
    return Response(
        200,
        {
            "totalRecords": len(rows),
            "count": len(rows),
            "resultTruncated": "false",
            "facets": [],
            "data": rows,
        },
    )


# -- routing ----------------------------------------------------------------------------------

_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourceGroups/(?P<rg>[^/]+)"
_VAULTS = _RG + r"/providers/Microsoft\.KeyVault/vaults"

ROUTES: list[tuple[str, str, dict[str, Handler]]] = [
    (
        "role-assignments",
        r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleAssignments",
        {"GET": list_assignments},
    ),
    (
        "role-assignments",
        r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleAssignments/(?P<name>[^/]+)",
        {"GET": get_assignment, "PUT": put_assignment, "DELETE": delete_assignment},
    ),
    (
        "role-definitions",
        r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleDefinitions",
        {"GET": list_roles},
    ),
    (
        "role-definitions",
        r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleDefinitions/(?P<guid>[^/]+)",
        {"GET": get_role},
    ),
    ("resource-graph", r"/providers/Microsoft\.ResourceGraph/resources", {"POST": graph_query}),
    ("clusters", _SUB + r"/providers/Microsoft\.DocumentDB/mongoClusters", {"GET": list_clusters}),
    ("clusters", _RG + r"/providers/Microsoft\.DocumentDB/mongoClusters", {"GET": list_clusters}),
    (
        "clusters",
        _RG + r"/providers/Microsoft\.DocumentDB/mongoClusters/(?P<name>[^/]+)",
        {"GET": get_cluster, "PATCH": patch_cluster, "DELETE": delete_cluster},
    ),
    (
        "operations",
        _SUB + r"/providers/Microsoft\.(?:DocumentDB|KeyVault)/locations/(?P<loc>[^/]+)/"
        r"(?P<what>mongoClusterOperationResults|mongoClusterAzureAsyncOperation|operationResults)/(?P<op>[^/]+)",
        {"GET": poll_operation},
    ),
    (
        "identities",
        _RG + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)",
        {"GET": get_identity, "PUT": put_identity, "DELETE": delete_identity},
    ),
    ("vaults", _SUB + r"/providers/Microsoft\.KeyVault/vaults", {"GET": list_vaults}),
    ("vaults", _VAULTS, {"GET": list_vaults}),
    ("vaults", _SUB + r"/resources", {"GET": list_vault_resources}),
    (
        "vaults",
        _VAULTS + r"/(?P<name>[^/]+)",
        {"GET": get_vault, "PATCH": patch_vault, "PUT": put_vault, "DELETE": delete_vault},
    ),
    (
        "vaults",
        _VAULTS + r"/(?P<name>[^/]+)/accessPolicies/(?P<kind>add|remove|replace)",
        {"PUT": update_access_policy},
    ),
    ("deleted-vaults", _SUB + r"/providers/Microsoft\.KeyVault/deletedVaults", {"GET": list_deleted_vaults}),
    (
        "deleted-vaults",
        _SUB + r"/providers/Microsoft\.KeyVault/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)",
        {"GET": get_deleted_vault},
    ),
    (
        "deleted-vaults",
        _SUB + r"/providers/Microsoft\.KeyVault/locations/(?P<loc>[^/]+)/deletedVaults/"
        r"(?P<name>[^/]+)/purge",
        {"POST": purge_deleted_vault},
    ),
    ("mgmt-keys", _VAULTS + r"/(?P<vault>[^/]+)/keys", {"GET": list_mgmt_keys}),
    ("mgmt-keys", _VAULTS + r"/(?P<vault>[^/]+)/keys/(?P<key>[^/]+)", {"GET": get_mgmt_key}),
    (
        "mgmt-keys",
        _VAULTS + r"/(?P<vault>[^/]+)/keys/(?P<key>[^/]+)/versions",
        {"GET": list_mgmt_key_versions},
    ),
    (
        "mgmt-keys",
        _VAULTS + r"/(?P<vault>[^/]+)/keys/(?P<key>[^/]+)/versions/(?P<ver>[^/]+)",
        {"GET": get_mgmt_key_version},
    ),
]
COMPILED = [(kind, re.compile("^" + pattern + "/?$", re.I), handlers) for kind, pattern, handlers in ROUTES]

ACTIONS = {
    "clusters": "Microsoft.DocumentDB/mongoClusters",
    "operations": "Microsoft.DocumentDB/locations/operationResults",
    "identities": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "vaults": "Microsoft.KeyVault/vaults",
    "deleted-vaults": "Microsoft.KeyVault/locations/deletedVaults",
    "mgmt-keys": "Microsoft.KeyVault/vaults/keys",
    "role-assignments": "Microsoft.Authorization/roleAssignments",
    "role-definitions": "Microsoft.Authorization/roleDefinitions",
    "resource-graph": "Microsoft.ResourceGraph/resources",
}


def action_for(kind: str, method: str, path: str) -> str:
    """The ARM action a request needs, for AuthorizationFailed messages."""
    verb = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(method, "action")
    if path.lower().endswith("/purge"):
        verb = "purge/action"
    if "/accesspolicies/" in path.lower():
        return "Microsoft.KeyVault/vaults/accessPolicies/write"
    if kind == "resource-graph":
        return "Microsoft.ResourceGraph/resources/read"
    return f"{ACTIONS.get(kind, kind)}/{verb}"


def match(path: str) -> tuple[str, dict[str, Handler], dict[str, str]] | None:
    """The route kind, handlers by method, and path parameters for an ARM path."""
    for kind, regex, handlers in COMPILED:
        found = regex.match(path)
        if found:
            return kind, handlers, {k: v for k, v in found.groupdict().items() if v is not None}
    return None
