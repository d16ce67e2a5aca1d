"""What the operator should do about a write that failed or was refused, by the error's type."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from wizard.domain.errors import (
    AuditWriteFailed,
    AuthFailed,
    ClusterBusy,
    Conflict,
    Forbidden,
    NotFound,
    OperationFailed,
    ReadOnlyViolation,
    Throttled,
    Unreachable,
    WriteRefused,
    WriteUnknown,
)
from wizard.domain.network import (
    FORBIDDEN_BY_CONNECTION,
    FORBIDDEN_BY_FIREWALL,
    PERMISSION_REFUSALS,
    operator_rule,
)
from wizard.engine.steps import Step

_ADVICE: Mapping[type[BaseException], str] = {
    Forbidden: "you lack the permission for this write: {permission}. Ask someone who holds it, "
    "or have it granted, then run the fix again.",
    NotFound: "the target was not found: diagnose again; another change may have happened meanwhile.",
    OperationFailed: "Azure accepted the change, then its operation failed with the error above: "
    "diagnose again, fix what the error names, then run the fix again.",
    Conflict: "Azure reported a conflict: diagnose again and retry once the other operation is done.",
    Throttled: "Azure is throttling or failing: wait a minute and run the fix again.",
    Unreachable: "Azure could not be reached: check the network (VPN, proxy) and run the fix again.",
    AuthFailed: "sign in again (`az login`) and run the fix again.",
    ReadOnlyViolation: "the wizard runs read-only: start it without --read-only to apply fixes.",
    WriteRefused: "nothing was changed; check the target and run the fix again.",
    WriteUnknown: "run the fix again: it reads the target first, records what it finds, and plans "
    "from there.",
    ClusterBusy: "another fix is working on this cluster: let it finish, then diagnose again.",
    AuditWriteFailed: "free space where the audit log is (or give --audit-log elsewhere), then run the "
    "fix again: it reads the target first and records what it finds.",
}
_OTHERWISE = "nothing more was changed; read the message, then diagnose again before retrying."

_LOCKED_SCOPES = re.compile(r"following scope\(s\) are locked: (.+?)\. Please", re.DOTALL)
_QUOTED = re.compile(r"'([^']+)'")
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE)
_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)


def lock_advice(exc: Conflict, step: Step) -> str:
    """A management lock refused the write: say where each lock is, how to see it, and what its
    owner can change; we never touch locks."""
    found = _LOCKED_SCOPES.search(str(exc))
    scopes = _QUOTED.findall(found.group(1)) if found else []
    return locked_scopes_advice(scopes or [step.target], deleting="delete operation" in str(exc))


def locked_scopes_advice(scopes: Sequence[str], *, deleting: bool, ahead: bool = False) -> str:
    """Where each lock is, how to see it, what its owner can change (`ahead`: said before the write
    is sent, from the locks the preflight read)."""
    commands = []
    for scope in scopes:
        sub, group = _SUBSCRIPTION.search(scope), _GROUP.search(scope)
        where = f" --resource-group {group.group(1)}" if group else ""
        within = f" --subscription {sub.group(1)}" if sub else ""
        commands.append(f"`az lock list{where}{within} --output table`")
    change = (
        "remove it (a CanNotDelete lock refuses deletes)"
        if deleting
        else "remove it or make it CanNotDelete (a ReadOnly lock refuses every write)"
    )
    verb = "will refuse" if ahead else "refuses"
    return (
        f"a management lock on {', '.join(scopes)} {verb} this "
        f"{'delete' if deleting else 'write'} (ScopeLocked). See it with {', '.join(commands)}; "
        f"its owner (Owner or User Access Administrator) can {change}, then run the fix again. "
        "cmk-wizard never removes locks."
    )


FAILED_UPDATE = (
    "Azure accepted the update, then its operation failed with the error above. Diagnose again to see "
    "what the cluster holds now (the docs say a valid identity may be added even when the update "
    "fails), fix what the error names, then run the fix again. The failed operation leaves "
    "provisioningState Failed on a running cluster: that is not a reason to delete it."
)
"""UNVERIFIED: what a failed cluster update leaves applied (a failed PATCH on a live cluster, then a GET)."""


def network_advice(exc: Forbidden) -> str | None:
    """A 403 from the vault's NETWORK (by its inner code): where to run from, never a role."""
    if exc.inner_code == FORBIDDEN_BY_FIREWALL:
        seen = f" {exc.client_address}" if exc.client_address else ""
        rule = (
            f"or let the wizard add {operator_rule(exc.client_address)} to the vault's firewall for "
            "the duration of the fix (allow-operator-ip, offered in the fresh plan; typed confirmation; "
            "removed afterwards)"
            if exc.client_address
            else "or give your public address (--my-ip ADDRESS) so the wizard can add it for the fix"
        )
        late = (
            " If that rule was just added, Azure may still be applying it: run the fix again in minutes."
            if exc.client_address
            else ""
        )
        return (
            f"the vault's firewall refused your address{seen} (ForbiddenByFirewall): this is the "
            "network, not your permission. Run the fix from a network the vault allows or through "
            f"a private endpoint, {rule}.{late}"
        )
    if exc.inner_code == FORBIDDEN_BY_CONNECTION:
        return (
            "the vault's public network access is Disabled (ForbiddenByConnection): only a private "
            "endpoint gets in, and an IP rule would not help, so the wizard offers none. This is the "
            "network, not your permission: run the fix from a machine on a network with a private "
            "endpoint to the vault (or ask its owner to)."
        )
    return None


def advice_for(exc: BaseException, step: Step) -> str:
    """What the operator should do about a failed write: by the error's exact type, and for a 403
    by its inner code (the vault's network, or a missing permission)."""
    if isinstance(exc, Conflict) and exc.code == "ScopeLocked":
        return lock_advice(exc, step)
    if isinstance(exc, OperationFailed) and step.remediation == "attach-identity-and-key":
        return FAILED_UPDATE
    if isinstance(exc, Forbidden):
        network = network_advice(exc)
        if network is not None:
            return network
        if exc.inner_code in PERMISSION_REFUSALS:
            return (
                f"you lack the permission for this write ({exc.inner_code}): {step.permission}. "
                "Ask someone who holds it, or have it granted, then run the fix again."
            )
    return _ADVICE.get(type(exc), _OTHERWISE).format(permission=step.permission)
