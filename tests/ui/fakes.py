"""A Backend over our own dataclasses (no SDK, fixed dates) for UI tests, snapshots and a dev launcher.

Run `python -m tests.ui.fakes [SCENARIO] [--latency S] [--read-only] [--list]` to look at the app.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from tests.ui.fake_fleet import FakeActivityReader, FakeFleetReader
from wizard.domain.actions import (
    Action,
    AllowTrustedServices,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    GrantCryptoRole,
)
from wizard.domain.errors import AuthFailed, Forbidden, GatewayError, NotFound, ReadOnlyViolation
from wizard.domain.models import (
    AccessPolicy,
    AttachedIdentity,
    ClusterFacts,
    ClusterSummary,
    DeletedKeyFacts,
    DeletedVaultFacts,
    IdentityFacts,
    KeyFacts,
    LockReading,
    ResourceHealthFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
    VaultRef,
)
from wizard.domain.ports import AzureWriter, Operator
from wizard.domain.results import Found, Resolution, WriteResult, WriteStatus
from wizard.run.audit import AuditLog

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1"
TENANT = "00000000-0000-0000-0000-0000000000b2"
CRYPTO_ROLE = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
EXPIRED_ON = datetime(2026, 10, 1, tzinfo=UTC)
STATE_SINCE = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
"""When every fake cluster's availability last changed before the app starts (screens stay the same)."""


def arm_id(group: str, provider_type: str, name: str) -> str:
    """An ARM resource ID in the fake subscription."""
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/{provider_type}/{name}"


