"""The pure remediation planner: from a diagnosis, an ordered plan of concrete steps.

No I/O. The executor (wizard.run.fix) applies the first step, diagnoses again and asks for
a fresh plan, so a later step may be `provisional` (its inputs are only known after an earlier
one: the principal of an identity not created yet, the permission model of a vault not yet
recovered). The ordering rules, all enforced here:

- recover the vault before anything that lives in it; recovery drops RBAC assignments, so the
  role is granted again afterwards;
- fix the key (recover, enable, extend expiry, activation date) before access and the cluster;
- create an identity, then grant it access, then attach it to the cluster (identity AND key URL);
- the seed page's rule: after extending an expired key's expiry, no key rotation and no change
  of the cluster's key until the cluster is Ready again (CLUSTER_KEY_URL_VERSIONED is deferred);
- fix every cause before deleting a failed cluster; wait for Ready last;
- unrecoverable findings become `escalate` steps that explain and write nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from wizard.domain.catalog import load_catalog, render
from wizard.domain.errors import Forbidden
from wizard.domain.ids import KeyUrl, parse_resource_id
from wizard.domain.models import (
    CheckResult,
    CheckStatus,
    ClusterFacts,
    DeletedVaultFacts,
    Finding,
    IdentityFacts,
    KeyFacts,
    Severity,
    VaultFacts,
    VaultRef,
)
from wizard.engine.assess import Assessment
from wizard.engine.checks.access import KEY_PERMISSION_NAMES, REQUIRED_KEY_PERMISSIONS
from wizard.engine.facts import deleted_vault_of, key_url_of, vault_ref_of
from wizard.engine.reads import key_read
from wizard.engine.roles import CRYPTO_SERVICE_ENCRYPTION_USER
from wizard.engine.tree import Read, ReadKind

DEFAULT_EXPIRY_DAYS = 365
READY = "ready"
# The engine's required key permissions (compared lowercased there), as Key Vault spells them.
REQUIRED_POLICY = tuple(KEY_PERMISSION_NAMES[p] for p in REQUIRED_KEY_PERMISSIONS)

# Step kinds: `write` changes Azure; `wait` only reads; `escalate` and `deferred` do nothing.
WRITE, WAIT, ESCALATE, DEFERRED = "write", "wait", "escalate", "deferred"

# What one write came to (the gateway's WriteResult, the audit log, the executor's StepOutcome):
# applied; already there, nothing sent; failed; failed, but the after-state shows the change (or
# could not be read): Azure may have taken it before the answer was lost.
OK, ALREADY_DONE, ERROR, UNKNOWN = "ok", "already-done", "error", "unknown"


@dataclass(frozen=True)
class WriteResult:
    """What one write did: ok, already-done (nothing sent), with before/after and audit ids."""

    remediation: str
    target: str
    status: str
    message: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    audit_ids: tuple[str, ...] = ()
    value: Any = None


# Dependency order of remediations (lower first).
PHASE = {
    "recover-vault": 10,
    "recover-key": 20,
    "enable-key": 30,
    "extend-key-expiry": 31,
    "clear-key-not-before": 32,
    "allow-trusted-services": 40,
    "create-identity": 50,
    "grant-crypto-role": 60,
    "add-access-policy": 60,
    "attach-identity-and-key": 70,
    "enable-purge-protection": 80,
    "delete-failed-cluster": 90,
    "wait-for-ready": 95,
}
ESCALATE_PHASE = {Severity.CRITICAL: 0, Severity.WARNING: 98, Severity.INFO: 99}

# Findings that another finding's fix brings to light, so `--finding X` follows them.
FOLLOW_UPS: Mapping[str, tuple[str, ...]] = {
    "VAULT_SOFT_DELETED": ("RBAC_ROLE_MISSING", "ACCESS_POLICY_MISSING"),
    "IDENTITY_DELETED": ("RBAC_ROLE_MISSING", "ACCESS_POLICY_MISSING", "IDENTITY_NOT_ATTACHED"),
    "IDENTITY_RECREATED": ("RBAC_ROLE_MISSING", "ACCESS_POLICY_MISSING", "IDENTITY_NOT_ATTACHED"),
}
ESCALATIONS = {
    "CLUSTER_NOT_FOUND": "Check the resource ID and the signed-in tenant; nothing here can be changed.",
    "VAULT_PURGED": (
        "The vault is gone and cannot be recovered by this tool. If it was purged, the key "
        "is lost: open a Microsoft support case now. If it lives in a subscription you "
        "cannot see, ask its owner. A new vault and key can only be attached with "
        "attach-identity-and-key once support confirms the data can be re-wrapped."
    ),
    "KEY_PURGED": (
        "The key is neither in the vault nor among its deleted keys: a purged key cannot be "
        "brought back and data encrypted with it cannot be decrypted. Open a Microsoft "
        "support case; do not change the cluster's key in the meantime."
    ),
    "KEY_TYPE_UNSUPPORTED": "Create a supported RSA key (2048/3072/4096) and point the cluster at it.",
    "VAULT_TENANT_MISMATCH": "The vault must be in the cluster's tenant; this is a provisioning requirement.",
    "VAULT_REGION_MISMATCH": "The vault must be in the cluster's region; this is a provisioning requirement.",
}


class DiagnosisLike(Protocol):
    """What the planner needs from a diagnosis (wizard.run.diagnose.Diagnosis fits)."""

    @property
    def cluster_id(self) -> str: ...

    @property
    def assessment(self) -> Assessment: ...

    @property
    def known(self) -> Mapping[Read, Any]: ...


@dataclass(frozen=True)
class Carry:
    """What earlier steps of this session did, which a fresh diagnosis cannot show yet."""

    new_identity: IdentityFacts | None = None
    granted_principals: frozenset[str] = frozenset()
    expiry_extended: bool = False


@dataclass(frozen=True)
class Step:
    """One remediation, concrete: what it changes, how, who may, and how we will know."""

    remediation: str
    finding: str
    kind: str
    title: str
    summary: str
    change: str
    before: dict[str, Any]
    after: dict[str, Any]
    params: dict[str, Any]
    target: str
    rest: str = ""
    az: str = ""
    permission: str = ""
    reversible: bool = True
    confirm: str = "none"
    confirm_text: str = ""
    verifies: tuple[str, ...] = ()
    provisional: bool = False
    explanation: str = ""
    permission_doubt: str = ""
    also_fixes: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        """True when applying the step changes Azure."""
        return self.kind == WRITE

    @property
    def key(self) -> str:
        """Identifies the step across re-plans: the remediation and its target."""
        who = self.params.get("principal_id") or self.params.get("identity_id") or ""
        return f"{self.remediation}|{self.target.lower()}|{str(who).lower()}"

    def to_json(self) -> dict[str, Any]:
        """The step as plain data (for JSON output, audit and reports)."""
        return {
            "remediation": self.remediation,
            "finding": self.finding,
            "kind": self.kind,
            "title": self.title,
            "summary": self.summary,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "params": self.params,
            "target": self.target,
            "rest": self.rest,
            "az": self.az,
            "permission": self.permission,
            "reversible": self.reversible,
            "confirm": self.confirm,
            "confirmText": self.confirm_text,
            "verifies": list(self.verifies),
            "provisional": self.provisional,
            "explanation": self.explanation,
            "permissionDoubt": self.permission_doubt,
            "alsoFixes": list(self.also_fixes),
        }


@dataclass(frozen=True)
class Plan:
    """Ordered steps for one cluster; `next_step` is what the executor applies next."""

    cluster_id: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    @property
    def writes(self) -> tuple[Step, ...]:
        """Steps that change Azure."""
        return tuple(s for s in self.steps if s.writes)

    @property
    def next_step(self) -> Step | None:
        """The first step that does something (a write or the wait)."""
        return next((s for s in self.steps if s.kind in (WRITE, WAIT)), None)

    @property
    def escalations(self) -> tuple[Step, ...]:
        """Steps that only explain: nothing here can fix them."""
        return tuple(s for s in self.steps if s.kind == ESCALATE)


@dataclass
class _Facts:
    cluster_id: str
    assessment: Assessment
    known: Mapping[Read, Any]
    now: datetime
    cluster: ClusterFacts | None = None
    key: KeyUrl | None = None
    identity: IdentityFacts | None = None
    vault_ref: VaultRef | None = None
    vault: VaultFacts | None = None
    deleted_vault: DeletedVaultFacts | None = None
    key_facts: KeyFacts | None = None
    checks: dict[str, CheckResult] = field(default_factory=dict)

    def value(self, read: Read) -> Any:
        outcome = self.known.get(read)
        if outcome is None or getattr(outcome, "error", None) is not None:
            return None
        return getattr(outcome, "value", None)

    def forbidden(self, read: Read | None) -> str:
        """The permission the operator lacked reading this target, if they lacked one."""
        outcome = self.known.get(read) if read else None
        error = getattr(outcome, "error", None)
        return error.needs or str(error) if isinstance(error, Forbidden) else ""

    @property
    def vault_id(self) -> str:
        """The vault's id from what was read: the vault, its lookup, or its deleted record ("" if none)."""
        if self.vault:
            return self.vault.id
        if self.vault_ref:
            return self.vault_ref.id
        return self.deleted_vault.vault_id if self.deleted_vault else ""

    def status(self, check_id: str) -> CheckStatus | None:
        check = self.checks.get(check_id)
        return check.status if check else None


