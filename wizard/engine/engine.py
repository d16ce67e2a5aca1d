"""The sans-I/O engine: from what Azure answered so far, which reads come next and what is wrong.

The runner feeds in outcomes; `plan` says which reads can start (every read whose inputs are
known, so independent ones run concurrently); `assess` turns outcomes into check results and
findings. Nothing here performs I/O, so every branch is unit-testable with plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wizard.domain.access import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    KEY_PERMISSION_NAMES,
    REQUIRED_KEY_PERMISSIONS,
    key_permissions_of,
    scope_covers,
)
from wizard.domain.catalog import load_catalog, render
from wizard.domain.errors import BadInput, Forbidden, GatewayError, NotFound
from wizard.domain.ids import KeyUrl, parse_key_url
from wizard.domain.models import (
    CheckResult,
    CheckStatus,
    ClusterFacts,
    DeletedKeyFacts,
    DeletedVaultFacts,
    Finding,
    IdentityFacts,
    KeyFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    Severity,
    VaultFacts,
    VaultRef,
)
from wizard.engine.roles import (
    KNOWN_INSUFFICIENT_ROLES,
    KNOWN_SUFFICIENT_ROLES,
    covers_key_use,
    missing_data_actions,
)
from wizard.engine.tree import Read, ReadKind, load_tree

EXPIRY_WARNING = timedelta(days=30)
SUPPORTED_KTY = {"rsa", "rsa-hsm"}
SUPPORTED_SIZES = {2048, 3072, 4096}


@dataclass(frozen=True)
class Outcome:
    """What one read returned: a value (possibly None for 'looked, found nothing') or an error."""

    value: Any = None
    error: GatewayError | None = None
    duration_ms: int = 0


Known = Mapping[Read, Outcome]


@dataclass(frozen=True)
class Assessment:
    """Every check's state and every finding, for one moment of a diagnosis."""

    checks: tuple[CheckResult, ...]
    findings: tuple[Finding, ...]

    @property
    def complete(self) -> bool:
        """No check is still waiting for Azure."""
        return all(c.status.done for c in self.checks)


def key_url_of(cluster: ClusterFacts) -> KeyUrl | None:
    """The cluster's key URL parsed, or None when absent or malformed."""
    if not cluster.key_url:
        return None
    try:
        return parse_key_url(cluster.key_url)
    except BadInput:
        return None


def vault_lookup_read(cluster: ClusterFacts, key: KeyUrl) -> Read:
    """Find the key's vault by name in every subscription the operator sees (Resource Graph)."""
    return Read(ReadKind.VAULT_LOOKUP, (key.vault_name,))


SUBSCRIPTIONS_READ = Read(ReadKind.SUBSCRIPTIONS, ())
NEEDS_SUBSCRIPTIONS = "Reader on the subscriptions to search (Resource Graph shows only what you can read)"


def search_subscriptions(cluster: ClusterFacts, known: Known) -> list[str]:
    """Where to look for a vault Resource Graph does not show: the cluster's subscription at once,
    then every other subscription in sight once they are known (a key vault often lives in
    another subscription than its cluster)."""
    listed = _value(known, SUBSCRIPTIONS_READ)
    own = cluster.subscription_id.lower()
    others = sorted({str(s).lower() for s in listed} - {own}) if isinstance(listed, list) else []
    return [cluster.subscription_id, *others]


def vault_search_reads(cluster: ClusterFacts, key: KeyUrl, known: Known) -> list[Read]:
    """Look again through ARM, subscription by subscription: Resource Graph can lag minutes."""
    return [
        Read(ReadKind.VAULT_SEARCH, (key.vault_name, sub)) for sub in search_subscriptions(cluster, known)
    ]


def live_vault_searches(cluster: ClusterFacts, key: KeyUrl, known: Known) -> list[Read]:
    """Everything a live vault Resource Graph missed is looked for with: the list of
    subscriptions, then an ARM search in each."""
    return [SUBSCRIPTIONS_READ, *vault_search_reads(cluster, key, known)]


def vault_ref_of(cluster: ClusterFacts, key: KeyUrl, known: Known) -> VaultRef | None:
    """The vault as found by Resource Graph, else by an ARM search."""
    for read in (vault_lookup_read(cluster, key), *vault_search_reads(cluster, key, known)):
        value = _value(known, read)
        if isinstance(value, VaultRef):
            return value
    return None


def key_read(vault_id: str, key: KeyUrl) -> Read:
    """The key version the cluster uses: the one its URL names, else the latest."""
    return Read(ReadKind.KEY, (vault_id, key.key_name, key.version or ""))


def deleted_vault_reads(cluster: ClusterFacts, key: KeyUrl, ref: VaultRef | None, known: Known) -> list[Read]:
    """Where to look for the vault among deleted ones: the subscription where Resource Graph last
    saw it; else the same subscriptions as the ARM search (Resource Graph drops a deleted vault)."""
    if ref is not None:
        return [
            Read(
                ReadKind.DELETED_VAULT,
                (key.vault_name, ref.location or cluster.location, ref.subscription_id),
            )
        ]
    return [
        Read(ReadKind.DELETED_VAULT, (key.vault_name, cluster.location, sub))
        for sub in search_subscriptions(cluster, known)
    ]


def deleted_vault_of(
    cluster: ClusterFacts, key: KeyUrl, ref: VaultRef | None, known: Known
) -> DeletedVaultFacts | None:
    """The soft-deleted vault, wherever it was found."""
    for read in deleted_vault_reads(cluster, key, ref, known):
        value = _value(known, read)
        if isinstance(value, DeletedVaultFacts):
            return value
    return None


