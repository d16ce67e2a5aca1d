"""Writes to the cluster and its identity: create a new identity, point the cluster at an identity
and key URL together, delete a cluster whose provisioning failed. Called by GatewayWriter.apply."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from wizard.azure.errors import call, finish
from wizard.azure.states import cluster_state
from wizard.domain.actions import AttachIdentityAndKey, CreateIdentity, DeleteFailedCluster
from wizard.domain.errors import GatewayError, NotFound, WriteRefused
from wizard.domain.ids import CLUSTER_TYPE, IDENTITY_TYPE, parse_resource_id
from wizard.domain.models import IdentityFacts, last_operation_failed, never_came_up
from wizard.domain.results import WriteResult

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

NEEDS_IDENTITY_WRITE = "Microsoft.ManagedIdentity/userAssignedIdentities/write (Managed Identity Contributor)"
NEEDS_CLUSTER_WRITE = (
    "Microsoft.DocumentDB/mongoClusters/write and "
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
)
NEEDS_CLUSTER_DELETE = "Microsoft.DocumentDB/mongoClusters/delete (Contributor on the cluster)"


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


def create_identity(writer: GatewayWriter, a: CreateIdentity) -> WriteResult:
    """A new user-assigned identity (never overwrites one that exists); the result carries it."""
    from azure.mgmt.msi.models import Identity

    gateway = writer.gateway
    identity_id = a.identity_id
    parse_resource_id(identity_id, IDENTITY_TYPE)

    def state() -> dict[str, Any]:
        try:
            i = gateway.get_identity(identity_id)
        except NotFound:
            return {"identity": None}
        return {
            "identity": i.id,
            "principalId": i.principal_id,
            "clientId": i.client_id,
            "location": i.location,
        }

    def act(_: dict[str, Any]) -> Any:
        client = writer.factory.msi(a.subscription_id)
        return call(
            f"create identity {a.name}",
            NEEDS_IDENTITY_WRITE,
            lambda: client.user_assigned_identities.create_or_update(
                a.resource_group, a.name, Identity(location=a.location)
            ),
        )

    result = writer.audited(
        a.remediation,
        identity_id,
        {"method": "PUT", "url": f"{identity_id}?api-version=2024-11-30", "body": {"location": a.location}},
        before=state,
        done=lambda b: "the identity already exists" if b.get("identity") else None,
        act=act,
        after=state,
    )
    created: IdentityFacts | None
    try:
        created = gateway.get_identity(identity_id)
    except GatewayError:
        created = None
    return replace(result, identity=created)


def attach_identity_and_key(writer: GatewayWriter, a: AttachIdentityAndKey) -> WriteResult:
    """Cluster PATCH with the identity AND the key URL together."""
    from azure.mgmt.mongocluster import models as m

    rid = parse_resource_id(a.cluster_id, CLUSTER_TYPE)
    parse_resource_id(a.identity_id, IDENTITY_TYPE)
    identity_id, key_url, principal_id = a.identity_id, a.key_url, a.principal_id

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
        client = writer.factory.mongo(rid.subscription_id)
        return finish(
            f"update cluster {rid.name}",
            NEEDS_CLUSTER_WRITE,
            lambda: writer.waited(
                client.mongo_clusters.begin_update(
                    rid.resource_group, rid.name, body, polling_interval=writer.factory.polling_interval
                ),
                f"cluster {rid.name} update",
            ),
        )

    return writer.audited(
        a.remediation,
        a.cluster_id,
        lambda b: {
            "method": "PATCH",
            "url": f"{a.cluster_id}?api-version=2026-06-01",
            "body": attach_body(b.get("identityType"), identity_id, key_url),
        },
        before=lambda: cluster_state(writer.gateway.get_cluster(a.cluster_id)),
        done=done,
        act=act,
        after=lambda: cluster_state(writer.gateway.get_cluster(a.cluster_id)),
    )


# A cluster in one of these states came up and holds data: never deleted, whatever provisioningState
# says (the engine applies the same rule; this is the writer's own check before anything is sent).
def delete_failed_cluster(writer: GatewayWriter, a: DeleteFailedCluster) -> WriteResult:
    """Delete a cluster that never came up; refuses any other cluster, and a wrong name.

    Defence in depth: whatever the plan said, the cluster is read again here and judged by the same
    rule as the diagnosis (`never_came_up`): a running cluster whose last operation failed holds
    data and is refused before any request is sent."""
    gateway = writer.gateway
    rid = parse_resource_id(a.cluster_id, CLUSTER_TYPE)
    if a.confirm_name != rid.name:
        gateway.guard_write(f"delete cluster {rid.name}")
        raise WriteRefused(f"refused to delete cluster {rid.name}: the typed name does not match")

    def state() -> dict[str, Any]:
        try:
            return {"cluster": "present", **cluster_state(gateway.get_cluster(a.cluster_id))}
        except NotFound:
            return {"cluster": "deleted"}

    def done(b: dict[str, Any]) -> str | None:
        if b["cluster"] == "deleted":
            return "the cluster no longer exists"
        status, provisioning = b.get("clusterStatus"), b.get("provisioningState")
        if not never_came_up(status, provisioning):
            why = (
                "it came up and may hold data"
                if last_operation_failed(status, provisioning)
                else "not Failed"
            )
            raise WriteRefused(
                f"refused to delete cluster {rid.name}: it is clusterStatus {status or '-'}, "
                f"provisioningState {provisioning or '-'} ({why}); only a cluster that never "
                "came up is deleted"
            )
        return None

    def act(_: dict[str, Any]) -> Any:
        client = writer.factory.mongo(rid.subscription_id)
        return finish(
            f"delete cluster {rid.name}",
            NEEDS_CLUSTER_DELETE,
            lambda: writer.waited(
                client.mongo_clusters.begin_delete(
                    rid.resource_group, rid.name, polling_interval=writer.factory.polling_interval
                ),
                f"cluster {rid.name} delete",
            ),
        )

    return writer.audited(
        a.remediation,
        a.cluster_id,
        {"method": "DELETE", "url": f"{a.cluster_id}?api-version=2026-06-01"},
        before=state,
        done=done,
        act=act,
        after=state,
    )
