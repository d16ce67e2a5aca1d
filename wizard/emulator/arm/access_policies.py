"""Vault access policies: their JSON, reading them from a request, and `accessPolicies/{add|remove|replace}`.

Recorded (keyvault-mgmt/access_policy_add_then_get.json): `add` is a synchronous 200 PUT answering
{id, type, properties.accessPolicies} with the whole merged list; an objectId that already has an
entry gets the union of the permissions, not a second entry. `storage` permissions show when given.
"""

from __future__ import annotations

from typing import Any

from wizard.emulator.arm.common import live_vault
from wizard.emulator.model import AccessPolicy, Vault
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error

_KINDS = ("keys", "secrets", "certificates", "storage")


def policy_json(policy: AccessPolicy) -> dict[str, Any]:
    """An access policy entry as Vaults_Get lists it."""
    permissions: dict[str, list[str]] = {
        "keys": list(policy.keys),
        "secrets": list(policy.secrets),
        "certificates": list(policy.certificates),
    }
    if policy.storage:
        permissions["storage"] = list(policy.storage)
    return {"tenantId": policy.tenant_id, "objectId": policy.object_id, "permissions": permissions}


def parse_policy(raw: Any) -> AccessPolicy:
    """An access policy entry from a request body (400 without an objectId)."""
    if not isinstance(raw, dict) or not raw.get("objectId"):
        raise HttpError(arm_error(400, "BadRequest", "Each access policy needs an objectId and permissions."))
    perms = raw.get("permissions") or {}
    return AccessPolicy(
        str(raw.get("tenantId") or ""),
        str(raw["objectId"]),
        *([str(x) for x in perms.get(kind) or []] for kind in _KINDS),
    )


def update(vault: Vault, kind: str, entries: list[Any], effective_at: float = 0.0) -> None:
    """add merges per objectId, remove subtracts (dropping emptied entries), replace sets; an entry
    added or widened is honoured from `effective_at` (its propagation), a narrowed one at once."""
    for entry in (parse_policy(e) for e in entries):
        current = next(
            (x for x in vault.access_policies if x.object_id.lower() == entry.object_id.lower()), None
        )
        if kind == "replace" or current is None:
            if kind == "remove":
                continue
            if current is not None:
                vault.access_policies.remove(current)
            entry.tenant_id = entry.tenant_id or vault.tenant_id
            entry.effective_at = effective_at
            vault.access_policies.append(entry)
            continue
        for attr in _KINDS:
            have: list[str] = getattr(current, attr)
            given = list(getattr(entry, attr))
            if kind == "add":
                new = [x for x in given if x.lower() not in {h.lower() for h in have}]
                have += new
                if new:
                    current.effective_at = effective_at
            else:
                setattr(current, attr, [h for h in have if h.lower() not in {g.lower() for g in given}])
        if not any(getattr(current, attr) for attr in _KINDS):
            vault.access_policies.remove(current)


def update_access_policy(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """PUT accessPolicies/{add|remove|replace}: 200 with the vault's whole list afterwards."""
    vault = live_vault(ctx, p)
    kind = p["kind"].lower()
    entries = (req.json_object().get("properties") or {}).get("accessPolicies")
    if not isinstance(entries, list):
        raise HttpError(arm_error(400, "BadRequest", "properties.accessPolicies is required."))
    update(vault, kind, entries, ctx.now + ctx.state.grant_propagation_seconds)
    return Response(
        200,
        {
            "id": f"{vault.id}/accessPolicies/{kind}",
            "type": "Microsoft.KeyVault/vaults/accessPolicies",
            "properties": {"accessPolicies": [policy_json(x) for x in vault.access_policies]},
        },
    )