def _value(known: Known, read: Read) -> Any:
    outcome = known.get(read)
    return None if outcome is None or outcome.error else outcome.value


def _cluster(known: Known, cluster_id: str) -> ClusterFacts | None:
    value = _value(known, Read(ReadKind.CLUSTER, (cluster_id,)))
    return value if isinstance(value, ClusterFacts) else None


def _access_principal(cluster: ClusterFacts, known: Known) -> str | None:
    """The principal whose access matters: the identity's current one, else the remembered one."""
    if not cluster.key_identity_id:
        return None
    outcome = known.get(Read(ReadKind.IDENTITY, (cluster.key_identity_id,)))
    if outcome is not None and isinstance(outcome.value, IdentityFacts):
        return outcome.value.principal_id
    if outcome is not None and isinstance(outcome.error, NotFound):
        return None
    remembered = cluster.attached(cluster.key_identity_id)
    return remembered.principal_id if remembered else None


def _remembered_principal(cluster: ClusterFacts) -> str | None:
    if not cluster.key_identity_id:
        return None
    remembered = cluster.attached(cluster.key_identity_id)
    return remembered.principal_id if remembered else None


def plan(cluster_id: str, known: Known) -> list[Read]:
    """Every read whose inputs are known now; the runner starts those not yet started."""
    cluster_read = Read(ReadKind.CLUSTER, (cluster_id,))
    wanted = [cluster_read]
    cluster = _cluster(known, cluster_id)
    if cluster is None or not cluster.is_cmk:
        return wanted
    if cluster.key_identity_id:
        wanted.append(Read(ReadKind.IDENTITY, (cluster.key_identity_id,)))
    key = key_url_of(cluster)
    if key is None:
        return wanted
    lookup = vault_lookup_read(cluster, key)
    wanted.append(lookup)
    if lookup not in known or known[lookup].error:
        return wanted
    ref = vault_ref_of(cluster, key, known)
    if not isinstance(known[lookup].value, VaultRef):
        wanted += [*live_vault_searches(cluster, key, known), *deleted_vault_reads(cluster, key, None, known)]
    if ref is None:
        return wanted
    vault_read = Read(ReadKind.VAULT, (ref.id,))
    the_key = key_read(ref.id, key)
    wanted += [vault_read, the_key]
    if vault_read in known and isinstance(known[vault_read].error, NotFound):
        wanted += deleted_vault_reads(cluster, key, ref, known)
        return wanted
    if the_key in known and isinstance(known[the_key].error, NotFound):
        wanted.append(Read(ReadKind.DELETED_KEY, (key.vault_url, key.key_name)))
    vault = _value(known, vault_read)
    if isinstance(vault, VaultFacts) and not vault.rbac_authorization:
        return wanted
    principal = _access_principal(cluster, known)
    remembered = _remembered_principal(cluster)
    identity_pending = Read(ReadKind.IDENTITY, (cluster.key_identity_id or "",)) not in known
    candidates = [principal] + ([remembered] if identity_pending else [])
    for pid in dict.fromkeys(p for p in candidates if p):
        assignments_read = Read(ReadKind.ROLE_ASSIGNMENTS, (ref.id, pid))
        wanted.append(assignments_read)
        assignments = _value(known, assignments_read)
        if pid != principal or not isinstance(assignments, list):
            return wanted
        covering = _applicable(assignments, ref.id, key.key_name, pid)
        if any(a.role_guid in KNOWN_SUFFICIENT_ROLES for a in covering):
            continue
        for a in covering:
            if a.role_guid not in KNOWN_INSUFFICIENT_ROLES:
                wanted.append(Read(ReadKind.ROLE_DEFINITION, (a.role_definition_id,)))
    return list(dict.fromkeys(wanted))


def _applicable(
    assignments: list[RoleAssignmentFacts], vault_id: str, key_name: str, principal_id: str
) -> list[RoleAssignmentFacts]:
    """Assignments that reach this principal (directly, or through a group: `assignedTo` returns
    those) at a scope that covers the key: management group, subscription, group, vault, key."""
    key_scope = f"{vault_id}/keys/{key_name}"
    return [
        a
        for a in assignments
        if (a.principal_id.lower() == principal_id.lower() or (a.principal_type or "") == "Group")
        and scope_covers(a.scope, key_scope)
    ]


@dataclass
class _Verdict:
    status: CheckStatus
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    findings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    needs: str = ""
    reads: list[Read] = field(default_factory=list)