def _facts(diagnosis: DiagnosisLike, now: datetime) -> _Facts:
    f = _Facts(diagnosis.cluster_id, diagnosis.assessment, diagnosis.known, now)
    f.checks = {c.id: c for c in diagnosis.assessment.checks}
    cluster = f.value(Read(ReadKind.CLUSTER, (diagnosis.cluster_id,)))
    f.cluster = cluster if isinstance(cluster, ClusterFacts) else None
    if f.cluster is None:
        return f
    f.key = key_url_of(f.cluster)
    if f.cluster.key_identity_id:
        identity = f.value(Read(ReadKind.IDENTITY, (f.cluster.key_identity_id,)))
        f.identity = identity if isinstance(identity, IdentityFacts) else None
    if f.key is None:
        return f
    ref = vault_ref_of(f.cluster, f.key, f.known)
    if isinstance(ref, VaultRef):
        f.vault_ref = ref
        vault = f.value(Read(ReadKind.VAULT, (ref.id,)))
        f.vault = vault if isinstance(vault, VaultFacts) else None
        key = f.value(key_read(ref.id, f.key))
        f.key_facts = key if isinstance(key, KeyFacts) else None
    if f.vault is None:
        f.deleted_vault = deleted_vault_of(f.cluster, f.key, f.vault_ref, f.known)
    return f


