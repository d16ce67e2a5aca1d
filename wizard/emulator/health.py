"""The emulator's own verdict on each cluster: can its identity unwrap its key? (Never the engine's code.)"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from wizard.emulator.model import Cluster, Key, RoleAssignment, RoleDefinition, State, Vault
from wizard.emulator.roles import (
    BUILT_IN_ROLES,
    NEEDED_DATA_ACTIONS,
    NEEDED_KEY_PERMISSIONS,
    granted_data_actions,
)

REASONS = {
    "provisioning-failed": "provisioning failed and the cluster never came up; it stays so until deleted",
    "identity-not-attached": "the key-encryption identity is not in the cluster's identity list",
    "identity-missing": "the key-encryption identity resource does not exist",
    "identity-principal-changed": "the identity now has a different principal than the one the cluster holds",
    "vault-missing": "the vault named in the key URL does not exist (nor is it soft-deleted)",
    "vault-soft-deleted": "the vault named in the key URL is soft-deleted",
    "vault-network-closed": "the vault firewall keeps trusted Azure services out",
    "key-missing": "the key (or the key version) in the key URL does not exist",
    "key-soft-deleted": "the key is soft-deleted",
    "key-disabled": "the key is disabled",
    "key-not-yet-active": "the key's activation date is in the future",
    "key-expired": "the key has expired",
    "key-type-unsupported": "the key cannot wrap: it is not an RSA or RSA-HSM key of 2048 bits or more",
    "no-key-permission": "the identity's principal cannot get, wrap and unwrap with the key",
    "key-url-invalid": "the key URL is not a Key Vault key URL",
}


@dataclass(frozen=True)
class Verdict:
    """Whether a cluster can use its key, and every reason it cannot that could be evaluated."""

    can_use_key: bool
    reasons: tuple[str, ...]
    failed: bool = False


def role_definition(state: State, role_definition_id: str) -> RoleDefinition | None:
    """A built-in or custom role by its id (only the trailing GUID matters)."""
    guid = role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
    roles = state.memoised(
        "roles", lambda: {r.guid.lower(): r for r in (*BUILT_IN_ROLES, *state.custom_roles)}
    )
    return roles.get(guid)


def parse_key_url(url: str) -> tuple[str, str, str | None] | None:
    """(vault name, key name, version or None) from https://<vault>.vault.azure.net/keys/<name>[/<ver>]."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme != "https" or "." not in host or len(segments) not in (2, 3) or segments[0] != "keys":
        return None
    return host.split(".")[0], segments[1], segments[2] if len(segments) == 3 else None


def network_lets_trusted_services_in(vault: Vault) -> bool:
    """Open to all networks, or trusted Microsoft services bypass the firewall (the default bypass).

    The Key Vault spec: `bypass` "If not specified the default is 'AzureServices'", and with
    publicNetworkAccess Disabled "all traffic except private endpoint traffic and that that originates
    from trusted services will be blocked". So a vault with no networkAcls lets trusted services in
    even with public access disabled. UNVERIFIED: that an explicit `bypass: None` also keeps trusted
    services out when public access is Disabled (a CMK cluster on such a vault turning Inaccessible
    would settle it); the emulator says it does.
    """
    acls = vault.network_acls
    open_to_all = vault.public_network_access.lower() != "disabled" and (
        acls is None or acls.default_action.lower() == "allow"
    )
    bypass = acls.bypass if acls is not None else "AzureServices"
    return open_to_all or bypass.lower() == "azureservices"


def key_can_wrap(key: Key) -> bool:
    """DocumentDB CMK needs an RSA or RSA-HSM key of 2048 bits or more (EC and oct keys cannot wrap)."""
    return key.kty.upper() in ("RSA", "RSA-HSM") and key.size >= 2048


class Lookups:
    """The estate indexed for one evaluation of every cluster: O(1) per cluster instead of a scan.

    Built when the estate changes (a write, a mutation), never per request."""

    def __init__(self, state: State) -> None:
        self.identities = {i.id.lower(): i for i in state.identities}
        self.vaults: dict[str, Vault] = {}
        for vault in state.vaults:
            self.vaults.setdefault(vault.name.lower(), vault)
        self.assignments: dict[str, list[RoleAssignment]] = {}
        for assignment in state.role_assignments:
            self.assignments.setdefault(assignment.principal_id.lower(), []).append(assignment)
        self.roles = {r.guid.lower(): r for r in (*BUILT_IN_ROLES, *state.custom_roles)}

    def role(self, role_definition_id: str) -> RoleDefinition | None:
        """A built-in or custom role by its id (only the trailing GUID matters)."""
        return self.roles.get(role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower())


