"""One frozen dataclass per write the wizard can make: what the planner decides, the executor
applies and the writer sends. Each knows its catalogue remediation id; nothing else names them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, TypeAlias, get_args

from wizard.domain.access import REQUIRED_POLICY, crypto_role_definition_id
from wizard.domain.network import operator_rule
from wizard.domain.times import iso

# The remediations that write nothing: the wait only reads, an escalation only explains.
WAIT_FOR_READY = "wait-for-ready"
ESCALATION = "escalate"


def _plain(value: Any) -> Any:
    """A field as plain data: times as ISO strings, tuples as lists."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class _Write:
    """What every action shares: its remediation id, its subject and its plain-data view."""

    remediation: ClassVar[str]
    data_plane: ClassVar[bool] = False
    """True for a write made on the vault's data plane, where the vault firewall applies."""

    @property
    def subject(self) -> str:
        """Whom the write is for beyond its target (a principal or an identity); tells steps apart."""
        return ""

    def to_json(self) -> dict[str, Any]:
        """The parameters as plans and reports show them (fields marked `shown=False` left out)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.metadata.get("shown", True)}


@dataclass(frozen=True)
class _KeyWrite(_Write):
    """A write to one key through the vault's data plane, at the version the cluster uses."""

    data_plane: ClassVar[bool] = True
    vault_id: str
    vault_url: str
    key_name: str
    version: str | None


@dataclass(frozen=True)
class ExtendKeyExpiry(_KeyWrite):
    """Move the key's expiry to `expires_on` (whole seconds, UTC)."""

    remediation: ClassVar[str] = "extend-key-expiry"
    expires_on: datetime


@dataclass(frozen=True)
class EnableKey(_KeyWrite):
    """Set the key's enabled attribute to true."""

    remediation: ClassVar[str] = "enable-key"


@dataclass(frozen=True)
class ClearKeyNotBefore(_KeyWrite):
    """Move the key's activation date to `not_before` (None: the moment of the write)."""

    remediation: ClassVar[str] = "clear-key-not-before"
    not_before: datetime | None = None


@dataclass(frozen=True)
class RecoverKey(_KeyWrite):
    """Recover a soft-deleted key with all its versions (`version` is the one the plan read, if any)."""

    remediation: ClassVar[str] = "recover-key"


@dataclass(frozen=True)
class RecreateResourceGroup(_Write):
    """Create the deleted resource group a soft-deleted vault must be recovered into (empty: the
    group's other resources do not come back with it)."""

    remediation: ClassVar[str] = "recreate-resource-group"
    subscription_id: str
    name: str
    location: str

    @property
    def group_id(self) -> str:
        """The group's ARM id."""
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.name}"


@dataclass(frozen=True)
class RecoverVault(_Write):
    """Recover a soft-deleted vault (create mode recover); its RBAC assignments do not come back."""

    remediation: ClassVar[str] = "recover-vault"
    vault_id: str
    vault_name: str
    location: str
    tenant_id: str = ""
    sku: str = "standard"


@dataclass(frozen=True)
class AllowTrustedServices(_Write):
    """Let trusted Microsoft services through the vault firewall, keeping every rule it has."""

    remediation: ClassVar[str] = "allow-trusted-services"
    vault_id: str


@dataclass(frozen=True)
class _OperatorRule(_Write):
    """A write of the operator's one /32 IP rule in a vault firewall; every other rule is kept."""

    vault_id: str
    address: str

    @property
    def subject(self) -> str:
        """The operator's address."""
        return self.address

    @property
    def ip_rule(self) -> str:
        """The rule: the address as a /32 range."""
        return operator_rule(self.address)


@dataclass(frozen=True)
class AllowOperatorIp(_OperatorRule):
    """Add the operator's /32 for the duration of the fix. `vault_url`/`key_name`: the data plane
    to probe once it is added."""

    remediation: ClassVar[str] = "allow-operator-ip"
    vault_url: str = ""
    key_name: str = ""


