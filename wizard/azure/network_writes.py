"""The operator's temporary way through a vault firewall: add their address as ONE /32 IP rule for
the duration of a fix, then remove exactly that rule. Every other rule, the default action and the
bypass are read first and sent back as they were (a bypass the vault does not name, as its default
AzureServices). Called by GatewayWriter.apply, which guards and audits each; the add's result
record carries its undo, so an interrupted run leaves the way back.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from wizard.azure.errors import translate
from wizard.azure.states import vault_state
from wizard.azure.vault_writes import patch_network_acls
from wizard.domain.access import NetworkAcls, effective_bypass
from wizard.domain.actions import AllowOperatorIp, RemoveOperatorIp
from wizard.domain.errors import Forbidden, WriteRefused
from wizard.domain.network import NETWORK_REFUSALS, address_in_rules, is_operator_rule
from wizard.domain.results import WriteResult

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

# UNVERIFIED: how long a new ipRule takes to apply on the real service (Azure documents changes
# to network rules as taking effect within minutes; the emulator applies them at once). After the
# PATCH the wizard probes the data plane until the refusal is gone, at most this long; timing
# the first data-plane success after an ipRules PATCH on a live vault would settle the bound.
SETTLE_SECONDS = {"azure": 180.0}
SETTLE_SECONDS_OTHERWISE = 2.0  # the emulator applies rules at once; tests of a slow Azure wait this long
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 15.0

State = dict[str, Any]


def _acls(before: State, ip_rules: list[str]) -> NetworkAcls:
    """The rule set as read, with `ip_rules` in place of its IP rules (a bypass the vault does not
    name is sent as the spec's default, AzureServices: the same rule set)."""
    return NetworkAcls(
        effective_bypass(before.get("bypass")),
        str(before.get("defaultAction") or "Allow"),
        tuple(ip_rules),
        tuple(before.get("virtualNetworkRules", [])),
    )


def _request(vault_id: str, acls: NetworkAcls) -> State:
    """The PATCH as the audit log and the report show it."""
    return {
        "method": "PATCH",
        "url": f"{vault_id}?api-version=2026-05-15",
        "body": {"properties": {"networkAcls": acls.to_request()}},
    }


def probe_data_plane(writer: GatewayWriter, a: AllowOperatorIp) -> str:
    """Read the key on the data plane until the vault's network stops refusing it, within a bound.

    Any answer that is not a network refusal (200, also for a disabled key; 404; a 403 for a missing
    permission) means the network lets the operator in."""
    if not a.vault_url or not a.key_name:
        return "not probed"
    client = writer.factory.keys(a.vault_url)
    bound = SETTLE_SECONDS.get(writer.gateway.mode, SETTLE_SECONDS_OTHERWISE)
    deadline = time.monotonic() + bound
    pause, waiter = FIRST_PAUSE, threading.Event()
    while True:
        try:
            client.get_key(a.key_name)
            return "reachable"
        except Exception as exc:
            error = translate(exc, action=f"read key {a.key_name}", needs="")
            if not (isinstance(error, Forbidden) and error.inner_code in NETWORK_REFUSALS):
                return "reachable (the key read was answered: " + " ".join(str(error).split())[:160] + ")"
            if time.monotonic() >= deadline:
                return f"still refused ({error.inner_code}) {bound:.0f} s after the rule was added"
        waiter.wait(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, LONGEST_PAUSE)


def allow_operator_ip(writer: GatewayWriter, a: AllowOperatorIp) -> WriteResult:
    """Add the operator's /32, keeping every rule; then wait (bounded) until the data plane lets them in."""
    probed: list[str] = []

    def before() -> State:
        state = vault_state(writer.gateway.get_vault(a.vault_id))
        if str(state.get("publicNetworkAccess") or "").lower() == "disabled":
            raise WriteRefused(
                "public network access to the vault is Disabled: an IP rule does not let anyone in "
                "(only a private endpoint does), so none is added"
            )
        return state

    def done(b: State) -> str | None:
        if str(b.get("defaultAction") or "Allow").lower() != "deny":
            return "the firewall lets every address in (defaultAction Allow)"
        if address_in_rules(a.address, b.get("ipRules", [])):
            return f"{a.address} is already in the vault's IP rules"
        return None

    def added(b: State) -> NetworkAcls:
        return _acls(b, [*b.get("ipRules", []), a.ip_rule])

    def act(b: State) -> Any:
        result = patch_network_acls(writer, a.vault_id, added(b))
        probed.append(probe_data_plane(writer, a))
        return result

    def after() -> State:
        state = vault_state(writer.gateway.get_vault(a.vault_id))
        return state | ({"dataPlane": probed[0]} if probed else {})

    return writer.audited(
        a.remediation,
        a.vault_id,
        lambda b: _request(a.vault_id, added(b)),
        before=before,
        done=done,
        act=act,
        after=after,
        undo={"remediation": RemoveOperatorIp.remediation, "vaultId": a.vault_id, "address": a.address},
    )


def remove_operator_ip(writer: GatewayWriter, a: RemoveOperatorIp) -> WriteResult:
    """Remove exactly the operator's /32; every other rule is sent back as it was."""

    def state() -> State:
        return vault_state(writer.gateway.get_vault(a.vault_id))

    def kept(b: State) -> list[str]:
        return [r for r in b.get("ipRules", []) if not is_operator_rule(r, a.address)]

    return writer.audited(
        a.remediation,
        a.vault_id,
        lambda b: _request(a.vault_id, _acls(b, kept(b))) | ({"undoes": a.undoes} if a.undoes else {}),
        before=state,
        done=lambda b: None if len(kept(b)) < len(b.get("ipRules", [])) else f"{a.ip_rule} is not there",
        act=lambda b: patch_network_acls(writer, a.vault_id, _acls(b, kept(b))),
        after=state,
        undoes=a.undoes or None,
    )