@dataclass
class Estate:
    """Everything the fake Azure holds; readers look facts up by ID, as the gateway does."""

    clusters: dict[str, ClusterFacts] = field(default_factory=dict)
    identities: dict[str, IdentityFacts] = field(default_factory=dict)
    vaults: dict[str, VaultFacts] = field(default_factory=dict)
    deleted_vaults: dict[str, DeletedVaultFacts] = field(default_factory=dict)
    keys: dict[tuple[str, str], KeyFacts] = field(default_factory=dict)
    deleted_keys: dict[str, DeletedKeyFacts] = field(default_factory=dict)
    assignments: list[RoleAssignmentFacts] = field(default_factory=list)
    role_definitions: dict[str, RoleDefinitionFacts] = field(default_factory=dict)
    errors: dict[str, GatewayError] = field(default_factory=dict)
    connect_error: GatewayError | None = None
    revalidate_polls: int = 3
    """Cluster reads a repaired cluster stays Inaccessible for before it is Ready (the service's delay)."""
    repairing: dict[str, int] = field(default_factory=dict)
    availability_since: dict[str, datetime] = field(default_factory=dict)
    """When a cluster's availability last changed while the app ran (Resource Health's occurred time)."""

    def add_cluster(
        self, name: str, group: str, vault_name: str, *, rbac: bool = True, status: str = "Ready"
    ) -> str:
        """A CMK cluster with its own healthy identity, vault, key and access; returns its ID."""
        cluster_id = arm_id(group, "Microsoft.DocumentDB/mongoClusters", name)
        identity_id = arm_id(group, "Microsoft.ManagedIdentity/userAssignedIdentities", f"id-{name}")
        vault_id = arm_id(group, "Microsoft.KeyVault/vaults", vault_name)
        principal = f"{len(self.clusters) + 1:08d}-1111-1111-1111-111111111111"
        vault_url = f"https://{vault_name}.vault.azure.net"
        self.clusters[cluster_id] = ClusterFacts(
            id=cluster_id,
            name=name,
            resource_group=group,
            subscription_id=SUBSCRIPTION,
            location="westeurope",
            cluster_status=status,
            provisioning_state="Succeeded",
            key_url=f"{vault_url}/keys/cmk",
            key_identity_id=identity_id,
            identity_type="UserAssigned",
            attached_identities=(AttachedIdentity(identity_id, principal, f"client-{name}"),),
        )
        self.identities[identity_id.lower()] = IdentityFacts(
            identity_id, f"id-{name}", principal, f"client-{name}", TENANT, "westeurope"
        )
        policies = (
            ()
            if rbac
            else (AccessPolicy(TENANT, principal, frozenset({"get", "list", "wrapkey", "unwrapkey"})),)
        )
        self.vaults[vault_name] = VaultFacts(
            id=vault_id,
            name=vault_name,
            resource_group=group,
            subscription_id=SUBSCRIPTION,
            location="westeurope",
            tenant_id=TENANT,
            vault_uri=f"{vault_url}/",
            rbac_authorization=rbac,
            soft_delete=True,
            purge_protection=True,
            public_network_access="Enabled",
            network_default_action="Allow",
            network_bypass="AzureServices",
            access_policies=policies,
        )
        self.keys[(vault_id.lower(), "cmk")] = KeyFacts(
            name="cmk",
            vault_name=vault_name,
            key_uri=f"{vault_url}/keys/cmk",
            version="0a1b2c3d",
            enabled=True,
            not_before=None,
            expires=FAR_FUTURE,
            kty="RSA",
            key_size=3072,
        )
        if rbac:
            self.assignments.append(
                RoleAssignmentFacts(
                    id=f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/ra-{name}",
                    scope=vault_id,
                    role_definition_id=(
                        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization"
                        f"/roleDefinitions/{CRYPTO_ROLE}"
                    ),
                    principal_id=principal,
                    principal_type="ServicePrincipal",
                )
            )
        return cluster_id

    def vault_of(self, cluster_id: str) -> VaultFacts:
        """The vault a cluster's key lives in."""
        key_url = self.clusters[cluster_id].key_url or ""
        return self.vaults[key_url.split("//", 1)[1].split(".", 1)[0]]

    def set_status(self, cluster_id: str, status: str) -> None:
        """Move a cluster to another status, as the service would."""
        self.clusters[cluster_id] = replace(self.clusters[cluster_id], cluster_status=status)

    def resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """Resource Health's view: Unavailable while Inaccessible, else Available, since the last change."""
        down = self.clusters[cluster_id].cluster_status == "Inaccessible"
        return ResourceHealthFacts(
            "Unavailable" if down else "Available",
            title="Unavailable" if down else "Available",
            summary="The cluster can't access its key." if down else "No known platform problems.",
            reason_type="Unplanned" if down else None,
            occurred_time=self.availability_since.get(cluster_id, STATE_SINCE),
        )

    def can_use_key(self, cluster_id: str) -> bool:
        """The fake service's own verdict: key in date and enabled, access granted, firewall open to it."""
        cluster = self.clusters[cluster_id]
        vault = self.vault_of(cluster_id)
        key = self.keys.get((vault.id.lower(), "cmk"))
        if key is None or not key.enabled or (key.expires and key.expires <= datetime.now(UTC)):
            return False
        principal = cluster.attached_identities[0].principal_id
        if vault.rbac_authorization:
            if not any(
                a.principal_id == principal and vault.id.lower().startswith(a.scope.lower())
                for a in self.assignments
            ):
                return False
        elif not any(p.object_id == principal for p in vault.access_policies):
            return False
        return vault.network_default_action != "Deny" or "AzureServices" in (vault.network_bypass or "")

    def after_write(self) -> None:
        """A repaired Inaccessible cluster turns Ready after `revalidate_polls` more reads."""
        for cluster_id, cluster in self.clusters.items():
            if (
                cluster.cluster_status == "Inaccessible"
                and cluster_id not in self.repairing
                and self.can_use_key(cluster_id)
            ):
                self.repairing[cluster_id] = self.revalidate_polls

    def poll(self, cluster_id: str) -> None:
        """One read of a repairing cluster: count down to Ready."""
        if cluster_id in self.repairing:
            self.repairing[cluster_id] -= 1
            if self.repairing[cluster_id] <= 0:
                del self.repairing[cluster_id]
                self.set_status(cluster_id, "Ready")
                self.availability_since[cluster_id] = datetime.now(UTC)


SCENARIOS = (
    "key-expired",
    "healthy",
    "rbac-role-missing",
    "multi-fault",
    "no-role-read",
    "signed-out",
    "cannot-list",
    "purge-protection-off",
)