class _Context:
    """Everything the checks need, derived once from the outcomes so far."""

    def __init__(self, cluster_id: str, known: Known, in_flight: set[Read], now: datetime):
        self.cluster_id = cluster_id
        self.known = known
        self.in_flight = in_flight
        self.now = now
        self.cluster_read = Read(ReadKind.CLUSTER, (cluster_id,))
        self.cluster = _cluster(known, cluster_id)
        self.key = key_url_of(self.cluster) if self.cluster else None

    def waiting(self, read: Read) -> _Verdict | None:
        """A verdict for a read that has not answered or failed; None once it has a value."""
        outcome = self.known.get(read)
        if outcome is None:
            status = CheckStatus.RUNNING if read in self.in_flight else CheckStatus.PENDING
            return _Verdict(status, "waiting for Azure", reads=[read])
        if outcome.error is None or isinstance(outcome.error, NotFound):
            return None
        return _unknown_from(outcome.error, read)

    def identity_read(self) -> Read | None:
        if not self.cluster or not self.cluster.key_identity_id:
            return None
        return Read(ReadKind.IDENTITY, (self.cluster.key_identity_id,))

    def lookup_read(self) -> Read | None:
        return vault_lookup_read(self.cluster, self.key) if self.cluster and self.key else None

    def vault_ref(self) -> VaultRef | None:
        return vault_ref_of(self.cluster, self.key, self.known) if self.cluster and self.key else None

    def searching(self) -> _Verdict | None:
        """While Resource Graph found nothing and the ARM searches (and the list of subscriptions
        to search) have not all answered: wait for them."""
        if not self.cluster or not self.key or self.vault_ref() is not None:
            return None
        for read in live_vault_searches(self.cluster, self.key, self.known):
            waiting = self.waiting(read)
            if waiting is not None and not waiting.status.done:
                return waiting
        return None

    def vault_read(self) -> Read | None:
        ref = self.vault_ref()
        return Read(ReadKind.VAULT, (ref.id,)) if ref else None

    def vault(self) -> VaultFacts | None:
        read = self.vault_read()
        value = _value(self.known, read) if read else None
        return value if isinstance(value, VaultFacts) else None

    def identity(self) -> IdentityFacts | None:
        read = self.identity_read()
        value = _value(self.known, read) if read else None
        return value if isinstance(value, IdentityFacts) else None

    def identity_deleted(self) -> bool:
        read = self.identity_read()
        outcome = self.known.get(read) if read else None
        return outcome is not None and isinstance(outcome.error, NotFound)

    def identity_unreadable(self) -> bool:
        """The identity read failed for a reason other than 'it does not exist'."""
        read = self.identity_read()
        outcome = self.known.get(read) if read else None
        return outcome is not None and outcome.error is not None and not isinstance(outcome.error, NotFound)

    def identity_recreated(self) -> bool:
        identity = self.identity()
        remembered = _remembered_principal(self.cluster) if self.cluster else None
        return bool(identity and remembered and identity.principal_id.lower() != remembered.lower())

    def key_read(self) -> Read | None:
        ref = self.vault_ref()
        return key_read(ref.id, self.key) if ref and self.key else None

    def key_facts(self) -> KeyFacts | None:
        read = self.key_read()
        value = _value(self.known, read) if read else None
        return value if isinstance(value, KeyFacts) else None

    def base(self) -> dict[str, Any]:
        """Values every template may use."""
        c = self.cluster
        values: dict[str, Any] = {"cluster_id": self.cluster_id}
        if c:
            values.update(
                cluster_name=c.name,
                cluster_status=c.cluster_status,
                provisioning_state=c.provisioning_state,
                key_url=c.key_url,
                identity_id=c.key_identity_id,
                location=c.location,
                cluster_location=c.location,
                resource_group=c.resource_group,
                subscription_id=c.subscription_id,
                identity_name=(c.key_identity_id or "").rsplit("/", 1)[-1],
            )
        if self.key:
            values.update(
                vault_name=self.key.vault_name, key_name=self.key.key_name, vault_url=self.key.vault_url
            )
        vault = self.vault()
        if vault:
            values.update(vault_id=vault.id, vault_location=vault.location, vault_tenant=vault.tenant_id)
        return values


def _unknown_from(error: GatewayError, read: Read) -> _Verdict:
    if isinstance(error, Forbidden):
        detail = f"you may not read this: {error}"
        return _Verdict(CheckStatus.UNKNOWN, detail, needs=error.needs, reads=[read])
    return _Verdict(CheckStatus.UNKNOWN, f"Azure did not answer: {error}", reads=[read])


def _skip(reason: str) -> _Verdict:
    return _Verdict(CheckStatus.SKIPPED, reason)


def _gate_cluster(ctx: _Context) -> _Verdict | None:
    """Checks below the cluster wait for it, and do not apply to non-CMK clusters."""
    waiting = ctx.waiting(ctx.cluster_read)
    if waiting:
        return waiting if not waiting.status.done else _skip("the cluster could not be read")
    if ctx.cluster is None:
        return _skip("the cluster does not exist")
    if not ctx.cluster.is_cmk:
        return _skip("the cluster does not use a customer-managed key")
    return None


def _gate_read(ctx: _Context, read: Read | None, absent: str) -> _Verdict | Read:
    """A check waits for the cluster, then for its read; it gets the read back once answered."""
    gate = _gate_cluster(ctx)
    if gate:
        return gate
    if read is None:
        return _skip(absent)
    return ctx.waiting(read) or read


def _gate_identity(ctx: _Context) -> _Verdict | Read:
    """Identity checks wait for the identity read."""
    return _gate_read(ctx, ctx.identity_read(), "the cluster names no key identity")


def _gate_lookup(ctx: _Context) -> _Verdict | Read:
    """Vault checks wait for the Resource Graph lookup, and for the ARM search when it found nothing."""
    lookup = _gate_read(ctx, ctx.lookup_read(), "the cluster's key URL cannot be parsed")
    if isinstance(lookup, _Verdict):
        return lookup
    return ctx.searching() or lookup


def _located(ctx: _Context) -> _Verdict | Read:
    """Like `_gate_lookup`, but a lookup the operator could not make skips instead of repeating it."""
    lookup = _gate_lookup(ctx)
    if isinstance(lookup, _Verdict) and lookup.status == CheckStatus.UNKNOWN:
        return _skip("the vault could not be located")
    return lookup


