"""Who may do what: the bearer token, operator restrictions, hidden subscriptions and management locks.

These are decisions about the OPERATOR's own calls, never about a cluster's identity (see `health`).
"""

from __future__ import annotations

from collections.abc import Mapping

from wizard.emulator import arm, dataplane, model, network
from wizard.emulator.model import State
from wizard.emulator.wire import Request, Response, arm_error, kv_error


def operator_oid(state: State) -> str:
    """The operator's object id, stable per tenant, as AuthorizationFailed and Key Vault errors name it."""
    return model.operator_oid(state.tenant_id)


def arm_authentication_failure(headers: Mapping[str, str], token: str) -> Response | None:
    """ARM's 401 for a missing or wrong bearer token."""
    auth = headers.get("authorization", "")
    if not auth:
        return arm_error(
            401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
        )
    if auth != f"Bearer {token}":
        return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
    return None


def arm_denial(state: State, kind: str, request: Request, params: Mapping[str, str]) -> Response | None:
    """403 AuthorizationFailed when a restriction or a hidden subscription keeps the operator out."""
    restrictions = state.restrictions
    denied = (
        f"deny:{kind}" in restrictions
        or (
            kind == "role-assignments"
            and request.method == "GET"
            and "no-role-assignment-read" in restrictions
        )
        or (kind == "resource-health" and "no-resource-health-read" in restrictions)
        or _in_hidden_subscription(state, request.path)
    )
    if not denied:
        return None
    action = arm.action_for(kind, request.method, request.path)
    scope = params.get("scope") or request.path
    return arm_error(
        403,
        "AuthorizationFailed",
        f"The client 'operator@emulator.local' with object id "
        f"'{operator_oid(state)}' does not have authorization to perform action "
        f"'{action}' over scope '{scope}' or the scope is invalid. If access was "
        "recently granted, please refresh your credentials.",
    )


def _in_hidden_subscription(state: State, path: str) -> bool:
    """A path under a subscription `hide-subscription:` hides: the operator has no role there."""
    parts = path.split("/")
    return (
        len(parts) > 2
        and parts[1].lower() == "subscriptions"
        and parts[2].lower() in state.hidden_subscriptions()
    )


def lock_refusal(state: State, kind: str, request: Request) -> Response | None:
    """409 ScopeLocked before anything changes; graph POSTs read. Role assignments are extension
    resources and inherit the locks at and above their scope (ARM's lock documentation; field reports
    quote this message): ReadOnly refuses their create, CanNotDelete (and ReadOnly) their delete."""
    if request.method in ("GET", "HEAD") or kind == "resource-graph":
        return None
    scope = request.path.rstrip("/")
    locks = [lock for lock in state.locks_over(scope) if lock.refuses(request.method)]
    if not locks:
        return None
    operation = "delete" if request.method == "DELETE" else "write"
    scopes = ", ".join(dict.fromkeys(f"'{lock.scope}'" for lock in locks))
    return arm_error(
        409,
        "ScopeLocked",
        f"The scope '{scope}' cannot perform {operation} operation because following scope(s) are "
        f"locked: {scopes}. Please remove the lock and try again.",
    )


def vault_authentication_failure(tenant: str, headers: Mapping[str, str], token: str) -> Response | None:
    """Key Vault's 401 with its bearer challenge for a missing (first, anonymous) or wrong token."""
    auth = headers.get("authorization", "")
    challenge = {
        "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{tenant}", '
        'resource="https://vault.azure.net"'
    }
    if not auth:
        return kv_error(
            401,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.",
            headers=challenge,
        )
    if auth != f"Bearer {token}":
        return kv_error(401, "Unauthorized", "AKV10032: Invalid issuer or token.", headers=challenge)
    return None


def data_plane_denial(state: State, request: Request) -> Response | None:
    """Why the OPERATOR's data-plane call is refused, if it is (never about the cluster's identity)."""
    vault = state.live_vault(request.host)
    assert vault is not None
    restrictions = state.restrictions
    where = f"Vault: {vault.name};location={vault.location}"
    caller = f"Caller: appid=04b07795-8ddb-461a-bbee-02f9e1bf7b46;oid={operator_oid(state)}"
    blocked = network.operator_network_block(state, vault)
    if blocked is not None and blocked[0] == "ForbiddenByConnection":
        return kv_error(
            403,
            "Forbidden",
            "Public network access is disabled and request is not from a trusted "
            f"service nor via an approved private link.\r\n{caller}\r\n{where}",
            "ForbiddenByConnection",
        )
    if blocked is not None:
        return kv_error(
            403,
            "Forbidden",
            "Client address is not authorized and caller is not a trusted "
            f"service.\r\nClient address: {blocked[1]}\r\n{caller}\r\n{where}",
            "ForbiddenByFirewall",
        )
    permission = dataplane.permission_for(request.method, request.path)
    if "no-data-plane" in restrictions:
        return kv_error(
            403,
            "Forbidden",
            f"The user, group or application 'appid=04b07795-8ddb-461a-bbee-"
            f"02f9e1bf7b46;oid={operator_oid(state)}' does not have keys {permission} permission "
            f"on key vault '{vault.name};location={vault.location}'. For help resolving this issue, "
            "please see https://go.microsoft.com/fwlink/?linkid=2125287",
            "AccessDenied",
        )
    if "deny:data-plane" in restrictions:
        return kv_error(
            403,
            "Forbidden",
            "Caller is not authorized to perform action on resource.\r\nIf role "
            "assignments, deny assignments or role definitions were changed recently, please "
            f"observe propagation time.\r\n{caller}\r\n"
            f"Action: '{dataplane.DATA_ACTION.get(permission, permission)}'\r\n"
            f"Resource: '{vault.id.lower()}/keys'\r\n{where}",
            "ForbiddenByRbac",
        )
    return None
