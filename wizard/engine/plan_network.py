"""The planner's pass over the operator's own network: warn before a data-plane step the vault's
rules will refuse, and open ONE temporary IP rule around such steps when that helps.

Runs after the per-finding rules (wizard.engine.plan_rules), over the steps they planned. The
rule is added (typed confirmation) before the first data-plane step and removed after the last;
a rule left open by a failed step or an earlier, interrupted run is removed before anything else.
Never offered when public access is Disabled: an IP rule does not get past that.
"""

from __future__ import annotations

from wizard.domain.actions import AllowOperatorIp, RemoveOperatorIp
from wizard.domain.network import data_plane_refusal, is_operator_rule, operator_rule
from wizard.engine.plan_builder import PlanBuilder
from wizard.engine.steps import OpenRule, Step


def _vault_name(vault_id: str) -> str:
    return vault_id.rstrip("/").rsplit("/", 1)[-1]


def _remove(b: PlanBuilder, rule: OpenRule, finding: str) -> None:
    """Plan the removal of exactly this rule (the vault's other rules are the writer's to keep)."""
    v = b.f.vault
    rule_text = operator_rule(rule.address)
    before: dict[str, object]
    after: dict[str, object]
    if v is not None and v.id.lower() == rule.vault_id.lower():
        before = {"ipRules": list(v.ip_rules)}
        after = {"ipRules": [r for r in v.ip_rules if not is_operator_rule(r, rule.address)]}
    else:
        before, after = {"operatorRule": rule_text}, {"operatorRule": "removed"}
    b.add(
        RemoveOperatorIp(rule.vault_id, rule.address, rule.audit_id),
        finding,
        target=rule.vault_id,
        before=before,
        after=after,
        values={
            "operator_rule": rule_text,
            "vault_name": _vault_name(rule.vault_id),
            "vault_id": rule.vault_id,
        },
    )


def closing_plan(b: PlanBuilder) -> bool:
    """When rules must close first (an earlier run's, or after a failed step), plan only their
    removal and say why; the rest of the plan comes back once they are gone."""
    carry = b.carry
    first = [r for r in carry.open_rules if r.earlier or carry.close_rules_first]
    if not first:
        return False
    for rule in first:
        _remove(b, rule, rule.finding)
        why = (
            f"an earlier run added {operator_rule(rule.address)} to vault {_vault_name(rule.vault_id)}'s "
            f"firewall and did not remove it (audit record {rule.audit_id or 'unknown'})"
            if rule.earlier
            else f"a step failed while {operator_rule(rule.address)} was open on vault "
            f"{_vault_name(rule.vault_id)}'s firewall"
        )
        b.notes.append(f"first: remove the temporary IP rule: {why}; the rest of the plan follows")
    return True


def plan_operator_network(b: PlanBuilder) -> None:
    """Warn on each data-plane step the vault will (or may) refuse; wrap them in a temporary IP rule
    for the operator's known address when an IP rule helps; remove every rule this session opened."""
    f, carry = b.f, b.carry
    v = f.vault
    planned = [s for _, _, s in b.steps if s.action is not None and s.action.data_plane]
    first_finding = planned[0].finding if planned else ""
    if v is not None and planned:
        refusal = data_plane_refusal(v, carry.operator_ip)
        address = carry.operator_ip
        opens = bool(refusal and refusal.ip_rule_helps and refusal.certain and address)
        if refusal is not None:
            warning = refusal.reason
            if opens:
                warning += " allow-operator-ip, planned before it, adds your address for the fix."
            for step in planned:
                b.amend(step.key, network=warning)
        if opens and address is not None:
            _allow(b, planned[0], address)
            _remove(b, OpenRule(v.id, address, finding=first_finding), first_finding)
    for rule in carry.open_rules:
        _remove(b, rule, first_finding or rule.finding)


def _allow(b: PlanBuilder, first: Step, address: str) -> None:
    """Plan the temporary rule before the first data-plane step (typed: it opens a firewall)."""
    v, key_url = b.f.vault, b.f.key_url
    assert v is not None
    rule = operator_rule(address)
    b.add(
        AllowOperatorIp(
            v.id,
            address,
            key_url.vault_url if key_url else "",
            key_url.key_name if key_url else "",
        ),
        first.finding,
        target=v.id,
        before={"ipRules": list(v.ip_rules)},
        after={"ipRules": [*v.ip_rules, rule]},
        values={"operator_rule": rule, "operator_ip": address},
        confirm_text=v.name,
    )