def _answered(ctx: _Context, read: Read | None, fact: Callable[[], object], absent: str) -> _Verdict | None:
    """Wait for `read`; once answered, skip the check when it found nothing (None: go on)."""
    assert read is not None
    waiting = ctx.waiting(read)
    if waiting:
        return waiting
    return _skip(absent) if fact() is None else None


def _gate_vault(ctx: _Context) -> _Verdict | None:
    """Checks on the vault wait for the lookup and the vault itself."""
    lookup = _located(ctx)
    if isinstance(lookup, _Verdict):
        return lookup
    if ctx.vault_ref() is None:
        return _skip("the vault does not exist")
    return _answered(ctx, ctx.vault_read(), ctx.vault, "the vault does not exist")


def check_cluster_load(ctx: _Context) -> _Verdict:
    waiting = ctx.waiting(ctx.cluster_read)
    if waiting:
        return waiting
    if ctx.cluster is None:
        return _Verdict(
            CheckStatus.FAIL,
            "no such cluster",
            findings=[("CLUSTER_NOT_FOUND", {})],
            reads=[ctx.cluster_read],
        )
    c = ctx.cluster
    evidence = {
        "location": c.location,
        "keyUrl": c.key_url,
        "identityId": c.key_identity_id,
        "replicaRole": c.replica_role,
    }
    if not c.is_cmk:
        return _Verdict(
            CheckStatus.PASS,
            "service-managed key",
            evidence,
            [("CLUSTER_NOT_CMK", {})],
            reads=[ctx.cluster_read],
        )
    return _Verdict(CheckStatus.PASS, f"CMK cluster in {c.location}", evidence, reads=[ctx.cluster_read])


def check_cluster_state(ctx: _Context) -> _Verdict:
    gate = _gate_cluster(ctx)
    if gate:
        return gate
    c = ctx.cluster
    assert c is not None
    evidence = {"clusterStatus": c.cluster_status, "provisioningState": c.provisioning_state}
    status, prov = c.cluster_status.lower(), c.provisioning_state.lower()
    if status == "failed" or prov == "failed":
        return _Verdict(
            CheckStatus.FAIL,
            f"clusterStatus {c.cluster_status}, provisioningState {c.provisioning_state}",
            evidence,
            [("CLUSTER_PROVISIONING_FAILED", evidence)],
            reads=[ctx.cluster_read],
        )
    if status == "inaccessible":
        return _Verdict(
            CheckStatus.FAIL,
            "Inaccessible: denies all connections",
            evidence,
            [("CLUSTER_INACCESSIBLE", evidence)],
            reads=[ctx.cluster_read],
        )
    return _Verdict(CheckStatus.PASS, c.cluster_status, evidence, reads=[ctx.cluster_read])


def check_cluster_key_url(ctx: _Context) -> _Verdict:
    gate = _gate_cluster(ctx)
    if gate:
        return gate
    c = ctx.cluster
    assert c is not None
    evidence = {"keyEncryptionKeyUrl": c.key_url}
    if ctx.key is None:
        return _Verdict(
            CheckStatus.UNKNOWN,
            f"key URL cannot be parsed: {c.key_url!r}",
            evidence,
            reads=[ctx.cluster_read],
        )
    if ctx.key.version:
        evidence["versionless"] = ctx.key.versionless
        return _Verdict(
            CheckStatus.FAIL,
            f"versioned ({ctx.key.version})",
            evidence,
            [("CLUSTER_KEY_URL_VERSIONED", evidence)],
            reads=[ctx.cluster_read],
        )
    return _Verdict(CheckStatus.PASS, "versionless", evidence, reads=[ctx.cluster_read])


def check_identity_attached(ctx: _Context) -> _Verdict:
    gate = _gate_cluster(ctx)
    if gate:
        return gate
    c = ctx.cluster
    assert c is not None
    attached = [a.resource_id for a in c.attached_identities]
    evidence = {"keyIdentity": c.key_identity_id, "attached": attached}
    if c.key_identity_id and c.attached(c.key_identity_id):
        return _Verdict(CheckStatus.PASS, "attached", evidence, reads=[ctx.cluster_read])
    return _Verdict(
        CheckStatus.FAIL,
        "not in the cluster's identity list",
        evidence,
        [("IDENTITY_NOT_ATTACHED", evidence)],
        reads=[ctx.cluster_read],
    )


def check_identity_exists(ctx: _Context) -> _Verdict:
    read = _gate_identity(ctx)
    if isinstance(read, _Verdict):
        return read
    if ctx.identity_deleted():
        return _Verdict(
            CheckStatus.FAIL,
            "404: the identity was deleted",
            {"identityId": read.args[0]},
            [("IDENTITY_DELETED", {})],
            reads=[read],
        )
    identity = ctx.identity()
    assert identity is not None
    evidence = {
        "principalId": identity.principal_id,
        "clientId": identity.client_id,
        "location": identity.location,
    }
    return _Verdict(CheckStatus.PASS, f"principal {identity.principal_id}", evidence, reads=[read])


def check_identity_principal(ctx: _Context) -> _Verdict:
    read = _gate_identity(ctx)
    if isinstance(read, _Verdict):
        return read
    identity = ctx.identity()
    if identity is None:
        return _skip("the identity does not exist")
    assert ctx.cluster is not None
    remembered = _remembered_principal(ctx.cluster)
    evidence = {"principalId": identity.principal_id, "rememberedPrincipalId": remembered}
    if remembered is None:
        return _Verdict(
            CheckStatus.PASS, "the cluster reports no principal to compare", evidence, reads=[read]
        )
    if ctx.identity_recreated():
        values = {"principal_id": identity.principal_id, "remembered_principal_id": remembered}
        return _Verdict(
            CheckStatus.FAIL,
            "recreated: the principal changed",
            evidence,
            [("IDENTITY_RECREATED", values)],
            reads=[read],
        )
    return _Verdict(CheckStatus.PASS, "same principal", evidence, reads=[read])