FAKE_DESCRIPTIONS = {
    "key-expired": "The key expired two days ago; the cluster is Inaccessible.",
    "healthy": "A CMK cluster that can use its key: nothing to fix.",
    "rbac-role-missing": "The identity lost its Crypto Service Encryption User assignment.",
    "multi-fault": "Three causes at once: the key expired, the role is gone, the firewall is closed.",
    "no-role-read": "The operator may not read role assignments: the access check is unknown.",
    "signed-out": "The operator's sign-in fails.",
    "cannot-list": "The operator may not list clusters.",
    "purge-protection-off": "Healthy, but the vault's purge protection is off (a warning).",
}


def build_estate(scenario: str) -> tuple[Estate, str]:
    """Three clusters; `orders-prod` is broken the way the scenario says. Returns the estate and its ID."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown fake scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    estate = Estate()
    broken = estate.add_cluster("orders-prod", "rg-orders", "kv-orders")
    estate.add_cluster("billing-prod", "rg-billing", "kv-billing")
    estate.add_cluster("ledger-dev", "rg-ledger", "kv-ledger", rbac=False)
    vault = estate.vault_of(broken)
    key_ref = (vault.id.lower(), "cmk")
    if scenario in ("key-expired", "multi-fault"):
        estate.keys[key_ref] = replace(estate.keys[key_ref], expires=EXPIRED_ON)
    if scenario in ("rbac-role-missing", "multi-fault"):
        estate.assignments = [a for a in estate.assignments if a.scope != vault.id]
    if scenario == "multi-fault":
        estate.vaults[vault.name] = replace(
            vault, public_network_access="Enabled", network_default_action="Deny", network_bypass="None"
        )
    if scenario == "purge-protection-off":
        estate.vaults[vault.name] = replace(vault, purge_protection=False)
    if scenario in ("key-expired", "rbac-role-missing", "multi-fault"):
        estate.set_status(broken, "Inaccessible")
    if scenario == "no-role-read":
        estate.errors["list_role_assignments"] = Forbidden(
            "AuthorizationFailed: the client may not perform action "
            "'Microsoft.Authorization/roleAssignments/read'",
            needs=f"Reader (Microsoft.Authorization/roleAssignments/read) on key vault {vault.name}",
        )
    if scenario == "signed-out":
        estate.connect_error = AuthFailed(
            "no credential worked: Azure CLI not signed in (run `az login`), no environment credential"
        )
    if scenario == "cannot-list":
        estate.errors["list_cmk_clusters"] = Forbidden(
            "AuthorizationFailed: Resource Graph query denied", needs=f"Reader on subscription {SUBSCRIPTION}"
        )
    return estate, broken


class FakeWriter:
    """The writes the fake scenarios need, guarded by read-only and audited like the real ones
    (the AzureWriter port)."""

    def __init__(self, reader: FakeReader, audit: AuditLog) -> None:
        self.reader = reader
        self.estate = reader.estate
        self.audit = audit

    def watch(self, report: Callable[[str], None] | None) -> None:
        """The fake writes finish at once: nothing to report."""

    def when_answered(self, start: Callable[[], None] | None) -> None:
        """The fake writes answer at once: the session reads after them."""

    def _write(
        self,
        remediation: str,
        target: str,
        before: dict[str, Any],
        after: dict[str, Any],
        apply: Callable[[], None],
    ) -> WriteResult:
        if self.reader.read_only:
            raise ReadOnlyViolation(f"read-only: refused {remediation} on {target}")
        self.reader.call("write")
        operator = {"mode": "emulator", "account": "emulator operator", "tenant": TENANT}
        intent = self.audit.intent(
            operator=operator, remediation=remediation, target=target, request={"fake": True}, before=before
        )
        if before == after:
            done = self.audit.result(
                intent,
                remediation=remediation,
                target=target,
                result=WriteStatus.ALREADY_DONE,
                message="already so",
                after=after,
            )
            return WriteResult(
                remediation,
                target,
                WriteStatus.ALREADY_DONE,
                "already so: nothing sent",
                before,
                after,
                (intent, done),
            )
        apply()
        self.estate.after_write()
        done = self.audit.result(
            intent,
            remediation=remediation,
            target=target,
            result=WriteStatus.OK,
            message="applied",
            after=after,
        )
        return WriteResult(remediation, target, WriteStatus.OK, "applied", before, after, (intent, done))

    def probe(self, action: Action) -> Resolution:
        """The fakes record no action in their intents, so no later session asks this."""
        return Resolution(Found.UNREADABLE, f"the fake estate does not re-read {action.remediation}")

    def apply(self, action: Action) -> WriteResult:
        """The fake scenarios' writes, by action type; any other is not faked."""
        match action:
            case ExtendKeyExpiry():
                return self.extend_key_expiry(action)
            case GrantCryptoRole():
                return self.grant_crypto_role(action)
            case AllowTrustedServices():
                return self.allow_trusted_services(action)
            case EnablePurgeProtection():
                return self.enable_purge_protection(action)
            case _:
                raise NotImplementedError(f"the fake writer has no {action.remediation}")

    def _vault(self, vault_id: str) -> VaultFacts:
        return next(v for v in self.estate.vaults.values() if v.id.lower() == vault_id.lower())

    def extend_key_expiry(self, action: ExtendKeyExpiry) -> WriteResult:
        """Set the key's expiry date."""
        vault_id, key_name = action.vault_id, action.key_name
        ref = (vault_id.lower(), key_name)
        key = self.estate.keys[ref]
        new = action.expires_on

        def apply() -> None:
            self.estate.keys[ref] = replace(key, expires=new)

        return self._write(
            "extend-key-expiry",
            f"{vault_id}/keys/{key_name}",
            {"expires": key.expires.isoformat() if key.expires else None},
            {"expires": new.isoformat()},
            apply,
        )

    def grant_crypto_role(self, action: GrantCryptoRole) -> WriteResult:
        """Assign Key Vault Crypto Service Encryption User at the vault."""
        vault_id, principal_id = action.vault_id, action.principal_id or ""
        had = [
            a.id
            for a in self.estate.assignments
            if a.principal_id == principal_id and vault_id.lower().startswith(a.scope.lower())
        ]

        def apply() -> None:
            self.estate.assignments.append(
                RoleAssignmentFacts(
                    id=f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/ra-new",
                    scope=vault_id,
                    role_definition_id=(
                        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization"
                        f"/roleDefinitions/{CRYPTO_ROLE}"
                    ),
                    principal_id=principal_id,
                    principal_type="ServicePrincipal",
                )
            )

        return self._write(
            "grant-crypto-role",
            vault_id,
            {"roleAssignments": had},
            {"roleAssignments": had or ["ra-new"]},
            apply,
        )

    def allow_trusted_services(self, action: AllowTrustedServices) -> WriteResult:
        """Let trusted services through the vault firewall, keeping the rules."""
        vault_id = action.vault_id
        vault = self._vault(vault_id)

        def apply() -> None:
            self.estate.vaults[vault.name] = replace(vault, network_bypass="AzureServices")

        return self._write(
            "allow-trusted-services",
            vault_id,
            {"bypass": vault.network_bypass},
            {"bypass": "AzureServices"},
            apply,
        )

    def enable_purge_protection(self, action: EnablePurgeProtection) -> WriteResult:
        """Turn purge protection on (irreversible)."""
        vault_id = action.vault_id
        vault = self._vault(vault_id)

        def apply() -> None:
            self.estate.vaults[vault.name] = replace(vault, purge_protection=True)

        return self._write(
            "enable-purge-protection",
            vault_id,
            {"enablePurgeProtection": vault.purge_protection},
            {"enablePurgeProtection": True},
            apply,
        )


