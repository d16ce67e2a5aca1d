"""What a mongoCluster PATCH would make of the cluster, and whether the service could carry it out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wizard.emulator.health import evaluate, parse_key_url
from wizard.emulator.model import Attached, Cluster
from wizard.emulator.wire import Context, HttpError, arm_error

KEY_ACCESS_FAILED = "KeyEncryptionKeyAccessFailed"
"""UNVERIFIED code (a failed CMK update's operation error from a live subscription would settle it)."""

_NOT_THE_KEY = {"provisioning-failed", "identity-not-attached", "identity-missing"}


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _kek_identity_error(kek_id: str) -> dict[str, str]:
    return _error(
        "InvalidKeyEncryptionKeyIdentity",
        f"The key encryption identity '{kek_id}' must be a valid user-assigned identity of the cluster.",
    )


def plan_update(ctx: Context, cluster: Cluster, body: dict[str, Any]) -> Cluster | dict[str, str]:
    """The cluster as the PATCH would leave it, or the error its operation fails with (nothing changed).

    A malformed key URL is refused at once (400, request validation); everything else the service
    finds only while it works (an identity that does not exist, a key it cannot use) fails the
    operation asynchronously.
    """
    planned = replace(cluster, identities=[replace(a) for a in cluster.identities], tags=dict(cluster.tags))
    identity = body.get("identity")
    if isinstance(identity, dict):
        problem = _plan_identities(ctx, planned, identity)
        if problem is not None:
            return problem
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    cmk = ((props or {}).get("encryption") or {}).get("customerManagedKeyEncryption")
    if isinstance(cmk, dict):
        problem = _plan_key(ctx, planned, cmk)
        if problem is not None:
            return problem
    kek_id = planned.key_identity_id or ""
    if cluster.attached(kek_id) is not None and planned.attached(kek_id) is None:
        # UNVERIFIED: that the service refuses to detach the identity the key is used with (a PATCH
        # removing it without naming another key-encryption identity would settle it).
        return _kek_identity_error(kek_id)
    if isinstance(body.get("tags"), dict):
        planned.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return planned


def _plan_identities(ctx: Context, planned: Cluster, identity: dict[str, Any]) -> dict[str, str] | None:
    """Merge the user-assigned identities: null removes one, a new id is attached with its current principal.

    Re-sending an id the cluster already holds does NOT refresh the principal it remembers.
    UNVERIFIED for mongoClusters: the closest evidence (VM/VMSS user-assigned identities) is that the
    resource keeps the stale principal of a same-name re-created identity (a same-id PATCH on a
    cluster whose identity was re-created, then a GET of identity.userAssignedIdentities, would
    settle it).
    """
    for ident_id, value in (identity.get("userAssignedIdentities") or {}).items():
        if value is None:
            planned.identities = [a for a in planned.identities if a.identity_id.lower() != ident_id.lower()]
            continue
        found = ctx.state.identity(ident_id)
        if found is None:
            return _error(
                "InvalidUserAssignedIdentity",
                f"The user-assigned identity '{ident_id}' was not found or is not valid.",
            )
        if planned.attached(found.id) is None:
            planned.identities.append(Attached(found.id, found.principal_id, found.client_id))
    if identity.get("type"):
        planned.identity_type = str(identity["type"])
    return None


def _plan_key(ctx: Context, planned: Cluster, cmk: dict[str, Any]) -> dict[str, str] | None:
    """Point the cluster at the key; the operation fails unless the identity could use it right away."""
    kek = cmk.get("keyEncryptionKeyIdentity") or {}
    planned.key_identity_id = str(kek.get("userAssignedIdentityResourceId") or planned.key_identity_id or "")
    planned.key_url = str(cmk.get("keyEncryptionKeyUrl") or planned.key_url or "")
    if parse_key_url(planned.key_url) is None:
        raise HttpError(
            arm_error(
                400,
                "InvalidKeyEncryptionKeyUrl",
                f"The key encryption key URL '{planned.key_url}' is not a valid Key Vault key URL.",
            )
        )
    kek_id = planned.key_identity_id
    if planned.attached(kek_id) is None or ctx.state.identity(kek_id) is None:
        return _kek_identity_error(kek_id)
    reasons = set(evaluate(ctx.state, planned, ctx.now).reasons) - _NOT_THE_KEY
    if reasons:
        # UNVERIFIED wording: the docs' text for a failed CMK provisioning, with the key URL added.
        return _error(
            KEY_ACCESS_FAILED,
            f"Couldn't get access to the key '{planned.key_url}'. It might be missing, the provided user "
            "identity doesn't have GET permissions on it, or the key vault hasn't enabled access to the "
            "public internet.",
        )
    return None