def check_vault_exists(ctx: _Context) -> _Verdict:
    lookup = _gate_lookup(ctx)
    if isinstance(lookup, _Verdict):
        return lookup
    ref = ctx.vault_ref()
    if ref is None:
        return _Verdict(
            CheckStatus.FAIL,
            "not found in any subscription you can see",
            {"vaultName": lookup.args[0]},
            reads=[lookup],
        )
    vault_read = ctx.vault_read()
    assert vault_read is not None
    waiting = ctx.waiting(vault_read)
    if waiting:
        return waiting
    vault = ctx.vault()
    if vault is None:
        return _Verdict(
            CheckStatus.FAIL,
            "found by name but gone when read",
            {"vaultId": ref.id},
            reads=[lookup, vault_read],
        )
    evidence = {
        "vaultId": vault.id,
        "rbacAuthorization": vault.rbac_authorization,
        "location": vault.location,
    }
    return _Verdict(
        CheckStatus.PASS, vault.id.split("/resourceGroups/")[-1], evidence, reads=[lookup, vault_read]
    )


def check_vault_deleted(ctx: _Context) -> _Verdict:
    lookup = _located(ctx)
    if isinstance(lookup, _Verdict):
        return lookup
    ref = ctx.vault_ref()
    c, key = ctx.cluster, ctx.key
    assert c is not None
    assert key is not None
    if ref is not None:
        vault_read = ctx.vault_read()
        assert vault_read is not None
        waiting = ctx.waiting(vault_read)
        if waiting:
            return waiting if not waiting.status.done else _skip("the vault could not be read")
        if ctx.vault() is not None:
            return _skip("the vault is live")
    reads = deleted_vault_reads(c, key, ref, ctx.known)
    running = [v for v in map(ctx.waiting, reads) if v and not v.status.done]
    if running:
        return _Verdict(running[0].status, "waiting for Azure", reads=reads)
    deleted = deleted_vault_of(c, key, ref, ctx.known)
    if deleted is not None:
        evidence = {
            "deletionDate": _iso(deleted.deletion_date),
            "scheduledPurgeDate": _iso(deleted.scheduled_purge_date),
            "vaultId": deleted.vault_id,
            "purgeProtection": deleted.purge_protection,
        }
        values = {
            "deletion_date": _iso(deleted.deletion_date),
            "scheduled_purge_date": _iso(deleted.scheduled_purge_date),
            "vault_id": deleted.vault_id,
        }
        return _Verdict(
            CheckStatus.FAIL,
            "soft-deleted: recoverable",
            evidence,
            [("VAULT_SOFT_DELETED", values | evidence)],
            reads=[lookup, *reads],
        )
    # 'gone' only when every place it could be, live or deleted, was searched
    searched = reads if ref is not None else [*live_vault_searches(c, key, ctx.known), *reads]
    unanswered = [v for v in map(ctx.waiting, searched) if v]
    if ref is None and not isinstance(_value(ctx.known, SUBSCRIPTIONS_READ), list) and not unanswered:
        unanswered = [
            _Verdict(CheckStatus.UNKNOWN, "Resource Graph listed no subscriptions", needs=NEEDS_SUBSCRIPTIONS)
        ]
    if unanswered:
        first = unanswered[0]
        return _Verdict(
            CheckStatus.UNKNOWN,
            f"not every subscription could be searched: {first.detail}",
            needs="; ".join(dict.fromkeys(v.needs for v in unanswered if v.needs)),
            reads=[lookup, *searched],
        )
    subscriptions = [read.args[2] for read in reads]
    where = (
        f"subscription {subscriptions[0]}"
        if ref is not None
        else "the one subscription you can see"
        if len(subscriptions) == 1
        else f"any of the {len(subscriptions)} subscriptions you can see"
    )
    evidence = {"vaultName": key.vault_name, "searchedSubscriptions": ", ".join(subscriptions)}
    return _Verdict(
        CheckStatus.FAIL,
        "not soft-deleted either: purged, or out of your sight",
        evidence,
        [("VAULT_PURGED", evidence | {"searched": where})],
        reads=[lookup, *searched],
    )


def check_vault_network(ctx: _Context) -> _Verdict:
    gate = _gate_vault(ctx)
    if gate:
        return gate
    v = ctx.vault()
    assert v is not None
    evidence = {
        "publicNetworkAccess": v.public_network_access,
        "defaultAction": v.network_default_action,
        "bypass": v.network_bypass,
        "ipRules": list(v.ip_rules),
        "virtualNetworkRules": list(v.virtual_network_rules),
    }
    public_open = (v.public_network_access or "Enabled").lower() != "disabled" and (
        v.network_default_action is None or v.network_default_action.lower() == "allow"
    )
    trusted = (v.network_bypass or "").lower() == "azureservices"
    reads = [r for r in (ctx.vault_read(),) if r]
    if public_open:
        return _Verdict(CheckStatus.PASS, "public access from all networks", evidence, reads=reads)
    if trusted:
        return _Verdict(
            CheckStatus.PASS, "trusted Microsoft services may bypass the firewall", evidence, reads=reads
        )
    values = {
        "public_network_access": v.public_network_access,
        "default_action": v.network_default_action,
        "bypass": v.network_bypass,
    }
    return _Verdict(
        CheckStatus.FAIL,
        "closed to trusted Microsoft services",
        evidence,
        [("VAULT_FIREWALL_BLOCKS_SERVICE", values | evidence)],
        reads=reads,
    )


