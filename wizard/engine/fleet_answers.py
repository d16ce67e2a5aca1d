"""The engine's reads for one cluster, answered from what the fleet scan read in bulk.

The scan does not judge clusters itself: it answers, from Resource Graph rows and the key reads,
the very reads a diagnosis would make, and lets the decision tree judge. So a scan can never
name a cause the tree would not; what the scan has no answer for stays unanswered, and the check
that needs it is left to `diagnose` (a key's deleted state, for one).
"""

from __future__ import annotations

from collections.abc import Callable

from wizard.domain.access import scope_covers
from wizard.domain.errors import BadInput, Forbidden, GatewayError, NotFound
from wizard.domain.fleet import Access, ClusterVerdict, Dependencies, Inventory, KeyRef
from wizard.domain.ids import parse_key_url
from wizard.domain.models import (
    ClusterFacts,
    DeletedVaultFacts,
    IdentityFacts,
    KeyFacts,
    RoleAssignmentFacts,
    RoleDefinitionFacts,
    VaultFacts,
    VaultRef,
)
from wizard.engine.reads import Outcome
from wizard.engine.tree import Read, ReadKind


def needs_reader(subscription_id: str) -> str:
    """The role that would show a subscription's resources."""
    return f"Reader on subscription {subscription_id} (Resource Graph shows only what you can read)"


def _subscription_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[2].lower() if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""


def _guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


