"""Verify a step incrementally: re-read what the write touched (and the cluster), keep the rest.

The engine plans from what is known, so the checks that depend on a re-read are judged again and
any read the new answers call for (a new identity, a new key version) is made; every check is
re-assessed. A write this module does not know, or one that moves the vault itself, gets a full
diagnosis. The fix session still ends with one full diagnosis, so the final verdict never rests
on a kept answer.
"""

from __future__ import annotations

from wizard.domain.actions import (
    Action,
    AddAccessPolicy,
    AllowOperatorIp,
    AllowTrustedServices,
    AttachIdentityAndKey,
    ClearKeyNotBefore,
    CreateIdentity,
    EnableKey,
    EnablePurgeProtection,
    ExtendKeyExpiry,
    GrantCryptoRole,
    RecoverKey,
    RemoveOperatorIp,
)
from wizard.domain.ports import AzureReader
from wizard.engine.reads import Outcome
from wizard.engine.tree import Read, ReadKind
from wizard.run.diagnose import Diagnosis, diagnose

ALWAYS = frozenset({ReadKind.CLUSTER, ReadKind.RESOURCE_HEALTH})
"""Re-read after every write: the cluster's status and health are what the service concluded meanwhile."""

_KEY = frozenset({ReadKind.KEY})
_VAULT = frozenset({ReadKind.VAULT})


def touched(action: Action | None) -> frozenset[ReadKind] | None:
    """The kinds of read a write can change the answer of; None when only a full diagnosis will do."""
    match action:
        case ExtendKeyExpiry() | EnableKey() | ClearKeyNotBefore():
            return _KEY
        case RecoverKey():
            return frozenset({ReadKind.KEY, ReadKind.DELETED_KEY})
        case AllowTrustedServices() | EnablePurgeProtection() | AddAccessPolicy():
            return _VAULT
        case AllowOperatorIp() | RemoveOperatorIp():
            return _VAULT
        case GrantCryptoRole():
            return frozenset({ReadKind.ROLE_ASSIGNMENTS})
        case CreateIdentity():
            return frozenset({ReadKind.IDENTITY})
        case AttachIdentityAndKey():
            return frozenset({ReadKind.IDENTITY})
    return None  # RecoverVault, DeleteFailedCluster, anything new: read everything again


def kept(previous: Diagnosis, kinds: frozenset[ReadKind]) -> dict[Read, Outcome]:
    """The answers a write of these kinds cannot have changed; a read that failed is made again."""
    drop = kinds | ALWAYS
    return {r: o for r, o in previous.known.items() if r.kind not in drop and o.error is None}


SWEEP = frozenset({ReadKind.VAULT_SEARCH, ReadKind.DELETED_VAULT, ReadKind.SUBSCRIPTIONS})
"""The search for a vault Resource Graph did not list: asked again only when the engine asks."""


def again(previous: Diagnosis, kinds: frozenset[ReadKind] | None = None) -> list[Read]:
    """The reads of `previous` (of these kinds; all but the sweep when None) to send again at once:
    the same cluster usually needs the same reads, so each stage is in flight before the one before
    it has answered. The engine still decides which answers count."""
    return [
        r
        for r in previous.known
        if (r.kind in kinds if kinds is not None else r.kind not in SWEEP) and r.kind != ReadKind.CLUSTER
    ]


def rediagnose(reader: AzureReader, previous: Diagnosis, action: Action | None) -> Diagnosis:
    """The diagnosis after `action`: what it touched read again, the rest kept from `previous`;
    the reads to make again are all sent at once (one round trip when nothing moved)."""
    kinds = touched(action)
    if kinds is None or previous.cluster_id == "":
        return diagnose(reader, previous.cluster_id, prefetch=again(previous))
    return diagnose(
        reader, previous.cluster_id, known=kept(previous, kinds), prefetch=again(previous, kinds | ALWAYS)
    )
