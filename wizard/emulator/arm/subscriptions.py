"""ARM's subscription list (Subscriptions_List, 2022-12-01): every subscription where the operator
holds any role, resource-group roles included; a `hide-subscription:` one (no role at all) is left
out. Resource Graph may list fewer: see `group-roles-only:` in the estate format."""

from __future__ import annotations

from wizard.emulator.wire import Context, Request, Response


def list_subscriptions(ctx: Context, req: Request, p: dict[str, str]) -> Response:
    """The subscriptions in sight, with ARM's fields."""
    hidden = ctx.state.hidden_subscriptions()
    rows = [
        {
            "id": f"/subscriptions/{sub}",
            "subscriptionId": sub,
            "tenantId": ctx.state.tenant_id,
            "displayName": f"subscription {sub[:8]}",
            "state": "Enabled",
            "authorizationSource": "RoleBased",
            "subscriptionPolicies": {"spendingLimit": "Off", "quotaId": "EnterpriseAgreement_2014-09-01"},
        }
        for sub in ctx.state.known_subscriptions()
        if sub.lower() not in hidden
    ]
    return Response(200, {"value": rows, "count": {"type": "Total", "value": len(rows)}})