class FakeReader:
    """Answers every AzureReader question from an Estate; optional latency shows the spinners.

    It is also the fix session's gateway: `writer(audit)` hands out the fake writes.
    """

    mode = "emulator"

    def __init__(self, estate: Estate, *, latency: float = 0.0, read_only: bool = False) -> None:
        self.estate = estate
        self.latency = latency
        self.read_only = read_only
        self.writes = 0

    def writer(self, audit: AuditLog) -> AzureWriter:
        """The guarded, audited writes (the same port the gateway's writer fills)."""
        return FakeWriter(self, audit)

    def prepare(self, action: Action) -> None:
        """Nothing to authenticate to ahead of a fake write."""

    def locks_at(self, resource_id: str) -> LockReading:
        """No management locks in the fake estates."""
        return LockReading(())

    def call(self, name: str) -> None:
        """Latency, then the error the scenario injects for this call, if any; counts writes."""
        if name == "write":
            self.writes += 1
        self._call(name)

    def _call(self, name: str) -> None:
        if self.latency:
            time.sleep(self.latency)
        if name in self.estate.errors:
            raise self.estate.errors[name]

    def operator(self) -> Operator:
        """A fixed operator, like the emulator's."""
        return Operator("emulator", TENANT, "emulator operator", SUBSCRIPTION)

    def list_cmk_clusters(self) -> list[ClusterSummary]:
        """Every cluster, in summary form."""
        self._call("list_cmk_clusters")
        return [
            ClusterSummary(
                c.id, c.name, c.resource_group, c.location, c.cluster_status, c.provisioning_state, c.key_url
            )
            for c in self.estate.clusters.values()
        ]

    def get_cluster(self, cluster_id: str) -> ClusterFacts:
        """One cluster by ID (case-insensitive, as ARM)."""
        self._call("get_cluster")
        key = next((k for k in self.estate.clusters if k.lower() == cluster_id.lower()), None)
        if key is None:
            raise NotFound(f"ResourceNotFound: {cluster_id}", status=404)
        self.estate.poll(key)
        return self.estate.clusters[key]

    def get_resource_health(self, cluster_id: str) -> ResourceHealthFacts:
        """Resource Health's view of one cluster."""
        self._call("get_resource_health")
        key = next((k for k in self.estate.clusters if k.lower() == cluster_id.lower()), None)
        if key is None:
            raise NotFound(f"ResourceNotFound: {cluster_id}", status=404)
        return self.estate.resource_health(key)

    def get_identity(self, identity_id: str) -> IdentityFacts:
        """One identity by ID."""
        self._call("get_identity")
        if identity_id.lower() not in self.estate.identities:
            raise NotFound(f"ResourceNotFound: {identity_id}", status=404)
        return self.estate.identities[identity_id.lower()]

    def find_vault(self, vault_name: str) -> VaultRef | None:
        """A live vault by name."""
        self._call("find_vault")
        v = self.estate.vaults.get(vault_name)
        return VaultRef(v.id, v.name, v.resource_group, v.subscription_id, v.location) if v else None

    def search_vault(self, vault_name: str, subscription_id: str) -> VaultRef | None:
        """The same vault through 'ARM': the fake has no Resource Graph lag."""
        return self.find_vault(vault_name)

    def get_vault(self, vault_id: str) -> VaultFacts:
        """A live vault by ID."""
        self._call("get_vault")
        found = next((v for v in self.estate.vaults.values() if v.id.lower() == vault_id.lower()), None)
        if found is None:
            raise NotFound(f"ResourceNotFound: {vault_id}", status=404)
        return found

    def list_subscriptions(self) -> list[str]:
        """The one fake subscription."""
        self._call("list_subscriptions")
        return [SUBSCRIPTION]

    def get_deleted_vault(self, vault_name: str, location: str, subscription_id: str) -> DeletedVaultFacts:
        """A soft-deleted vault by name."""
        self._call("get_deleted_vault")
        if vault_name not in self.estate.deleted_vaults:
            raise NotFound(f"DeletedVaultNotFound: {vault_name}", status=404)
        return self.estate.deleted_vaults[vault_name]

    def get_key(self, vault_id: str, key_name: str, version: str | None = None) -> KeyFacts:
        """Key attributes by vault ID and name."""
        self._call("get_key")
        if (vault_id.lower(), key_name) not in self.estate.keys:
            raise NotFound(f"KeyNotFound: {key_name}", status=404)
        return self.estate.keys[(vault_id.lower(), key_name)]

    def get_deleted_key(self, vault_url: str, key_name: str) -> DeletedKeyFacts:
        """A soft-deleted key."""
        self._call("get_deleted_key")
        if key_name not in self.estate.deleted_keys:
            raise NotFound(f"KeyNotFound: {key_name}", status=404)
        return self.estate.deleted_keys[key_name]

    def list_role_assignments(self, vault_id: str, principal_id: str) -> list[RoleAssignmentFacts]:
        """Assignments of the principal at or above the vault."""
        self._call("list_role_assignments")
        return [
            a
            for a in self.estate.assignments
            if a.principal_id == principal_id and vault_id.lower().startswith(a.scope.lower())
        ]

    def get_role_definition(self, role_definition_id: str) -> RoleDefinitionFacts:
        """A custom role's data actions."""
        self._call("get_role_definition")
        if role_definition_id not in self.estate.role_definitions:
            raise NotFound(f"RoleDefinitionDoesNotExist: {role_definition_id}", status=404)
        return self.estate.role_definitions[role_definition_id]

    def list_custom_roles(self, scope: str) -> list[RoleDefinitionFacts]:
        """Every custom role of the estate."""
        self._call("list_custom_roles")
        return list(self.estate.role_definitions.values())