def check_vault_protection(ctx: _Context) -> _Verdict:
    gate = _gate_vault(ctx)
    if gate:
        return gate
    v = ctx.vault()
    assert v is not None
    evidence = {"softDelete": v.soft_delete, "purgeProtection": v.purge_protection}
    reads = [r for r in (ctx.vault_read(),) if r]
    if v.soft_delete is not False and v.purge_protection:
        return _Verdict(CheckStatus.PASS, "soft delete and purge protection on", evidence, reads=reads)
    values = {"soft_delete": v.soft_delete is not False, "purge_protection": bool(v.purge_protection)}
    return _Verdict(
        CheckStatus.FAIL,
        "purge protection off",
        evidence,
        [("VAULT_PURGE_PROTECTION_OFF", values)],
        reads=reads,
    )


def _region(name: str) -> str:
    return name.replace(" ", "").lower()


def check_vault_placement(ctx: _Context) -> _Verdict:
    gate = _gate_vault(ctx)
    if gate:
        return gate
    v, c = ctx.vault(), ctx.cluster
    assert v is not None
    assert c is not None
    identity = ctx.identity()
    evidence = {
        "vaultLocation": v.location,
        "clusterLocation": c.location,
        "vaultTenant": v.tenant_id,
        "identityTenant": identity.tenant_id if identity else None,
    }
    findings: list[tuple[str, dict[str, Any]]] = []
    if identity and identity.tenant_id.lower() != v.tenant_id.lower():
        findings.append(("VAULT_TENANT_MISMATCH", {"identity_tenant": identity.tenant_id}))
    if _region(v.location) != _region(c.location):
        findings.append(("VAULT_REGION_MISMATCH", {}))
    reads = [r for r in (ctx.vault_read(), ctx.identity_read()) if r]
    if findings:
        return _Verdict(
            CheckStatus.FAIL, "placement differs from the cluster's", evidence, findings, reads=reads
        )
    return _Verdict(CheckStatus.PASS, f"{v.location}, same tenant", evidence, reads=reads)


def _gate_access(ctx: _Context, rbac: bool) -> _Verdict | None:
    gate = _gate_vault(ctx)
    if gate:
        return gate
    v = ctx.vault()
    assert v is not None
    if v.rbac_authorization != rbac:
        return _skip("the vault uses " + ("RBAC" if v.rbac_authorization else "access policies"))
    identity_read = ctx.identity_read()
    if identity_read is None:
        return _skip("the cluster names no key identity")
    if ctx.identity_deleted():
        return _skip("the identity was deleted; a new one must be granted")
    outcome = ctx.known.get(identity_read)
    if outcome is None and ctx.cluster and _remembered_principal(ctx.cluster) is None:
        status = CheckStatus.RUNNING if identity_read in ctx.in_flight else CheckStatus.PENDING
        return _Verdict(status, "waiting for the identity", reads=[identity_read])
    return None


def _access_rbac(ctx: _Context) -> _Verdict:
    gate = _gate_access(ctx, rbac=True)
    if gate:
        return gate
    assert ctx.cluster is not None
    assert ctx.key is not None
    principal = _access_principal(ctx.cluster, ctx.known)
    if principal is None:
        return _Verdict(
            CheckStatus.UNKNOWN,
            "no principal to check: the identity could not be read",
            needs="Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader)",
        )
    ref = ctx.vault_ref()
    assert ref is not None
    read = Read(ReadKind.ROLE_ASSIGNMENTS, (ref.id, principal))
    waiting = ctx.waiting(read)
    if waiting:
        return waiting
    assignments = _value(ctx.known, read) or []
    covering = _applicable(assignments, ref.id, ctx.key.key_name, principal)
    evidence: dict[str, Any] = {
        "principalId": principal,
        "assignments": [{"role": a.role_guid, "scope": a.scope} for a in covering],
    }
    reads = [read]
    for a in covering:
        if a.role_guid in KNOWN_SUFFICIENT_ROLES:
            documented = a.role_guid == CRYPTO_SERVICE_ENCRYPTION_USER
            name = KNOWN_SUFFICIENT_ROLES[a.role_guid]
            detail = f"{name} at {a.scope}" + ("" if documented else " (not the documented role)")
            return _Verdict(CheckStatus.PASS, detail, evidence, reads=reads)
    undecided = []
    insufficient = []
    for a in covering:
        if a.role_guid in KNOWN_INSUFFICIENT_ROLES:
            insufficient.append(KNOWN_INSUFFICIENT_ROLES[a.role_guid])
            continue
        def_read = Read(ReadKind.ROLE_DEFINITION, (a.role_definition_id,))
        reads.append(def_read)
        waiting = ctx.waiting(def_read)
        if waiting:
            if not waiting.status.done:
                return _Verdict(waiting.status, "reading a custom role", evidence, reads=reads)
            undecided.append(a.role_definition_id)
            continue
        role = _value(ctx.known, def_read)
        if isinstance(role, RoleDefinitionFacts):
            if covers_key_use(role):
                return _Verdict(
                    CheckStatus.PASS, f"custom role {role.role_name} at {a.scope}", evidence, reads=reads
                )
            insufficient.append(f"{role.role_name} (lacks {', '.join(missing_data_actions(role))})")
    evidence["insufficientRoles"] = insufficient
    if undecided:
        return _Verdict(
            CheckStatus.UNKNOWN,
            "some role definitions could not be read",
            evidence,
            needs="Microsoft.Authorization/roleDefinitions/read (Reader)",
            reads=reads,
        )
    if ctx.identity_recreated():
        return _Verdict(
            CheckStatus.FAIL,
            "the new principal holds no key role (part of the recreated identity's fix)",
            evidence,
            reads=reads,
        )
    return _Verdict(
        CheckStatus.FAIL,
        "no role allows keys read, wrap and unwrap",
        evidence,
        [("RBAC_ROLE_MISSING", {"principal_id": principal})],
        reads=reads,
    )


