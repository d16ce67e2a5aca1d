"""Role-based access control: role assignments (list, GET, PUT, DELETE) and role definitions (GET, list)."""

from __future__ import annotations

import re
from typing import Any

from wizard.emulator.arm.paging import paged
from wizard.emulator.health import role_definition
from wizard.emulator.model import RoleAssignment, RoleDefinition, operator_oid
from wizard.emulator.roles import BUILT_IN_ROLES
from wizard.emulator.wire import Context, HttpError, Request, Response, arm_error, iso


def assignment_json(ctx: Context, a: RoleAssignment, *, just_created: bool = False) -> dict[str, Any]:
    """A role assignment as 2022-04-01 returns it; the PUT that made it shows no createdBy yet
    (recorded: authorization/roledefinition_filter_then_roleassignment_put_201_then_list_filter.json)."""
    creator = a.creator or operator_oid(ctx.state.tenant_id)
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
            "createdBy": None if just_created else creator,
            "updatedBy": creator,
            "delegatedManagedIdentityResourceId": None,
            "description": a.description,
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
    """List at, above and below a scope; `$filter` by principal (assignedTo / principalId eq); paged
    by nextLink (wizard.emulator.arm.paging)."""
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
    candidates = ctx.state.role_assignments if principal is None else ctx.state.assignments_of(principal)
    rows = [a for a in candidates if _related(a.scope, scope)]
    return Response(200, paged(ctx, req, rows, "role_assignments", lambda a: assignment_json(ctx, a)))


def _assignment(ctx: Context, p: dict[str, str]) -> RoleAssignment | None:
    """The assignment the path names, by name and exact scope."""
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
    return Response(200, assignment_json(ctx, found))


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
    # Azure fills in principalType from the directory when it is left out (recorded: ServicePrincipal).
    # UNVERIFIED for users and groups: the emulator's only user is the operator.
    operator = operator_oid(ctx.state.tenant_id)
    kind = props.get("principalType") or ("User" if principal.lower() == operator else "ServicePrincipal")
    description = props.get("description")
    assignment = RoleAssignment(
        p["name"],
        scope,
        role_id,
        principal,
        str(kind),
        int(ctx.now),
        description=str(description) if description is not None else None,
        creator=operator,
        effective_at=ctx.now + ctx.state.grant_propagation_seconds,
    )
    ctx.state.role_assignments.append(assignment)
    return Response(201, assignment_json(ctx, assignment, just_created=True))


def delete_assignment(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """DELETE an assignment (200 with it, or 204 if none)."""
    found = _assignment(ctx, p)
    if found is None:
        return Response(204)
    ctx.state.role_assignments.remove(found)
    return Response(200, assignment_json(ctx, found))


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
    """List role definitions (`roleName eq '...'` and `type eq 'BuiltInRole'|'CustomRole'` filters, as
    documented), paged by nextLink. Every custom role of the estate
    is assignable everywhere here (its assignableScopes are not modelled)."""
    wanted = req.query.get("$filter", "")
    by_name = re.match(r"^\s*roleName\s+eq\s+'([^']+)'\s*$", wanted, re.I)
    by_type = re.match(r"^\s*type\s+eq\s+'(BuiltInRole|CustomRole)'\s*$", wanted, re.I)
    roles = [
        r
        for r in (*BUILT_IN_ROLES, *ctx.state.custom_roles)
        if (by_name is None or r.role_name.lower() == by_name.group(1).lower())
        and (by_type is None or r.role_type.lower() == by_type.group(1).lower())
    ]
    return Response(200, paged(ctx, req, roles, "role_definitions", lambda r: role_json(r, p["scope"])))