class FakeBackend:
    """The Backend port over a FakeReader; `open_default=False` makes the app start on the list."""

    def __init__(
        self,
        scenario: str = "key-expired",
        *,
        read_only: bool = False,
        latency: float = 0.0,
        open_default: bool = True,
    ) -> None:
        self.read_only = read_only
        self.latency = latency
        self.open_default = open_default
        self.closed = False
        self.key_gate: threading.Event | None = None
        self._lock = threading.Lock()
        self._load(scenario)

    def _load(self, scenario: str) -> None:
        self.scenario = scenario
        self.label = f"fake: {scenario}"
        self.estate, self.broken_cluster_id = build_estate(scenario)
        self.reader = FakeReader(self.estate, latency=self.latency, read_only=self.read_only)

    def connect(self) -> FakeReader:
        """The reader, or the sign-in failure the scenario asks for."""
        if self.latency:
            time.sleep(self.latency)
        if self.estate.connect_error is not None:
            raise self.estate.connect_error
        return self.reader

    def fleet(self) -> FakeFleetReader:
        """The fleet reads over the same estate (and the same sign-in failure); key reads wait for
        `key_gate` when a test sets one."""
        return FakeFleetReader(self.connect(), self.key_gate)

    def activity(self) -> FakeActivityReader:
        """An Activity Log with nothing in it (and the same sign-in failure)."""
        self.connect()
        return FakeActivityReader()

    def clock(self) -> float:
        """Frozen: every read takes 0 ms, so screens show the same durations on any machine."""
        return 0.0

    def default_cluster_id(self) -> str | None:
        """The broken cluster, unless the test wants to start on the list."""
        return self.broken_cluster_id if self.open_default else None

    def scenarios(self) -> list[str]:
        """The fake scenarios, so the palette can offer them."""
        return list(SCENARIOS)

    def current_scenario(self) -> tuple[str, str] | None:
        """The fake scenario playing, described as the palette and start screen show it."""
        return self.scenario, FAKE_DESCRIPTIONS.get(self.scenario, "")

    def scenario_descriptions(self) -> dict[str, str]:
        """Each fake scenario's line."""
        return {name: FAKE_DESCRIPTIONS.get(name, "") for name in SCENARIOS}

    def switch_scenario(self, name: str) -> None:
        """Load another scenario in place."""
        with self._lock:
            self._load(name)

    def close(self) -> None:
        """Nothing to release; remembered so tests can check the app's owner closes it."""
        self.closed = True


def main() -> int:
    """Dev launcher: the real app over the fake backend."""
    from screens.app import WizardApp

    parser = argparse.ArgumentParser(prog="python -m tests.ui.fakes", description=main.__doc__)
    parser.add_argument("scenario", nargs="?", default="key-expired", choices=SCENARIOS)
    parser.add_argument("--latency", type=float, default=0.4, help="seconds per fake Azure call")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--list", action="store_true", help="start on the cluster list")
    parser.add_argument("--terminal-colours", action="store_true")
    args = parser.parse_args()
    backend = FakeBackend(
        args.scenario, read_only=args.read_only, latency=args.latency, open_default=not args.list
    )
    app = WizardApp(
        backend,
        cluster_id=backend.default_cluster_id(),
        terminal_colours=True if args.terminal_colours else None,
    )
    try:
        return app.run() or 0
    finally:
        backend.close()


if __name__ == "__main__":
    raise SystemExit(main())