def _scopes_that_count(vault: Vault, key_name: str) -> set[str]:
    return {
        s.lower()
        for s in (
            f"/subscriptions/{vault.subscription_id}",
            f"/subscriptions/{vault.subscription_id}/resourceGroups/{vault.resource_group}",
            vault.id,
            f"{vault.id}/keys/{key_name}",
        )
    }


def principal_can_use_key(
    state: State,
    vault: Vault,
    key_name: str,
    principal_id: str,
    lookups: Lookups | None = None,
    now: float | None = None,
) -> bool:
    """RBAC vault: assigned roles cover read+wrap+unwrap; access-policy vault: get/list/wrap/unwrap.
    At `now`, a grant still propagating (`effective_at` later) does not count yet."""
    pid = principal_id.lower()
    if vault.rbac:
        index = lookups or Lookups(state)
        scopes = _scopes_that_count(vault, key_name)
        granted: set[str] = set()
        for assignment in index.assignments.get(pid, ()):
            if assignment.scope.lower().rstrip("/") not in scopes:
                continue
            if now is not None and assignment.effective_at > now:
                continue
            role = index.role(assignment.role_definition_id)
            if role is not None:
                granted |= granted_data_actions(role, NEEDED_DATA_ACTIONS)
        return granted >= set(NEEDED_DATA_ACTIONS)
    permissions = {
        p.lower()
        for policy in vault.access_policies
        if policy.object_id.lower() == pid and (now is None or policy.effective_at <= now)
        for p in policy.keys
    }
    return "all" in permissions or permissions >= NEEDED_KEY_PERMISSIONS


def evaluate(state: State, cluster: Cluster, now: float, lookups: Lookups | None = None) -> Verdict:
    """Apply the health rule to one cluster; lists every reason that holds where it can be judged."""
    reasons: list[str] = []
    failed = cluster.never_came_up
    if failed:
        reasons.append("provisioning-failed")
    if not cluster.key_url:
        return Verdict(not failed, tuple(reasons), failed)
    index = lookups or Lookups(state)
    principal: str | None = None
    identity_id = cluster.key_identity_id or ""
    attached = cluster.attached(identity_id)
    identity = index.identities.get(identity_id.lower())
    if attached is None:
        reasons.append("identity-not-attached")
    if identity is None:
        reasons.append("identity-missing")
    else:
        principal = identity.principal_id
        if attached is not None and attached.principal_id.lower() != identity.principal_id.lower():
            reasons.append("identity-principal-changed")
    parsed = parse_key_url(cluster.key_url)
    if parsed is None:
        reasons.append("key-url-invalid")
        return Verdict(False, tuple(reasons), failed)
    vault_name, key_name, version = parsed
    vault = index.vaults.get(vault_name.lower())
    if vault is None:
        reasons.append("vault-missing")
        return Verdict(False, tuple(reasons), failed)
    if not vault.live:
        reasons.append("vault-soft-deleted")
        return Verdict(False, tuple(reasons), failed)
    if not network_lets_trusted_services_in(vault):
        reasons.append("vault-network-closed")
    key = vault.key(key_name)
    key_version = key.version(version) if key is not None else None
    if key is None or key_version is None:
        reasons.append("key-missing")
    elif key.deleted_on is not None:
        reasons.append("key-soft-deleted")
    else:
        if not key_version.enabled:
            reasons.append("key-disabled")
        if key_version.not_before is not None and key_version.not_before > now:
            reasons.append("key-not-yet-active")
        if key_version.expires is not None and key_version.expires <= now:
            reasons.append("key-expired")
        if not key_can_wrap(key):
            reasons.append("key-type-unsupported")
    if principal is not None and not principal_can_use_key(state, vault, key_name, principal, index, now):
        reasons.append("no-key-permission")
    usable = [r for r in reasons if r != "provisioning-failed"]
    return Verdict(not usable and not failed, tuple(reasons), failed)