@dataclass(frozen=True)
class RemoveOperatorIp(_OperatorRule):
    """Remove exactly the /32 allow-operator-ip added. `undoes`: that write's audit intent id, if known."""

    remediation: ClassVar[str] = "remove-operator-ip"
    undoes: str = ""


@dataclass(frozen=True)
class EnablePurgeProtection(_Write):
    """Turn purge protection on (irreversible)."""

    remediation: ClassVar[str] = "enable-purge-protection"
    vault_id: str


@dataclass(frozen=True)
class GrantCryptoRole(_Write):
    """Key Vault Crypto Service Encryption User at the vault, principal type ServicePrincipal.

    `principal_id` is None while the identity it is for does not exist yet (a provisional step)."""

    remediation: ClassVar[str] = "grant-crypto-role"
    principal_type: ClassVar[str] = "ServicePrincipal"
    vault_id: str
    principal_id: str | None
    new_identity: bool = False

    @property
    def role_definition_id(self) -> str:
        """The documented role in the vault's subscription."""
        return crypto_role_definition_id(self.vault_id)

    @property
    def subject(self) -> str:
        """The principal granted."""
        return self.principal_id or ""

    def to_json(self) -> dict[str, Any]:
        """The parameters, with the role and principal type the grant sends."""
        return super().to_json() | {
            "role_definition_id": self.role_definition_id,
            "principal_type": self.principal_type,
        }


@dataclass(frozen=True)
class AddAccessPolicy(_Write):
    """Access-policy operation `add` with only the missing key permissions; never `replace`."""

    remediation: ClassVar[str] = "add-access-policy"
    vault_id: str
    principal_id: str | None
    new_identity: bool = False
    tenant_id: str = ""
    permissions: tuple[str, ...] = REQUIRED_POLICY

    @property
    def subject(self) -> str:
        """The principal whose policy grows."""
        return self.principal_id or ""


@dataclass(frozen=True)
class CreateIdentity(_Write):
    """A new user-assigned identity (never overwrites one that exists)."""

    remediation: ClassVar[str] = "create-identity"
    subscription_id: str
    resource_group: str
    name: str
    location: str
    replaces: str = field(default="", metadata={"shown": False})
    """The lost identity this one stands in for: in the audit log's intent, so a re-run finds it."""

    @property
    def identity_id(self) -> str:
        """The resource ID the identity gets."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{self.name}"
        )

    @property
    def subject(self) -> str:
        """The identity created."""
        return self.identity_id

    def to_json(self) -> dict[str, Any]:
        """The parameters, with the identity's resource ID."""
        return super().to_json() | {"identity_id": self.identity_id}


@dataclass(frozen=True)
class AttachIdentityAndKey(_Write):
    """Cluster PATCH with the identity AND the key URL together.

    `principal_id`, when known, must be the one the cluster then remembers for the identity."""

    remediation: ClassVar[str] = "attach-identity-and-key"
    cluster_id: str
    identity_id: str
    key_url: str
    principal_id: str | None = None

    @property
    def subject(self) -> str:
        """The principal the cluster should know, else the identity."""
        return self.principal_id or self.identity_id


@dataclass(frozen=True)
class DeleteFailedCluster(_Write):
    """Delete a cluster whose provisioning failed; `confirm_name` must be the cluster's name."""

    remediation: ClassVar[str] = "delete-failed-cluster"
    cluster_id: str
    confirm_name: str = field(default="", metadata={"shown": False})


Action: TypeAlias = (
    ExtendKeyExpiry
    | EnableKey
    | ClearKeyNotBefore
    | RecoverKey
    | RecreateResourceGroup
    | RecoverVault
    | AllowTrustedServices
    | AllowOperatorIp
    | RemoveOperatorIp
    | EnablePurgeProtection
    | GrantCryptoRole
    | AddAccessPolicy
    | CreateIdentity
    | AttachIdentityAndKey
    | DeleteFailedCluster
)
ACTION_TYPES: tuple[type[Action], ...] = get_args(Action)
