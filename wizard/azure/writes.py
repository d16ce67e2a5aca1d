"""The gateway's writes: one method per remediation, through the real SDK.

Every method, in this order:
1. `gateway.guard_write(...)`: in read-only mode it raises before any request is made;
2. reads the before-state and answers "already-done" when the effect is already there;
3. writes an audit record of intent (who, when, what, the request, the before-state);
4. makes the one SDK write call;
5. reads the after-state and writes an audit record of the result (ok, already-done, error; or
   unknown: the write failed but the after-state shows the change, or could not be read).
Both records are flushed and fsync'd before the method returns or raises.

Never purges, never uses access-policy `replace`; the only delete is of a Failed cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wizard.azure.errors import call, translated
from wizard.domain.errors import Conflict, Forbidden, GatewayError, NotFound, WizardError
from wizard.domain.ids import CLUSTER_TYPE, IDENTITY_TYPE, VAULT_TYPE, parse_resource_id
from wizard.domain.models import ClusterFacts, IdentityFacts, KeyFacts, VaultFacts
from wizard.engine.fix_plan import (
    ALREADY_DONE,
    ERROR,
    OK,
    REQUIRED_POLICY,
    UNKNOWN,
    WriteResult,
    trusted_services_acls,
)
from wizard.engine.roles import CRYPTO_SERVICE_ENCRYPTION_USER, scope_covers

if TYPE_CHECKING:
    from wizard.azure.gateway import AzureGateway
    from wizard.run.audit import AuditLog

NEEDS_KEY_UPDATE = "keys/update on the vault's data plane (Key Vault Crypto Officer)"
NEEDS_KEY_RECOVER = "keys/recover on the vault's data plane (Key Vault Crypto Officer)"
NEEDS_VAULT_WRITE = "Microsoft.KeyVault/vaults/write (Key Vault Contributor)"
NEEDS_POLICY_WRITE = "Microsoft.KeyVault/vaults/accessPolicies/write (Key Vault Contributor)"
NEEDS_ROLE_WRITE = (
    "Microsoft.Authorization/roleAssignments/write (Owner, User Access Administrator "
    "or Key Vault Data Access Administrator)"
)
NEEDS_IDENTITY_WRITE = "Microsoft.ManagedIdentity/userAssignedIdentities/write (Managed Identity Contributor)"
NEEDS_CLUSTER_WRITE = (
    "Microsoft.DocumentDB/mongoClusters/write and "
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
)
NEEDS_CLUSTER_DELETE = "Microsoft.DocumentDB/mongoClusters/delete (Contributor on the cluster)"


class WriteRefused(WizardError):
    """The wizard will not make this write (e.g. deleting a cluster that is not Failed)."""


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _key_state(key: KeyFacts) -> dict[str, Any]:
    return {
        "version": key.version,
        "enabled": key.enabled,
        "notBefore": _iso(key.not_before),
        "expires": _iso(key.expires),
    }


def _vault_state(v: VaultFacts) -> dict[str, Any]:
    return {
        "id": v.id,
        "rbacAuthorization": v.rbac_authorization,
        "publicNetworkAccess": v.public_network_access,
        "defaultAction": v.network_default_action,
        "bypass": v.network_bypass,
        "ipRules": list(v.ip_rules),
        "virtualNetworkRules": list(v.virtual_network_rules),
        "purgeProtection": v.purge_protection,
        "softDelete": v.soft_delete,
    }


def _cluster_state(c: ClusterFacts) -> dict[str, Any]:
    return {
        "clusterStatus": c.cluster_status,
        "provisioningState": c.provisioning_state,
        "keyUrl": c.key_url,
        "keyIdentity": c.key_identity_id,
        "identityType": c.identity_type,
        "identities": {a.resource_id: a.principal_id for a in c.attached_identities},
    }


def attach_body(identity_type: str | None, identity_id: str, key_url: str) -> dict[str, Any]:
    """The cluster PATCH of attach-identity-and-key: the identity and the key URL together. A
    cluster that also has a system-assigned identity keeps it: PATCH replaces `identity.type`."""
    kinds = {k.strip().lower() for k in str(identity_type or "").split(",")}
    kind = "SystemAssigned,UserAssigned" if "systemassigned" in kinds else "UserAssigned"
    return {
        "identity": {"type": kind, "userAssignedIdentities": {identity_id: {}}},
        "properties": {
            "encryption": {
                "customerManagedKeyEncryption": {
                    "keyEncryptionKeyIdentity": {
                        "identityType": "UserAssignedIdentity",
                        "userAssignedIdentityResourceId": identity_id,
                    },
                    "keyEncryptionKeyUrl": key_url,
                }
            }
        },
    }


def _policy_perms(v: VaultFacts, object_id: str) -> set[str]:
    granted: set[str] = set()
    for p in v.access_policies:
        if p.object_id.lower() == object_id.lower():
            granted |= set(p.key_permissions)
    return granted


class AzureWriter:
    """The write half of the gateway, bound to an audit log."""

    def __init__(self, gateway: AzureGateway, audit: AuditLog) -> None:
        self.gateway = gateway
        self.factory = gateway.factory
        self.audit = audit

    # -- the one pattern every write follows -------------------------------------------------

    def _operator(self) -> dict[str, Any]:
        try:
            op = self.gateway.operator()
        except GatewayError:
            return {"mode": self.gateway.mode, "account": "", "tenant": ""}
        return {"mode": op.mode, "account": op.account, "tenant": op.tenant_id}

    def _write(
        self,
        remediation: str,
        target: str,
        request: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]],
        *,
        before: Callable[[], dict[str, Any]],
        done: Callable[[dict[str, Any]], str | None],
        act: Callable[[dict[str, Any]], Any],
        after: Callable[[], dict[str, Any]],
        conflict_done_codes: tuple[str, ...] = (),
    ) -> WriteResult:
        self.gateway.guard_write(f"{remediation} on {target}")
        before_state = before()
        operator = self._operator()
        reason = done(before_state)
        summary = request(before_state) if callable(request) else request
        intent = self.audit.intent(
            operator=operator,
            remediation=remediation,
            target=target,
            request=summary if reason is None else {"sent": False, **summary},
            before=before_state,
        )
        if reason is not None:
            rid = self.audit.result(
                intent,
                remediation=remediation,
                target=target,
                result=ALREADY_DONE,
                message=reason,
                after=before_state,
            )
            return WriteResult(
                remediation, target, ALREADY_DONE, reason, before_state, before_state, (intent, rid)
            )
        try:
            value = act(before_state)
        except Conflict as exc:
            if not set(str(exc.code or "").split("/")) & set(conflict_done_codes):
                self._fail(intent, remediation, target, exc, after, done)
                raise
            message = f"already there ({exc.code or 'Conflict'})"
            after_state = self._after(after)
            rid = self.audit.result(
                intent,
                remediation=remediation,
                target=target,
                result=ALREADY_DONE,
                message=message,
                after=after_state,
            )
            return WriteResult(
                remediation, target, ALREADY_DONE, message, before_state, after_state, (intent, rid)
            )
        except Exception as exc:
            self._fail(intent, remediation, target, exc, after, done)
            raise
        after_state = self._after(after)
        rid = self.audit.result(
            intent, remediation=remediation, target=target, result=OK, message="applied", after=after_state
        )
        return WriteResult(
            remediation, target, OK, "applied", before_state, after_state, (intent, rid), value
        )

    def _after(self, after: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return after()
        except GatewayError as exc:
            return {"unreadable": " ".join(str(exc).split())}

    def _fail(
        self,
        intent: str,
        remediation: str,
        target: str,
        exc: BaseException,
        after: Callable[[], dict[str, Any]],
        done: Callable[[dict[str, Any]], str | None],
    ) -> None:
        """The result of a write that raised. A timeout or throttle may come after Azure took the
        write: read the after-state (best effort); `unknown` when it shows the change or cannot be read."""
        message = " ".join(str(exc).split()) or type(exc).__name__
        after_state = self._after(after)
        try:
            landed = "unreadable" in after_state or done(after_state) is not None
        except Exception:
            landed = True
        self.audit.result(
            intent,
            remediation=remediation,
            target=target,
            result=UNKNOWN if landed else ERROR,
            message=message,
            after=after_state,
        )

    # -- key (data plane) ---------------------------------------------------------------------

    def _key_before(self, vault_id: str, key_name: str, version: str | None = None) -> dict[str, Any]:
        return _key_state(self.gateway.get_key(vault_id, key_name, version or None))

    def _update_key(
        self, vault_url: str, key_name: str, version: str | None, action: str, **changes: Any
    ) -> Any:
        client = self.factory.keys(vault_url)
        return call(
            action,
            NEEDS_KEY_UPDATE,
            lambda: client.update_key_properties(key_name, version or None, **changes),
        )

    def _key_request(
        self, vault_url: str, key_name: str, version: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"{vault_url.rstrip('/')}/keys/{key_name}" + (f"/{version}" if version else "")
        return {"method": "PATCH", "url": f"{path}?api-version=2025-07-01", "body": {"attributes": body}}

    def extend_key_expiry(
        self, vault_id: str, vault_url: str, key_name: str, version: str | None, expires_on: str | datetime
    ) -> WriteResult:
        """Move the key's expiry to `expires_on` (update_key_properties)."""
        new = _parse_time(expires_on)

        def done(before: dict[str, Any]) -> str | None:
            current = before.get("expires")
            if current is None:
                return "the key has no expiry date"
            if _parse_time(current) >= new:
                return f"the key already expires on {current}"
            return None

        return self._write(
            "extend-key-expiry",
            f"{vault_id}/keys/{key_name}",
            self._key_request(vault_url, key_name, version, {"exp": _iso(new)}),
            before=lambda: self._key_before(vault_id, key_name, version),
            done=done,
            act=lambda b: self._update_key(
                vault_url,
                key_name,
                version or b.get("version"),
                f"extend expiry of key {key_name}",
                expires_on=new,
            ),
            after=lambda: self._key_before(vault_id, key_name, version),
        )

    def enable_key(self, vault_id: str, vault_url: str, key_name: str, version: str | None) -> WriteResult:
        """Set the key's enabled attribute to true."""
        return self._write(
            "enable-key",
            f"{vault_id}/keys/{key_name}",
            self._key_request(vault_url, key_name, version, {"enabled": True}),
            before=lambda: self._key_before(vault_id, key_name, version),
            done=lambda b: "the key is already enabled" if b.get("enabled") is not False else None,
            act=lambda b: self._update_key(
                vault_url, key_name, version or b.get("version"), f"enable key {key_name}", enabled=True
            ),
            after=lambda: self._key_before(vault_id, key_name, version),
        )

    def clear_key_not_before(
        self,
        vault_id: str,
        vault_url: str,
        key_name: str,
        version: str | None,
        not_before: str | datetime | None = None,
    ) -> WriteResult:
        """Move the key's activation date to now (or `not_before`)."""
        new = _parse_time(not_before) if not_before else datetime.now(UTC)

        def done(before: dict[str, Any]) -> str | None:
            current = before.get("notBefore")
            if current is None or _parse_time(current) <= datetime.now(UTC):
                return "the key is already active"
            return None

        return self._write(
            "clear-key-not-before",
            f"{vault_id}/keys/{key_name}",
            self._key_request(vault_url, key_name, version, {"nbf": _iso(new)}),
            before=lambda: self._key_before(vault_id, key_name, version),
            done=done,
            act=lambda b: self._update_key(
                vault_url,
                key_name,
                version or b.get("version"),
                f"set activation date of key {key_name}",
                not_before=new,
            ),
            after=lambda: self._key_before(vault_id, key_name, version),
        )

    def recover_key(self, vault_id: str, vault_url: str, key_name: str) -> WriteResult:
        """Recover a soft-deleted key (begin_recover_deleted_key)."""

        def before() -> dict[str, Any]:
            try:
                return {"state": "present", **self._key_before(vault_id, key_name)}
            except NotFound:
                deleted = self.gateway.get_deleted_key(vault_url, key_name)
                return {
                    "state": "soft-deleted",
                    "deletedOn": _iso(deleted.deleted_on),
                    "scheduledPurgeDate": _iso(deleted.scheduled_purge_date),
                }

        def act(_: dict[str, Any]) -> Any:
            client = self.factory.keys(vault_url)
            interval = self.factory.polling_interval
            return call(
                f"recover key {key_name}",
                NEEDS_KEY_RECOVER,
                lambda: client.begin_recover_deleted_key(key_name, _polling_interval=interval).result(),
            )

        return self._write(
            "recover-key",
            f"{vault_id}/keys/{key_name}",
            {
                "method": "POST",
                "url": f"{vault_url.rstrip('/')}/deletedkeys/{key_name}/recover?api-version=2025-07-01",
            },
            before=before,
            done=lambda b: "the key is not deleted" if b.get("state") == "present" else None,
            act=act,
            after=before,
        )

    # -- vault (management plane) -------------------------------------------------------------

    def recover_vault(
        self, vault_id: str, location: str, tenant_id: str = "", sku: str = "standard"
    ) -> WriteResult:
        """Recover a soft-deleted vault (create_mode recover). RBAC assignments do not come back."""
        from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties

        rid = parse_resource_id(vault_id, VAULT_TYPE)
        tenants: list[str] = []

        def tenant() -> str:
            if not tenants:
                tenants.append(tenant_id or self.gateway.operator().tenant_id)
            return tenants[0]

        def before() -> dict[str, Any]:
            try:
                return {"state": "present", **_vault_state(self.gateway.get_vault(vault_id))}
            except NotFound:
                d = self.gateway.get_deleted_vault(rid.name, location, rid.subscription_id)
                return {
                    "state": "soft-deleted",
                    "deletionDate": _iso(d.deletion_date),
                    "scheduledPurgeDate": _iso(d.scheduled_purge_date),
                    "location": d.location,
                }

        def act(_: dict[str, Any]) -> Any:
            client = self.factory.keyvault(rid.subscription_id)
            params = VaultCreateOrUpdateParameters(
                location=location,
                properties=VaultProperties(
                    tenant_id=tenant(), sku=Sku(family="A", name=sku), create_mode="recover"
                ),
            )
            try:
                return call(
                    f"recover vault {rid.name}",
                    NEEDS_VAULT_WRITE,
                    lambda: client.vaults.begin_create_or_update(
                        rid.resource_group, rid.name, params, polling_interval=self.factory.polling_interval
                    ).result(),
                )
            except GatewayError as exc:
                # The PUT was accepted but polling its operation failed (e.g. an unexpected 202 on
                # the Azure-AsyncOperation URL): the read-back decides whether the vault is back.
                if exc.status is None or exc.status >= 300:
                    raise
                try:
                    return self.gateway.get_vault(vault_id)
                except NotFound:
                    raise exc from None

        return self._write(
            "recover-vault",
            vault_id,
            lambda _: {
                "method": "PUT",
                "url": f"{vault_id}?api-version=2026-05-15",
                "body": {
                    "location": location,
                    "properties": {
                        "tenantId": tenant(),
                        "sku": {"family": "A", "name": sku},
                        "createMode": "recover",
                    },
                },
            },
            before=before,
            done=lambda b: "the vault is not deleted" if b.get("state") == "present" else None,
            act=act,
            after=before,
        )

    def allow_trusted_services(self, vault_id: str) -> WriteResult:
        """Firewall bypass AzureServices, resending the default action and every IP/VNet rule."""
        from azure.mgmt.keyvault.models import (
            IPRule,
            NetworkRuleSet,
            VaultPatchParameters,
            VaultPatchProperties,
            VirtualNetworkRule,
        )

        rid = parse_resource_id(vault_id, VAULT_TYPE)

        def body(b: dict[str, Any]) -> dict[str, Any]:
            return trusted_services_acls(
                b.get("defaultAction"), b.get("ipRules", []), b.get("virtualNetworkRules", [])
            )

        def act(b: dict[str, Any]) -> Any:
            sent = body(b)
            acls = NetworkRuleSet(
                bypass=sent["bypass"],
                default_action=sent["defaultAction"],
                ip_rules=[IPRule(value=r["value"]) for r in sent["ipRules"]],
                virtual_network_rules=[VirtualNetworkRule(id=r["id"]) for r in sent["virtualNetworkRules"]],
            )
            client = self.factory.keyvault(rid.subscription_id)
            return call(
                f"update firewall of vault {rid.name}",
                NEEDS_VAULT_WRITE,
                lambda: client.vaults.update(
                    rid.resource_group,
                    rid.name,
                    VaultPatchParameters(properties=VaultPatchProperties(network_acls=acls)),
                ),
            )

        return self._write(
            "allow-trusted-services",
            vault_id,
            lambda b: {
                "method": "PATCH",
                "url": f"{vault_id}?api-version=2026-05-15",
                "body": {"properties": {"networkAcls": body(b)}},
            },
            before=lambda: _vault_state(self.gateway.get_vault(vault_id)),
            done=lambda b: (
                "trusted Microsoft services already bypass the firewall"
                if str(b.get("bypass") or "").lower() == "azureservices"
                else None
            ),
            act=act,
            after=lambda: _vault_state(self.gateway.get_vault(vault_id)),
        )

    def enable_purge_protection(self, vault_id: str) -> WriteResult:
        """Turn purge protection on (irreversible)."""
        from azure.mgmt.keyvault.models import VaultPatchParameters, VaultPatchProperties

        rid = parse_resource_id(vault_id, VAULT_TYPE)

        def act(_: dict[str, Any]) -> Any:
            client = self.factory.keyvault(rid.subscription_id)
            return call(
                f"enable purge protection on vault {rid.name}",
                NEEDS_VAULT_WRITE,
                lambda: client.vaults.update(
                    rid.resource_group,
                    rid.name,
                    VaultPatchParameters(properties=VaultPatchProperties(enable_purge_protection=True)),
                ),
            )

        return self._write(
            "enable-purge-protection",
            vault_id,
            {
                "method": "PATCH",
                "url": f"{vault_id}?api-version=2026-05-15",
                "body": {"properties": {"enablePurgeProtection": True}},
            },
            before=lambda: _vault_state(self.gateway.get_vault(vault_id)),
            done=lambda b: "purge protection is already on" if b.get("purgeProtection") else None,
            act=act,
            after=lambda: _vault_state(self.gateway.get_vault(vault_id)),
        )

    def add_access_policy(
        self, vault_id: str, object_id: str, tenant_id: str = "", permissions: list[str] | None = None
    ) -> WriteResult:
        """Access-policy operation kind `add` with only the missing key permissions; never replace."""
        from azure.mgmt.keyvault.models import (
            AccessPolicyEntry,
            Permissions,
            VaultAccessPolicyParameters,
            VaultAccessPolicyProperties,
        )

        rid = parse_resource_id(vault_id, VAULT_TYPE)
        wanted = [
            p for p in REQUIRED_POLICY if permissions is None or p.lower() in {x.lower() for x in permissions}
        ]

        def before() -> dict[str, Any]:
            v = self.gateway.get_vault(vault_id)
            granted = _policy_perms(v, object_id)
            missing = [p for p in wanted if "all" not in granted and p.lower() not in granted]
            return {
                "objectId": object_id,
                "keyPermissions": sorted(granted),
                "missing": missing,
                "tenantId": tenant_id or v.tenant_id,
            }

        def act(b: dict[str, Any]) -> Any:
            entry = AccessPolicyEntry(
                tenant_id=b["tenantId"],
                object_id=object_id,
                permissions=Permissions(keys_property=list(b["missing"])),
            )
            params = VaultAccessPolicyParameters(
                properties=VaultAccessPolicyProperties(access_policies=[entry])
            )
            client = self.factory.keyvault(rid.subscription_id)
            return call(
                f"add access policy on vault {rid.name}",
                NEEDS_POLICY_WRITE,
                lambda: client.vaults.update_access_policy(rid.resource_group, rid.name, "add", params),
            )

        return self._write(
            "add-access-policy",
            vault_id,
            lambda b: {
                "method": "PUT",
                "url": f"{vault_id}/accessPolicies/add?api-version=2026-05-15",
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

    # -- role assignments ----------------------------------------------------------------------

    def grant_crypto_role(self, vault_id: str, principal_id: str) -> WriteResult:
        """Key Vault Crypto Service Encryption User at the vault, principal type ServicePrincipal."""
        from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

        rid = parse_resource_id(vault_id, VAULT_TYPE)
        role_id = (
            f"/subscriptions/{rid.subscription_id}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}"
        )
        name = str(uuid.uuid4())

        def assignments() -> dict[str, Any]:
            try:
                found = self.gateway.list_role_assignments(vault_id, principal_id)
            except Forbidden as exc:
                return {"principalId": principal_id, "unreadable": exc.needs}
            return {
                "principalId": principal_id,
                "assignments": [
                    {"role": a.role_guid, "scope": a.scope}
                    for a in found
                    if a.principal_id.lower() == principal_id.lower()
                ],
            }

        def done(b: dict[str, Any]) -> str | None:
            for a in b.get("assignments", []):
                if a["role"] == CRYPTO_SERVICE_ENCRYPTION_USER and scope_covers(a["scope"], vault_id):
                    return f"the principal already holds the role at {a['scope']}"
            return None

        def act(_: dict[str, Any]) -> Any:
            client = self.factory.authorization(rid.subscription_id)
            params = RoleAssignmentCreateParameters(
                role_definition_id=role_id, principal_id=principal_id, principal_type="ServicePrincipal"
            )
            return call(
                "create role assignment",
                NEEDS_ROLE_WRITE,
                lambda: client.role_assignments.create(
                    scope=vault_id, role_assignment_name=name, parameters=params
                ),
            )

        return self._write(
            "grant-crypto-role",
            vault_id,
            {
                "method": "PUT",
                "url": f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/{name}"
                "?api-version=2022-04-01",
                "body": {
                    "properties": {
                        "roleDefinitionId": role_id,
                        "principalId": principal_id,
                        "principalType": "ServicePrincipal",
                    }
                },
            },
            before=assignments,
            done=done,
            act=act,
            after=assignments,
            conflict_done_codes=("RoleAssignmentExists",),
        )

    # -- identity and cluster ------------------------------------------------------------------

    def create_identity(
        self, subscription_id: str, resource_group: str, name: str, location: str
    ) -> WriteResult:
        """A new user-assigned identity (never overwrites one that exists)."""
        from azure.mgmt.msi.models import Identity

        identity_id = (
            f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
            f"{IDENTITY_TYPE}/{name}"
        )
        parse_resource_id(identity_id, IDENTITY_TYPE)

        def state() -> dict[str, Any]:
            try:
                i = self.gateway.get_identity(identity_id)
            except NotFound:
                return {"identity": None}
            return {
                "identity": i.id,
                "principalId": i.principal_id,
                "clientId": i.client_id,
                "location": i.location,
            }

        def act(_: dict[str, Any]) -> Any:
            client = self.factory.msi(subscription_id)
            return call(
                f"create identity {name}",
                NEEDS_IDENTITY_WRITE,
                lambda: client.user_assigned_identities.create_or_update(
                    resource_group, name, Identity(location=location)
                ),
            )

        result = self._write(
            "create-identity",
            identity_id,
            {"method": "PUT", "url": f"{identity_id}?api-version=2024-11-30", "body": {"location": location}},
            before=state,
            done=lambda b: "the identity already exists" if b.get("identity") else None,
            act=act,
            after=state,
        )
        facts: IdentityFacts | None = None
        try:
            facts = self.gateway.get_identity(identity_id)
        except GatewayError:
            facts = None
        return WriteResult(
            result.remediation,
            result.target,
            result.status,
            result.message,
            result.before,
            result.after,
            result.audit_ids,
            facts,
        )

    def attach_identity_and_key(
        self, cluster_id: str, identity_id: str, key_url: str, principal_id: str | None = None
    ) -> WriteResult:
        """Cluster PATCH with the identity AND the key URL together."""
        from azure.mgmt.mongocluster import models as m

        rid = parse_resource_id(cluster_id, CLUSTER_TYPE)
        parse_resource_id(identity_id, IDENTITY_TYPE)

        def done(b: dict[str, Any]) -> str | None:
            identities = {k.lower(): v for k, v in b["identities"].items()}
            same = (
                str(b.get("keyIdentity") or "").lower() == identity_id.lower()
                and b.get("keyUrl") == key_url
                and identity_id.lower() in identities
            )
            fresh = principal_id is None or str(identities.get(identity_id.lower()) or "").lower() == (
                principal_id.lower()
            )
            return "the cluster already uses this identity and key URL" if same and fresh else None

        def act(b: dict[str, Any]) -> Any:
            kind = attach_body(b.get("identityType"), identity_id, key_url)["identity"]["type"]
            body = m.MongoClusterUpdate(
                identity=m.ManagedServiceIdentity(
                    type=kind, user_assigned_identities={identity_id: m.UserAssignedIdentity()}
                ),
                properties=m.MongoClusterUpdateProperties(
                    encryption=m.EncryptionProperties(
                        customer_managed_key_encryption=m.CustomerManagedKeyEncryptionProperties(
                            key_encryption_key_identity=m.KeyEncryptionKeyIdentity(
                                identity_type="UserAssignedIdentity",
                                user_assigned_identity_resource_id=identity_id,
                            ),
                            key_encryption_key_url=key_url,
                        )
                    )
                ),
            )
            client = self.factory.mongo(rid.subscription_id)
            return call(
                f"update cluster {rid.name}",
                NEEDS_CLUSTER_WRITE,
                lambda: client.mongo_clusters.begin_update(
                    rid.resource_group, rid.name, body, polling_interval=self.factory.polling_interval
                ).result(),
            )

        return self._write(
            "attach-identity-and-key",
            cluster_id,
            lambda b: {
                "method": "PATCH",
                "url": f"{cluster_id}?api-version=2026-06-01",
                "body": attach_body(b.get("identityType"), identity_id, key_url),
            },
            before=lambda: _cluster_state(self.gateway.get_cluster(cluster_id)),
            done=done,
            act=act,
            after=lambda: _cluster_state(self.gateway.get_cluster(cluster_id)),
        )

    def delete_failed_cluster(self, cluster_id: str, confirm_name: str) -> WriteResult:
        """Delete a cluster whose provisioning failed; refuses any other cluster."""
        rid = parse_resource_id(cluster_id, CLUSTER_TYPE)
        if confirm_name != rid.name:
            self.gateway.guard_write(f"delete cluster {rid.name}")
            raise WriteRefused(f"refused to delete cluster {rid.name}: the typed name does not match")

        def state() -> dict[str, Any]:
            try:
                return {"cluster": "present", **_cluster_state(self.gateway.get_cluster(cluster_id))}
            except NotFound:
                return {"cluster": "deleted"}

        def done(b: dict[str, Any]) -> str | None:
            if b["cluster"] == "deleted":
                return "the cluster no longer exists"
            if "failed" not in (str(b.get("clusterStatus")).lower(), str(b.get("provisioningState")).lower()):
                raise WriteRefused(
                    f"refused to delete cluster {rid.name}: it is "
                    f"{b.get('clusterStatus')}/{b.get('provisioningState')}, not Failed"
                )
            return None

        def act(_: dict[str, Any]) -> Any:
            client = self.factory.mongo(rid.subscription_id)
            with translated(f"delete cluster {rid.name}", NEEDS_CLUSTER_DELETE):
                return client.mongo_clusters.begin_delete(
                    rid.resource_group, rid.name, polling_interval=self.factory.polling_interval
                ).result()

        return self._write(
            "delete-failed-cluster",
            cluster_id,
            {"method": "DELETE", "url": f"{cluster_id}?api-version=2026-06-01"},
            before=state,
            done=done,
            act=act,
            after=state,
        )