def _next_date(state: State, now: float) -> float:
    """The first moment after `now` a key becomes active or expires, or a grant takes effect:
    verdicts may change then."""
    moments: list[float] = [
        float(moment)
        for vault in state.vaults
        for key in vault.keys.values()
        for version in key.versions
        for moment in (version.not_before, version.expires)
        if moment is not None and moment > now
    ]
    moments += [a.effective_at for a in state.role_assignments if a.effective_at > now]
    moments += [p.effective_at for v in state.vaults for p in v.access_policies if p.effective_at > now]
    return float(min(moments, default=math.inf))


def refresh(state: State, now: float, monotonic: float, revalidate_seconds: float) -> dict[str, Verdict]:
    """Move every cluster's state: inaccessible at once, accessible after `revalidate_seconds` of being able.

    A cluster that has not come up (never did, or is still being created) keeps its status; a stopped
    one stays Stopped (not revalidated until it is started). A running one shows lost access as
    clusterStatus `Inaccessible` in the `documented` status mode; in `arm-enum` mode its clusterStatus
    stays `Ready` (the spec's MongoClusterStatus has no Inaccessible) and only Resource Health tells.
    """
    lookups = Lookups(state)
    verdicts = {cluster.id: evaluate(state, cluster, now, lookups) for cluster in state.clusters}
    _move(state, verdicts, now, monotonic, revalidate_seconds)
    return verdicts


def _move(
    state: State, verdicts: dict[str, Verdict], now: float, monotonic: float, revalidate_seconds: float
) -> list[Cluster]:
    """Apply the verdicts to the clusters' states; returns those still waiting to turn Ready."""
    waiting: list[Cluster] = []
    documented = state.status_mode == "documented"
    for cluster in state.clusters:
        verdict = verdicts[cluster.id]
        if verdict.failed or not cluster.came_up:
            continue
        if cluster.stopped:
            cluster.status = "Stopped"
            continue
        if not verdict.can_use_key:
            cluster.able_since = None
            _set_inaccessible(cluster, True, now)
        else:
            if cluster.able_since is None:
                cluster.able_since = monotonic
            if monotonic - cluster.able_since >= revalidate_seconds:
                _set_inaccessible(cluster, False, now)
            elif cluster.inaccessible:
                waiting.append(cluster)
        cluster.status = "Inaccessible" if cluster.inaccessible and documented else "Ready"
    return waiting


class HealthTracker:
    """The verdicts, recomputed when the estate changes or a key date passes, not on every request.

    Between changes only the clusters waiting out their revalidation delay are looked at."""

    def __init__(self) -> None:
        self._verdicts: dict[str, Verdict] = {}
        self._stale = True
        self._valid_until = -math.inf
        self._judged_at = -math.inf
        self._waiting: list[Cluster] = []
        self.recomputed = 0
        """How many full evaluations ran (tests check requests do not cause them)."""

    def changed(self) -> None:
        """The estate changed: the next refresh evaluates every cluster again."""
        self._stale = True

    def refresh(
        self, state: State, now: float, monotonic: float, revalidate_seconds: float
    ) -> dict[str, Verdict]:
        """The verdict per cluster, cluster states moved; cheap unless something changed."""
        backwards = now < self._judged_at  # an injected clock (replay) may go back
        if self._stale or backwards or now >= self._valid_until or len(self._verdicts) != len(state.clusters):
            lookups = Lookups(state)
            self._verdicts = {c.id: evaluate(state, c, now, lookups) for c in state.clusters}
            self._waiting = _move(state, self._verdicts, now, monotonic, revalidate_seconds)
            self._valid_until = _next_date(state, now)
            self._stale = False
            self._judged_at = now
            self.recomputed += 1
        elif self._waiting:
            documented = state.status_mode == "documented"
            still: list[Cluster] = []
            for cluster in self._waiting:
                able = cluster.able_since
                if able is not None and monotonic - able >= revalidate_seconds:
                    _set_inaccessible(cluster, False, now)
                    cluster.status = "Ready"
                elif able is not None:
                    still.append(cluster)
                    cluster.status = "Inaccessible" if documented else "Ready"
            self._waiting = still
        return self._verdicts


def _set_inaccessible(cluster: Cluster, inaccessible: bool, now: float) -> None:
    """Change the service's view; the time moves only when the view changes (Resource Health occuredTime)."""
    if cluster.inaccessible != inaccessible:
        cluster.inaccessible = inaccessible
        cluster.availability_since = now