def _access_policy(ctx: _Context) -> _Verdict:
    gate = _gate_access(ctx, rbac=False)
    if gate:
        return gate
    v, c = ctx.vault(), ctx.cluster
    assert v is not None
    assert c is not None
    principal = _access_principal(c, ctx.known)
    if principal is None:
        return _Verdict(
            CheckStatus.UNKNOWN,
            "no principal to check: the identity could not be read",
            needs="Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader)",
        )
    granted = key_permissions_of(v, principal)
    missing = [p for p in REQUIRED_KEY_PERMISSIONS if "all" not in granted and p not in granted]
    evidence = {
        "principalId": principal,
        "keyPermissions": sorted(granted),
        "missing": [KEY_PERMISSION_NAMES[m] for m in missing],
    }
    reads = [r for r in (ctx.vault_read(),) if r]
    if not missing:
        return _Verdict(CheckStatus.PASS, "get, list, wrapKey, unwrapKey granted", evidence, reads=reads)
    if ctx.identity_recreated():
        return _Verdict(
            CheckStatus.FAIL,
            "the new principal has no policy (part of the recreated identity's fix)",
            evidence,
            reads=reads,
        )
    names = [KEY_PERMISSION_NAMES[m] for m in missing]
    values = {"principal_id": principal, "missing": ", ".join(names), "missing_space": " ".join(names)}
    return _Verdict(
        CheckStatus.FAIL,
        f"missing {', '.join(names)}",
        evidence,
        [("ACCESS_POLICY_MISSING", values)],
        reads=reads,
    )


def _with_current_principal(verdict: _Verdict, ctx: _Context) -> _Verdict:
    """Access judged on the principal the cluster remembers is not an answer when the identity
    could not be read: it may have been recreated with a new principal."""
    if not ctx.identity_unreadable() or verdict.status not in (CheckStatus.PASS, CheckStatus.FAIL):
        return verdict
    return _Verdict(
        CheckStatus.UNKNOWN,
        f"for the principal the cluster remembers: {verdict.detail}; whether that is still "
        "the identity's principal is unknown",
        verdict.evidence,
        needs="Microsoft.ManagedIdentity/userAssignedIdentities/read (Reader on the identity)",
        reads=verdict.reads,
    )


def check_access_rbac(ctx: _Context) -> _Verdict:
    return _with_current_principal(_access_rbac(ctx), ctx)


def check_access_policy(ctx: _Context) -> _Verdict:
    return _with_current_principal(_access_policy(ctx), ctx)


def _gate_key(ctx: _Context) -> _Verdict | None:
    return _gate_vault(ctx) or _answered(ctx, ctx.key_read(), ctx.key_facts, "the key does not exist")


def check_key_exists(ctx: _Context) -> _Verdict:
    gate = _gate_vault(ctx)
    if gate:
        return gate
    read = ctx.key_read()
    assert read is not None
    assert ctx.key is not None
    waiting = ctx.waiting(read)
    if waiting:
        return waiting
    key = ctx.key_facts()
    if key is not None:
        evidence = {"keyUri": key.key_uri, "version": key.version}
        return _Verdict(CheckStatus.PASS, f"current version {key.version}", evidence, reads=[read])
    deleted_read = Read(ReadKind.DELETED_KEY, (ctx.key.vault_url, ctx.key.key_name))
    waiting = ctx.waiting(deleted_read)
    if waiting:
        if waiting.status == CheckStatus.UNKNOWN:
            waiting.detail = "the key is not in the vault; whether it is soft-deleted: " + waiting.detail
        return waiting
    deleted = _value(ctx.known, deleted_read)
    if isinstance(deleted, DeletedKeyFacts):
        evidence = {
            "deletedOn": _iso(deleted.deleted_on),
            "scheduledPurgeDate": _iso(deleted.scheduled_purge_date),
            "recoveryId": deleted.recovery_id,
        }
        values = {
            "deleted_on": _iso(deleted.deleted_on),
            "scheduled_purge_date": _iso(deleted.scheduled_purge_date),
        }
        return _Verdict(
            CheckStatus.FAIL,
            "soft-deleted: recoverable",
            evidence,
            [("KEY_SOFT_DELETED", values | evidence)],
            reads=[read, deleted_read],
        )
    return _Verdict(
        CheckStatus.FAIL,
        "not in the vault and not among its deleted keys",
        {"keyName": ctx.key.key_name},
        [("KEY_PURGED", {})],
        reads=[read, deleted_read],
    )