class FleetAnswers:
    """The inventory indexed once, for every cluster's reads (O(1) a read)."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.visible = {s.lower() for s in inventory.subscriptions}
        deps, access = inventory.dependencies, inventory.access
        self.deps_error = deps if isinstance(deps, GatewayError) else None
        self.access_error = access if isinstance(access, GatewayError) else None
        self.vaults: dict[str, VaultFacts] = {}
        self.identities: dict[str, IdentityFacts] = {}
        if isinstance(deps, Dependencies):
            for vault in deps.vaults:
                self.vaults.setdefault(vault.name.lower(), vault)
            self.identities = {i.id.lower(): i for i in deps.identities}
        self.assignments: dict[str, list[RoleAssignmentFacts]] = {}
        self.group_assignments: list[RoleAssignmentFacts] = []
        self.roles: dict[str, RoleDefinitionFacts] = {}
        if isinstance(access, Access):
            for a in access.assignments:
                if (a.principal_type or "").lower() == "group":
                    self.group_assignments.append(a)
                else:
                    self.assignments.setdefault(a.principal_id.lower(), []).append(a)
            self.roles = {_guid(r.id): r for r in access.custom_roles}
        self._key_refs: dict[str, KeyRef | None] = {}
        self.memo: dict[tuple[object, ...], ClusterVerdict] = {}
        """Verdicts by cluster signature, valid for this inventory only (engine.fleet fills it)."""
        self.keys = {
            (ref.vault_id.lower(), ref.key_name.lower(), ref.version.lower()): answer
            for ref, answer in inventory.keys.items()
        }

    def add_key(self, ref: KeyRef, answer: KeyFacts | GatewayError) -> None:
        """One more key read answered (the verdicts judged so far never waited on it)."""
        self.keys[(ref.vault_id.lower(), ref.key_name.lower(), ref.version.lower())] = answer

    @property
    def dependencies_known(self) -> bool:
        """The vaults-and-identities table has answered (with rows or an error)."""
        return self.inventory.dependencies is not None

    def vault(self, name: str) -> VaultFacts | None:
        """A live vault Resource Graph shows, by name."""
        return self.vaults.get(name.lower())

    def key_ref(self, cluster: ClusterFacts) -> KeyRef | None:
        """The key a CMK cluster uses, once its vault is located (None: nothing to read)."""
        if not cluster.key_url:
            return None
        if cluster.key_url not in self._key_refs:
            self._key_refs[cluster.key_url] = self._locate(cluster.key_url)
        return self._key_refs[cluster.key_url]

    def _locate(self, key_url: str) -> KeyRef | None:
        try:
            key = parse_key_url(key_url)
        except BadInput:
            return None
        vault = self.vault(key.vault_name)
        if vault is None:
            return None
        return KeyRef(vault.id, vault.name, key.key_name, key.version or "")

    def groups_covering(self, scope: str) -> list[RoleAssignmentFacts]:
        """Group assignments at or above `scope`: Resource Graph does not say who is in a group."""
        return [a for a in self.group_assignments if scope and scope_covers(a.scope, scope)]

    def answer(self, read: Read, cluster: ClusterFacts) -> Outcome | None:
        """What the scan read for `read`, as the gateway would have answered it; None: no answer."""
        a = read.args
        match read.kind:
            case ReadKind.CLUSTER:
                return Outcome(cluster) if a[0].lower() == cluster.id.lower() else None
            case ReadKind.IDENTITY:
                return self._identity(a[0])
            case ReadKind.VAULT_LOOKUP:
                return self._with_dependencies(lambda: self._ref(a[0]))
            case ReadKind.SUBSCRIPTIONS:
                return Outcome(list(self.inventory.subscriptions)) if self.inventory.subscriptions else None
            case ReadKind.VAULT_SEARCH:
                return self._search(a[0], a[1])
            case ReadKind.VAULT:
                return self._with_dependencies(lambda: self._vault_by_id(a[0]))
            case ReadKind.DELETED_VAULT:
                return self._deleted_vault(a[0], a[2])
            case ReadKind.KEY:
                return self._key(read)
            case ReadKind.ROLE_ASSIGNMENTS:
                return self._assignments(a[0], a[1])
            case ReadKind.ROLE_DEFINITION:
                role = self.roles.get(_guid(a[0]))
                return Outcome(role) if role is not None else None
            case ReadKind.ROLE_DEFINITIONS:
                # the custom roles the graph listed; one it left out is then read by id (None here)
                return Outcome(list(self.roles.values()))
        return None

    def _with_dependencies(self, build: Callable[[], object]) -> Outcome | None:
        if not self.dependencies_known:
            return None
        if self.deps_error is not None:
            return Outcome(error=self.deps_error)
        value = build()
        return value if isinstance(value, Outcome) else Outcome(value)

    def _identity(self, identity_id: str) -> Outcome | None:
        if not self.dependencies_known:
            return None
        if self.deps_error is not None:
            return Outcome(error=self.deps_error)
        found = self.identities.get(identity_id.lower())
        if found is not None:
            return Outcome(found)
        sub = _subscription_of(identity_id)
        if sub and sub not in self.visible:
            return Outcome(
                error=Forbidden(f"the identity's subscription {sub} is not in sight", needs=needs_reader(sub))
            )
        return Outcome(error=NotFound(f"Resource Graph shows no identity {identity_id}", status=404))

    def _ref(self, name: str) -> VaultRef | None:
        vault = self.vault(name)
        if vault is None:
            return None
        return VaultRef(vault.id, vault.name, vault.resource_group, vault.subscription_id, vault.location)

    def _vault_by_id(self, vault_id: str) -> Outcome:
        vault = self.vault(vault_id.rstrip("/").rsplit("/", 1)[-1])
        if vault is None or vault.id.lower() != vault_id.lower():
            return Outcome(error=NotFound(f"Resource Graph shows no vault {vault_id}", status=404))
        return Outcome(vault)

    def _search(self, name: str, subscription_id: str) -> Outcome | None:
        """Diagnose searches ARM subscription by subscription (Resource Graph may lag); the scan takes
        Resource Graph's word for every subscription in sight."""
        if not self.dependencies_known:
            return None
        if self.deps_error is not None:
            return Outcome(error=self.deps_error)
        sub = subscription_id.lower()
        if sub not in self.visible:
            return Outcome(error=Forbidden(f"subscription {sub} is not in sight", needs=needs_reader(sub)))
        vault = self.vault(name)
        found = vault is not None and vault.subscription_id.lower() == sub
        return Outcome(self._ref(name) if found else None)

    def _deleted_vault(self, name: str, subscription_id: str) -> Outcome | None:
        listed = self.inventory.deleted_vaults.get(subscription_id.lower())
        if listed is None:
            return None
        if isinstance(listed, GatewayError):
            return Outcome(error=listed)
        found: DeletedVaultFacts | None = next((d for d in listed if d.name.lower() == name.lower()), None)
        if found is None:
            return Outcome(error=NotFound(f"no soft-deleted vault named {name}", status=404))
        return Outcome(found)

    def _key(self, read: Read) -> Outcome | None:
        vault_id, key_name, *rest = read.args
        version = rest[0] if rest else ""
        answer = self.keys.get((vault_id.lower(), key_name.lower(), version.lower()))
        if answer is None:
            return None
        return Outcome(error=answer) if isinstance(answer, GatewayError) else Outcome(answer)

    def _assignments(self, vault_id: str, principal_id: str) -> Outcome | None:
        """As `list_for_scope(vault, assignedTo(principal))`: the principal's own assignments at,
        above or below the vault (group ones are judged apart: membership is not in Resource Graph)."""
        if self.inventory.access is None:
            return None
        if self.access_error is not None:
            return Outcome(error=self.access_error)
        return Outcome(
            [
                a
                for a in self.assignments.get(principal_id.lower(), [])
                if scope_covers(a.scope, vault_id) or scope_covers(vault_id, a.scope)
            ]
        )
