"""Checks on the key, read through the management plane: exists, enabled, in date, a supported type."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from wizard.domain.models import CheckStatus, KeyFacts
from wizard.domain.times import iso
from wizard.engine.checks.gate import CheckContext
from wizard.engine.checks.registry import check
from wizard.engine.checks.verdict import Verdict, skip

EXPIRY_WARNING = timedelta(days=30)
SUPPORTED_KTY = {"rsa", "rsa-hsm"}
SUPPORTED_SIZES = {2048, 3072, 4096}


@check("key.exists", needs=("key", "deleted_key"), judges=("key",))
def key_exists(ctx: CheckContext) -> Verdict:
    """A key missing from its vault is soft-deleted (recoverable) or purged (lost)."""
    facts = ctx.facts
    read, key_url = facts.key_read, facts.key_url
    assert read is not None
    assert key_url is not None
    key = facts.key
    if key is not None:
        evidence = {"keyUri": key.key_uri, "version": key.version}
        return Verdict(CheckStatus.PASS, f"current version {key.version}", evidence, reads=[read])
    deleted_read = facts.deleted_key_read
    assert deleted_read is not None
    waiting = ctx.wait(deleted_read)
    if waiting:
        if waiting.status == CheckStatus.UNKNOWN:
            detail = "the key is not in the vault; whether it is soft-deleted: " + waiting.detail
            return replace(waiting, detail=detail)
        return waiting
    deleted = facts.deleted_key
    if deleted is not None:
        evidence = {
            "deletedOn": iso(deleted.deleted_on, "auto"),
            "scheduledPurgeDate": iso(deleted.scheduled_purge_date, "auto"),
            "recoveryId": deleted.recovery_id,
        }
        values = {
            "deleted_on": iso(deleted.deleted_on, "auto"),
            "scheduled_purge_date": iso(deleted.scheduled_purge_date, "auto"),
        }
        return Verdict(
            CheckStatus.FAIL,
            "soft-deleted: recoverable",
            evidence,
            [("KEY_SOFT_DELETED", values | evidence)],
            reads=[read, deleted_read],
        )
    return Verdict(
        CheckStatus.FAIL,
        "not in the vault and not among its deleted keys",
        {"keyName": key_url.key_name},
        [("KEY_PURGED", {})],
        reads=[read, deleted_read],
    )


@check("key.enabled", needs=("key",))
def key_enabled(ctx: CheckContext) -> Verdict:
    """A disabled key cannot wrap or unwrap: the cluster loses its data key."""
    key, read = ctx.facts.key, ctx.facts.key_read
    assert key is not None
    assert read is not None
    evidence = {"enabled": key.enabled, "version": key.version}
    if key.enabled is False:
        return Verdict(
            CheckStatus.FAIL,
            "disabled",
            evidence,
            [("KEY_DISABLED", {"key_version": key.version})],
            reads=[read],
        )
    return Verdict(CheckStatus.PASS, "enabled", evidence, reads=[read])


@check("key.dates", needs=("key",))
def key_dates(ctx: CheckContext) -> Verdict:
    """Expired or not yet active keys stop the cluster; one expiring within 30 days soon will."""
    key, read, now = ctx.facts.key, ctx.facts.key_read, ctx.now
    assert key is not None
    assert read is not None
    evidence = {"notBefore": iso(key.not_before, "auto"), "expiresOn": iso(key.expires, "auto")}
    values = {
        "expires": iso(key.expires, "auto"),
        "not_before": iso(key.not_before, "auto"),
        "key_version": key.version,
    }
    findings: list[tuple[str, dict[str, Any]]] = []
    if key.expires is not None and key.expires <= now:
        findings.append(("KEY_EXPIRED", values | evidence))
    if key.not_before is not None and key.not_before > now:
        findings.append(("KEY_NOT_YET_ACTIVE", values | evidence))
    if findings:
        return Verdict(
            CheckStatus.FAIL,
            ", ".join(code.lower().replace("_", " ").removeprefix("key ") for code, _ in findings),
            evidence,
            findings,
            reads=[read],
        )
    if key.expires is not None and key.expires - now <= EXPIRY_WARNING:
        days = (key.expires - now).days
        return Verdict(
            CheckStatus.FAIL,
            f"expires in {days} days",
            evidence,
            [("KEY_EXPIRING_SOON", values | evidence | {"days_left": days})],
            reads=[read],
        )
    detail = f"expires {iso(key.expires, 'auto')}" if key.expires else "no expiry date"
    return Verdict(CheckStatus.PASS, detail, evidence, reads=[read])


@check("key.type", needs=("key",))
def key_type(ctx: CheckContext) -> Verdict:
    """The service wraps with RSA keys of 2048, 3072 or 4096 bits only."""
    key, read = ctx.facts.key, ctx.facts.key_read
    assert key is not None
    assert read is not None
    evidence = {"kty": key.kty, "keySize": key.key_size}
    kty_ok = (key.kty or "").lower() in SUPPORTED_KTY
    size_ok = key.key_size is None or key.key_size in SUPPORTED_SIZES
    if kty_ok and size_ok:
        return Verdict(CheckStatus.PASS, f"{key.kty} {key.key_size or ''}".strip(), evidence, reads=[read])
    return Verdict(
        CheckStatus.FAIL,
        f"{key.kty} {key.key_size}",
        evidence,
        [("KEY_TYPE_UNSUPPORTED", {"key_kind": key_kind(key)})],
        reads=[read],
    )


def key_kind(key: KeyFacts) -> str:
    """`RSA 2048`, or `EC` where the management plane gives a curve and no size."""
    return f"{key.kty} {key.key_size}" if key.key_size else str(key.kty)


def unusable_because(key: KeyFacts, now: datetime) -> list[str]:
    """Why the service could not wrap with this key version (empty: it could)."""
    problems = []
    if key.enabled is False:
        problems.append("disabled")
    if key.not_before is not None and key.not_before > now:
        problems.append(f"not active until {iso(key.not_before, 'auto')}")
    if key.expires is not None and key.expires <= now:
        problems.append(f"expired on {iso(key.expires, 'auto')}")
    if (key.kty or "").lower() not in SUPPORTED_KTY or (
        key.key_size is not None and key.key_size not in SUPPORTED_SIZES
    ):
        problems.append(f"{key_kind(key)}, a type the service cannot wrap with")
    return problems


@check("key.newest", needs=("key",))
def key_newest(ctx: CheckContext) -> Verdict:
    """A versioned key URL may move to the versionless one only if the newest version is usable:
    else the move itself takes the cluster down (up to an hour each way).

    UNVERIFIED: whether the versions of one key can differ in type and size (the management
    plane reports kty per version); the newest version's own are judged, so either way the
    version a move would use is the one judged."""
    facts = ctx.facts
    key_url, read = facts.key_url, facts.newest_key_read
    assert key_url is not None
    assert read is not None
    if not key_url.version:
        return skip("the key URL is versionless: the cluster already uses the newest version")
    waiting = ctx.wait(read)
    if waiting:
        return waiting
    newest = facts.newest_key
    if newest is None:
        return Verdict(CheckStatus.UNKNOWN, "the newest version could not be read", reads=[read])
    evidence: dict[str, Any] = {
        "newestVersion": newest.version,
        "enabled": newest.enabled,
        "notBefore": iso(newest.not_before, "auto"),
        "expiresOn": iso(newest.expires, "auto"),
        "kty": newest.kty,
        "keySize": newest.key_size,
    }
    if (newest.version or "").lower() == key_url.version.lower():
        return Verdict(CheckStatus.PASS, "the pinned version is the newest", evidence, reads=[read])
    problems = unusable_because(newest, ctx.now)
    if not problems and newest.expires is not None and newest.expires - ctx.now <= EXPIRY_WARNING:
        problems.append(f"expiring on {iso(newest.expires, 'auto')}, within 30 days")
    if problems:
        evidence["problems"] = problems
        detail = f"newest version {newest.version} is " + ", ".join(problems)
        return Verdict(CheckStatus.FAIL, detail, evidence, reads=[read])
    return Verdict(CheckStatus.PASS, f"newest version {newest.version} is usable", evidence, reads=[read])
