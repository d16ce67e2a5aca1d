"""Which roles let an identity use a key: the documented one by id, others by their data actions."""

from __future__ import annotations

from fnmatch import fnmatchcase

from wizard.domain.access import CRYPTO_SERVICE_ENCRYPTION_USER
from wizard.domain.models import RoleDefinitionFacts

REQUIRED_DATA_ACTIONS = (
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
)

# Built-in roles whose data actions are published and stable, so they need no extra read.
KNOWN_SUFFICIENT_ROLES = {
    CRYPTO_SERVICE_ENCRYPTION_USER: "Key Vault Crypto Service Encryption User",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}
KNOWN_INSUFFICIENT_ROLES = {
    "21090545-7ca7-4776-b22c-e363652d74d2": "Key Vault Reader",
    "8b54135c-b56d-4d72-a534-26097cfdc8d8": "Key Vault Data Access Administrator",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Key Vault Contributor",
}


def _allows(actions: tuple[str, ...], denied: tuple[str, ...], wanted: str) -> bool:
    """ARM semantics: a wanted action is allowed if some action matches and no notAction does."""
    w = wanted.lower()
    granted = any(fnmatchcase(w, a.lower()) for a in actions)
    return granted and not any(fnmatchcase(w, d.lower()) for d in denied)


def covers_key_use(role: RoleDefinitionFacts) -> bool:
    """True when the role's data actions allow keys read, wrap and unwrap."""
    return all(_allows(role.data_actions, role.not_data_actions, a) for a in REQUIRED_DATA_ACTIONS)


def missing_data_actions(role: RoleDefinitionFacts) -> tuple[str, ...]:
    """The required data actions this role does not allow, for the evidence."""
    return tuple(a for a in REQUIRED_DATA_ACTIONS if not _allows(role.data_actions, role.not_data_actions, a))