def check_key_enabled(ctx: _Context) -> _Verdict:
    gate = _gate_key(ctx)
    if gate:
        return gate
    key = ctx.key_facts()
    assert key is not None
    reads = [r for r in (ctx.key_read(),) if r]
    evidence = {"enabled": key.enabled, "version": key.version}
    if key.enabled is False:
        return _Verdict(
            CheckStatus.FAIL,
            "disabled",
            evidence,
            [("KEY_DISABLED", {"key_version": key.version})],
            reads=reads,
        )
    return _Verdict(CheckStatus.PASS, "enabled", evidence, reads=reads)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def check_key_dates(ctx: _Context) -> _Verdict:
    gate = _gate_key(ctx)
    if gate:
        return gate
    key = ctx.key_facts()
    assert key is not None
    reads = [r for r in (ctx.key_read(),) if r]
    evidence = {"notBefore": _iso(key.not_before), "expiresOn": _iso(key.expires)}
    values = {"expires": _iso(key.expires), "not_before": _iso(key.not_before), "key_version": key.version}
    findings: list[tuple[str, dict[str, Any]]] = []
    if key.expires is not None and key.expires <= ctx.now:
        findings.append(("KEY_EXPIRED", values | evidence))
    if key.not_before is not None and key.not_before > ctx.now:
        findings.append(("KEY_NOT_YET_ACTIVE", values | evidence))
    if findings:
        return _Verdict(
            CheckStatus.FAIL,
            ", ".join(code.lower().replace("_", " ").removeprefix("key ") for code, _ in findings),
            evidence,
            findings,
            reads=reads,
        )
    if key.expires is not None and key.expires - ctx.now <= EXPIRY_WARNING:
        days = (key.expires - ctx.now).days
        return _Verdict(
            CheckStatus.FAIL,
            f"expires in {days} days",
            evidence,
            [("KEY_EXPIRING_SOON", values | evidence | {"days_left": days})],
            reads=reads,
        )
    detail = f"expires {_iso(key.expires)}" if key.expires else "no expiry date"
    return _Verdict(CheckStatus.PASS, detail, evidence, reads=reads)


def check_key_type(ctx: _Context) -> _Verdict:
    gate = _gate_key(ctx)
    if gate:
        return gate
    key = ctx.key_facts()
    assert key is not None
    reads = [r for r in (ctx.key_read(),) if r]
    evidence = {"kty": key.kty, "keySize": key.key_size}
    kty_ok = (key.kty or "").lower() in SUPPORTED_KTY
    size_ok = key.key_size is None or key.key_size in SUPPORTED_SIZES
    if kty_ok and size_ok:
        return _Verdict(CheckStatus.PASS, f"{key.kty} {key.key_size or ''}".strip(), evidence, reads=reads)
    return _Verdict(
        CheckStatus.FAIL,
        f"{key.kty} {key.key_size}",
        evidence,
        [("KEY_TYPE_UNSUPPORTED", {"kty": key.kty, "key_size": key.key_size})],
        reads=reads,
    )


CHECKS: dict[str, Callable[[_Context], _Verdict]] = {
    "cluster.load": check_cluster_load,
    "cluster.state": check_cluster_state,
    "cluster.key_url": check_cluster_key_url,
    "identity.attached": check_identity_attached,
    "identity.exists": check_identity_exists,
    "identity.principal": check_identity_principal,
    "vault.exists": check_vault_exists,
    "vault.deleted": check_vault_deleted,
    "vault.network": check_vault_network,
    "vault.protection": check_vault_protection,
    "vault.placement": check_vault_placement,
    "access.rbac": check_access_rbac,
    "access.policy": check_access_policy,
    "key.exists": check_key_exists,
    "key.enabled": check_key_enabled,
    "key.dates": check_key_dates,
    "key.type": check_key_type,
}


def assess(
    cluster_id: str, known: Known, in_flight: set[Read] | None = None, now: datetime | None = None
) -> Assessment:
    """Every check's state and the findings, most fundamental first."""
    ctx = _Context(cluster_id, known, in_flight or set(), now or datetime.now(UTC))
    catalog = load_catalog()
    base = ctx.base()
    checks: list[CheckResult] = []
    findings: list[Finding] = []
    for spec in load_tree():
        verdict = CHECKS[spec.id](ctx)
        durations = [known[r].duration_ms for r in verdict.reads if r in known]
        checks.append(
            CheckResult(
                id=spec.id,
                status=verdict.status,
                detail=verdict.detail,
                evidence=verdict.evidence,
                duration_ms=max(durations) if durations else None,
                sources=tuple(str(r) for r in verdict.reads),
                needs=verdict.needs,
            )
        )
        for code, values in verdict.findings:
            entry = catalog.finding(code)
            findings.append(
                Finding(
                    code=code,
                    severity=entry.severity,
                    summary=render(entry.summary, base | values),
                    check_id=spec.id,
                    evidence=verdict.evidence,
                    remediations=entry.remediations,
                    rank=entry.rank,
                )
            )
    findings.sort(key=lambda f: (f.rank, f.code))
    return Assessment(tuple(checks), tuple(findings))


def critical_causes(findings: tuple[Finding, ...]) -> set[str]:
    """The critical findings that are causes, not the Inaccessible symptom."""
    catalog = load_catalog()
    return {
        f.code for f in findings if f.severity == Severity.CRITICAL and not catalog.finding(f.code).symptom
    }


def verdict_of(assessment: Assessment) -> str:
    """healthy, unhealthy (a critical finding) or incomplete (a question left open)."""
    if any(f.severity == Severity.CRITICAL for f in assessment.findings):
        return "unhealthy"
    critical = {spec.id for spec in load_tree() if spec.critical}
    if any(
        c.status in (CheckStatus.UNKNOWN, CheckStatus.PENDING, CheckStatus.RUNNING)
        for c in assessment.checks
        if c.id in critical
    ):
        return "incomplete"
    return "healthy"
