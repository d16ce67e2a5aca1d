"""The before/after states the writes read back, audit and show: plain data, times as ISO strings."""

from __future__ import annotations

from typing import Any

from wizard.domain.models import ClusterFacts, KeyFacts, VaultFacts
from wizard.domain.times import iso


def key_state(key: KeyFacts) -> dict[str, Any]:
    """A key version's attributes that the key writes change."""
    return {
        "version": key.version,
        "enabled": key.enabled,
        "notBefore": iso(key.not_before),
        "expires": iso(key.expires),
    }


def vault_state(v: VaultFacts) -> dict[str, Any]:
    """A vault's access model, firewall and protection."""
    return {
        "id": v.id,
        "rbacAuthorization": v.rbac_authorization,
        "publicNetworkAccess": v.public_network_access,
        "defaultAction": v.network_default_action,
        "bypass": v.network_bypass,
        "ipRules": list(v.ip_rules),
        "virtualNetworkRules": list(v.virtual_network_rules),
        "purgeProtection": v.purge_protection,
        "softDelete": v.soft_delete,
    }


def cluster_state(c: ClusterFacts) -> dict[str, Any]:
    """A cluster's status and the identity and key it uses."""
    return {
        "clusterStatus": c.cluster_status,
        "provisioningState": c.provisioning_state,
        "keyUrl": c.key_url,
        "keyIdentity": c.key_identity_id,
        "identityType": c.identity_type,
        "identities": {a.resource_id: a.principal_id for a in c.attached_identities},
    }