def key_permissions_after(granted: Iterable[str], missing: Iterable[str]) -> list[str]:
    """Every key permission the principal holds once `missing` is added, as Key Vault spells them.
    `az keyvault set-policy --key-permissions` REPLACES the principal's list: it must name them all."""
    names = {p.lower(): KEY_PERMISSION_NAMES.get(p.lower(), p) for p in [*granted, *missing]}
    return sorted(names.values(), key=str.lower)


def trusted_services_acls(
    default_action: str | None, ip_rules: Iterable[str], virtual_network_rules: Iterable[str]
) -> dict[str, Any]:
    """The `networkAcls` that allow-trusted-services sends, and its preview shows: bypass
    AzureServices, the default action and every IP and network rule kept. A vault without
    networkAcls has no firewall, so its effective default action, the one kept, is Allow."""
    return {
        "bypass": "AzureServices",
        "defaultAction": default_action or "Allow",
        "ipRules": [{"value": ip} for ip in ip_rules],
        "virtualNetworkRules": [{"id": rule} for rule in virtual_network_rules],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def new_identity_name(old_name: str, now: datetime) -> str:
    """`<old>-<yyyymmddHHMM>`: a fresh name (a same-name identity would not recover anything)."""
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M")
    return f"{old_name[: 128 - len(stamp) - 1]}-{stamp}"


class _Builder:
    def __init__(self, f: _Facts, carry: Carry, expiry_days: int) -> None:
        self.f = f
        self.carry = carry
        self.expiry_days = expiry_days
        self.catalog = load_catalog()
        self.steps: list[tuple[int, int, Step]] = []
        self.notes: list[str] = []
        self.keys: dict[str, int] = {}

    def base_values(self) -> dict[str, Any]:
        f = self.f
        values: dict[str, Any] = {"cluster_id": f.cluster_id}
        c = f.cluster
        if c:
            values.update(
                cluster_name=c.name,
                location=c.location,
                resource_group=c.resource_group,
                subscription_id=c.subscription_id,
                identity_id=c.key_identity_id,
                key_url=c.key_url,
                old_identity_id=c.key_identity_id,
                old_key_url=c.key_url,
            )
        if f.key:
            values.update(vault_name=f.key.vault_name, key_name=f.key.key_name, vault_url=f.key.vault_url)
        vault_id = f.vault_id
        if vault_id:
            values["vault_id"] = vault_id
        if f.key_facts:
            values.update(
                key_version=f.key_facts.version,
                expires=_iso(f.key_facts.expires),
                not_before=_iso(f.key_facts.not_before),
            )
        return values

    def add(
        self,
        remediation: str,
        finding: Finding | str,
        *,
        target: str,
        params: dict[str, Any],
        before: dict[str, Any],
        after: dict[str, Any],
        values: dict[str, Any] | None = None,
        provisional: bool = False,
        doubt: str = "",
        confirm_text: str = "",
        explanation: str = "",
    ) -> None:
        spec = self.catalog.remediations[remediation]
        code = finding.code if isinstance(finding, Finding) else finding
        merged = self.base_values() | (values or {})
        kind = WAIT if remediation == "wait-for-ready" else WRITE
        step = Step(
            remediation=remediation,
            finding=code,
            kind=kind,
            title=spec.title,
            summary=render(spec.summary, merged),
            change=render(spec.change, merged),
            before=before,
            after=after,
            params=params,
            target=target,
            rest=render(spec.rest, merged),
            az=render(spec.az, merged),
            permission=spec.permission,
            reversible=spec.reversible,
            confirm=spec.confirm,
            confirm_text=confirm_text if spec.confirm == "typed" else "",
            verifies=spec.verifies,
            provisional=provisional,
            permission_doubt=doubt,
            explanation=explanation,
        )
        if step.key in self.keys:
            index = self.keys[step.key]
            phase, order, existing = self.steps[index]
            if code != existing.finding and code not in existing.also_fixes:
                existing = replace(existing, also_fixes=(*existing.also_fixes, code))
            self.steps[index] = (phase, order, existing)
            return
        self.keys[step.key] = len(self.steps)
        self.steps.append((PHASE[remediation], len(self.steps), step))

    def escalate(self, finding: Finding, explanation: str) -> None:
        entry = self.catalog.finding(finding.code)
        step = Step(
            remediation="escalate",
            finding=finding.code,
            kind=ESCALATE,
            title=f"Escalate: {entry.title}",
            summary=finding.summary,
            change="nothing: this tool writes nothing for this finding",
            before={},
            after={},
            params={},
            target=self.f.cluster_id,
            explanation=explanation,
            reversible=True,
            confirm="none",
        )
        self.steps.append((ESCALATE_PHASE[finding.severity], len(self.steps), step))

    def defer(self, finding: Finding, remediation: str, explanation: str) -> None:
        spec = self.catalog.remediations[remediation]
        step = Step(
            remediation=remediation,
            finding=finding.code,
            kind=DEFERRED,
            title=f"Later: {spec.title}",
            summary=finding.summary,
            change="nothing now",
            before={},
            after={},
            params={},
            target=self.f.cluster_id,
            explanation=explanation,
            confirm="none",
            verifies=spec.verifies,
        )
        self.steps.append((97, len(self.steps), step))

    def ordered(self) -> tuple[Step, ...]:
        return tuple(step for _, _, step in sorted(self.steps, key=lambda t: (t[0], t[1])))


def _key_change_blocked(f: _Facts, carry: Carry) -> bool:
    """The seed page: after an expiry extension, no key change until the cluster is Ready."""
    codes = {x.code for x in f.assessment.findings}
    ready = bool(f.cluster and f.cluster.cluster_status.lower() == READY)
    return "KEY_EXPIRED" in codes or (carry.expiry_extended and not ready)


def _access_steps(
    b: _Builder,
    finding: Finding,
    principal: str | None,
    *,
    provisional: bool,
    missing: list[str] | None = None,
    new_identity: bool = False,
) -> None:
    f = b.f
    vault_id = f.vault_id
    shown = principal or "<principal of the new identity>"
    rbac = f.vault.rbac_authorization if f.vault else True
    doubt = b.f.forbidden(Read(ReadKind.ROLE_ASSIGNMENTS, (vault_id, principal or ""))) if rbac else ""
    common = {"vault_id": vault_id, "principal_id": principal, "new_identity": new_identity}
    if rbac:
        role_id = (
            f"/subscriptions/{parse_resource_id(vault_id).subscription_id}/providers/"
            f"Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}"
            if vault_id
            else CRYPTO_SERVICE_ENCRYPTION_USER
        )
        b.add(
            "grant-crypto-role",
            finding,
            target=vault_id,
            params=common | {"role_definition_id": role_id, "principal_type": "ServicePrincipal"},
            before={"roleAssignments": []},
            after={
                "roleAssignments": [
                    {
                        "role": CRYPTO_SERVICE_ENCRYPTION_USER,
                        "scope": vault_id,
                        "principalType": "ServicePrincipal",
                    }
                ]
            },
            values={"principal_id": shown},
            provisional=provisional or principal is None,
            doubt=doubt,
        )
        return
    assert f.vault is not None
    granted: set[str] = set()
    for policy in f.vault.access_policies:
        if principal and policy.object_id.lower() == principal.lower():
            granted |= set(policy.key_permissions)
    wanted = (
        missing
        if missing is not None
        else [p for p in REQUIRED_POLICY if "all" not in granted and p.lower() not in granted]
    )
    b.add(
        "add-access-policy",
        finding,
        target=f.vault.id,
        params=common | {"tenant_id": f.vault.tenant_id, "permissions": wanted},
        before={"keyPermissions": sorted(granted)},
        after={"keyPermissions": sorted(granted | {p.lower() for p in wanted})},
        values={
            "principal_id": shown,
            "missing": ", ".join(wanted),
            "missing_space": " ".join(wanted),
            "key_permissions_after": " ".join(key_permissions_after(granted, wanted)),
        },
        provisional=provisional or principal is None,
    )


def _attach(
    b: _Builder, finding: Finding, identity_id: str, *, principal: str | None, provisional: bool = False
) -> None:
    f = b.f
    c = f.cluster
    assert c is not None
    key_url = c.key_url or ""
    if f.key and not _key_change_blocked(f, b.carry):
        key_url = f.key.versionless
    b.add(
        "attach-identity-and-key",
        finding,
        target=c.id,
        params={
            "cluster_id": c.id,
            "identity_id": identity_id,
            "key_url": key_url,
            "principal_id": principal,
        },
        before={
            "keyIdentity": c.key_identity_id,
            "keyUrl": c.key_url,
            "identities": [a.resource_id for a in c.attached_identities],
        },
        after={"keyIdentity": identity_id, "keyUrl": key_url},
        values={"identity_id": identity_id, "key_url": key_url},
        provisional=provisional,
        doubt=f.forbidden(Read(ReadKind.CLUSTER, (c.id,))),
    )


def _plan_finding(b: _Builder, finding: Finding) -> None:
    f, carry = b.f, b.carry
    code = finding.code
    c = f.cluster
    if code in (
        "CLUSTER_NOT_FOUND",
        "VAULT_PURGED",
        "KEY_PURGED",
        "KEY_TYPE_UNSUPPORTED",
        "VAULT_TENANT_MISMATCH",
        "VAULT_REGION_MISMATCH",
    ):
        b.escalate(finding, ESCALATIONS[code])
        return
    if c is None or code in ("CLUSTER_NOT_CMK", "CLUSTER_INACCESSIBLE"):
        return
    key_target = f"{f.vault.id if f.vault else ''}/keys/{f.key.key_name if f.key else ''}"
    key_params = {
        "vault_id": f.vault.id if f.vault else "",
        "vault_url": f.key.vault_url if f.key else "",
        "key_name": f.key.key_name if f.key else "",
        "version": f.key_facts.version if f.key_facts else None,
    }
    key_doubt = f.forbidden(key_read(f.vault.id, f.key)) if (f.vault and f.key) else ""
    match code:
        case "VAULT_SOFT_DELETED":
            d = f.deleted_vault
            assert d is not None
            assert f.key is not None
            b.add(
                "recover-vault",
                finding,
                target=d.vault_id,
                params={
                    "vault_id": d.vault_id,
                    "vault_name": d.name,
                    "location": d.location,
                    "tenant_id": f.identity.tenant_id if f.identity else "",
                    "sku": "standard",
                },
                before={
                    "state": "soft-deleted",
                    "deletionDate": _iso(d.deletion_date),
                    "scheduledPurgeDate": _iso(d.scheduled_purge_date),
                },
                after={"state": "recovered"},
                values={"vault_id": d.vault_id, "location": d.location},
            )
            principal = f.identity.principal_id if f.identity else None
            _access_steps(b, finding, principal, provisional=True)
        case "VAULT_FIREWALL_BLOCKS_SERVICE":
            v = f.vault
            assert v is not None
            acls = trusted_services_acls(v.network_default_action, v.ip_rules, v.virtual_network_rules)
            b.add(
                "allow-trusted-services",
                finding,
                target=v.id,
                params={"vault_id": v.id},
                before={
                    "bypass": v.network_bypass,
                    "defaultAction": v.network_default_action,
                    "publicNetworkAccess": v.public_network_access,
                    "ipRules": list(v.ip_rules),
                    "virtualNetworkRules": list(v.virtual_network_rules),
                },
                after={
                    "bypass": acls["bypass"],
                    "defaultAction": acls["defaultAction"],
                    "publicNetworkAccess": v.public_network_access,
                    "ipRules": [r["value"] for r in acls["ipRules"]],
                    "virtualNetworkRules": [r["id"] for r in acls["virtualNetworkRules"]],
                },
                values={"bypass": v.network_bypass},
            )
        case "VAULT_PURGE_PROTECTION_OFF":
            v = f.vault
            assert v is not None
            b.add(
                "enable-purge-protection",
                finding,
                target=v.id,
                params={"vault_id": v.id},
                before={"enablePurgeProtection": v.purge_protection},
                after={"enablePurgeProtection": True},
                values={"purge_protection": v.purge_protection},
                confirm_text=v.name,
            )
        case "RBAC_ROLE_MISSING" | "ACCESS_POLICY_MISSING":
            principal = str(finding.evidence.get("principalId") or "") or None
            missing = finding.evidence.get("missing") if code == "ACCESS_POLICY_MISSING" else None
            _access_steps(
                b,
                finding,
                principal,
                provisional=False,
                missing=list(missing) if isinstance(missing, list) else None,
            )
        case "KEY_SOFT_DELETED":
            assert f.key is not None
            vault_id = f.vault_id
            b.add(
                "recover-key",
                finding,
                target=f"{vault_id}/keys/{f.key.key_name}",
                params=key_params,
                before={"state": "soft-deleted", "deletedOn": finding.evidence.get("deletedOn")},
                after={"state": "recovered"},
            )
        case "KEY_DISABLED":
            b.add(
                "enable-key",
                finding,
                target=key_target,
                params=key_params,
                before={"enabled": False},
                after={"enabled": True},
                doubt=key_doubt,
            )
        case "KEY_EXPIRED" | "KEY_EXPIRING_SOON":
            new = f.now + timedelta(days=b.expiry_days)
            old = f.key_facts.expires if f.key_facts else None
            b.add(
                "extend-key-expiry",
                finding,
                target=key_target,
                params=key_params | {"expires_on": _iso(new)},
                before={"expires": _iso(old)},
                after={"expires": _iso(new)},
                values={"new_expires": _iso(new)},
                doubt=key_doubt,
            )
        case "KEY_NOT_YET_ACTIVE":
            old = f.key_facts.not_before if f.key_facts else None
            b.add(
                "clear-key-not-before",
                finding,
                target=key_target,
                params=key_params | {"not_before": _iso(f.now)},
                before={"notBefore": _iso(old)},
                after={"notBefore": _iso(f.now)},
                values={"new_not_before": _iso(f.now)},
                doubt=key_doubt,
            )
        case "IDENTITY_DELETED":
            _plan_identity_deleted(b, finding)
        case "IDENTITY_RECREATED":
            identity = f.identity
            assert identity is not None
            rbac = f.vault.rbac_authorization if f.vault else True
            access = f.checks.get("access.rbac" if rbac else "access.policy")
            if access is None or access.status != CheckStatus.PASS:
                missing = access.evidence.get("missing") if access and not rbac else None
                _access_steps(
                    b,
                    finding,
                    identity.principal_id,
                    provisional=False,
                    missing=list(missing) if isinstance(missing, list) else None,
                )
            _attach(b, finding, identity.id, principal=identity.principal_id)
        case "IDENTITY_NOT_ATTACHED":
            if c.key_identity_id:
                _attach(
                    b, finding, c.key_identity_id, principal=f.identity.principal_id if f.identity else None
                )
        case "CLUSTER_KEY_URL_VERSIONED":
            if _key_change_blocked(f, carry):
                b.defer(
                    finding,
                    "attach-identity-and-key",
                    "The seed page: after extending an expired key, change neither the key nor "
                    "the cluster's key URL until the cluster is Ready again. Run the fix again "
                    "once it is Ready.",
                )
            elif c.key_identity_id:
                _attach(
                    b, finding, c.key_identity_id, principal=f.identity.principal_id if f.identity else None
                )
        case "CLUSTER_PROVISIONING_FAILED":
            b.add(
                "delete-failed-cluster",
                finding,
                target=c.id,
                params={"cluster_id": c.id},
                before={"clusterStatus": c.cluster_status, "provisioningState": c.provisioning_state},
                after={"cluster": "deleted"},
                confirm_text=c.name,
            )
        case _:
            entry = b.catalog.finding(code)
            if not entry.remediations:
                b.escalate(finding, entry.explanation)


def _plan_identity_deleted(b: _Builder, finding: Finding) -> None:
    f, carry = b.f, b.carry
    c = f.cluster
    assert c is not None
    assert c.key_identity_id
    old = parse_resource_id(c.key_identity_id)
    new = carry.new_identity
    if new is None:
        name = new_identity_name(old.name, f.now)
        new_id = (
            f"/subscriptions/{c.subscription_id}/resourceGroups/{c.resource_group}/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        )
        b.add(
            "create-identity",
            finding,
            target=new_id,
            params={
                "subscription_id": c.subscription_id,
                "resource_group": c.resource_group,
                "name": name,
                "location": c.location,
                "identity_id": new_id,
            },
            before={"identity": None},
            after={"identity": new_id, "location": c.location},
            values={"new_identity_name": name},
        )
        _access_steps(b, finding, None, provisional=True, new_identity=True)
        _attach(b, finding, new_id, principal=None, provisional=True)
        return
    if new.principal_id.lower() not in carry.granted_principals:
        _access_steps(b, finding, new.principal_id, provisional=False, new_identity=True)
    _attach(b, finding, new.id, principal=new.principal_id)


def scope_of(codes: Collection[str] | None, findings: tuple[Finding, ...]) -> set[str] | None:
    """The finding codes a fix covers: the chosen ones, their follow-ups, and the symptom."""
    if codes is None:
        return None
    scope = set(codes) | {"CLUSTER_INACCESSIBLE"}
    for code in list(scope):
        scope |= set(FOLLOW_UPS.get(code, ()))
    if "CLUSTER_PROVISIONING_FAILED" in scope:
        scope |= {x.code for x in findings if x.severity == Severity.CRITICAL}
    return scope


def plan_fixes(
    diagnosis: DiagnosisLike,
    *,
    scope: Collection[str] | None = None,
    carry: Carry | None = None,
    now: datetime | None = None,
    expiry_days: int = DEFAULT_EXPIRY_DAYS,
) -> Plan:
    """An ordered plan for the findings in `scope` (None: every finding)."""
    carry = carry or Carry()
    f = _facts(diagnosis, now or datetime.now(UTC))
    b = _Builder(f, carry, expiry_days)
    findings = diagnosis.assessment.findings
    wanted = scope_of(scope, findings)
    chosen = [x for x in findings if wanted is None or x.code in wanted]
    for finding in chosen:
        _plan_finding(b, finding)
    c = f.cluster
    failed = any(x.code == "CLUSTER_PROVISIONING_FAILED" for x in chosen)
    if c is not None and c.is_cmk and not failed and c.cluster_status.lower() != READY:
        causes = [
            x for x in findings if x.severity == Severity.CRITICAL and not b.catalog.finding(x.code).symptom
        ]
        covered = {s.finding for _, _, s in b.steps if s.kind == WRITE} | {
            code for _, _, s in b.steps if s.kind == WRITE for code in s.also_fixes
        }
        uncovered = [x.code for x in causes if x.code not in covered]
        if uncovered:
            b.notes.append(
                f"no wait for Ready yet: the cluster stays {c.cluster_status} until these "
                "causes are fixed too: " + ", ".join(uncovered)
            )
        else:
            symptom = next((x for x in findings if x.code == "CLUSTER_INACCESSIBLE"), None)
            b.add(
                "wait-for-ready",
                symptom or "CLUSTER_INACCESSIBLE",
                target=c.id,
                params={"cluster_id": c.id},
                before={"clusterStatus": c.cluster_status},
                after={"clusterStatus": "Ready"},
            )
    if wanted is not None:
        missing = set(scope or ()) - {x.code for x in findings}
        if missing:
            b.notes.append("not found in this diagnosis: " + ", ".join(sorted(missing)))
    return Plan(f.cluster_id, b.ordered(), tuple(b.notes))
