"""Writes to a key through the vault's data plane: extend its expiry, enable it, clear its
activation date, recover it. Called by GatewayWriter.apply, which guards and audits each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wizard.azure.errors import call
from wizard.azure.states import key_state
from wizard.domain.actions import ClearKeyNotBefore, EnableKey, ExtendKeyExpiry, RecoverKey
from wizard.domain.errors import NotFound
from wizard.domain.results import WriteResult
from wizard.domain.times import iso, parse_iso

if TYPE_CHECKING:
    from wizard.azure.writes import GatewayWriter

NEEDS_KEY_UPDATE = "keys/update on the vault's data plane (Key Vault Crypto Officer)"
NEEDS_KEY_RECOVER = "keys/recover on the vault's data plane (Key Vault Crypto Officer)"


def _key_before(
    writer: GatewayWriter, vault_id: str, key_name: str, version: str | None = None
) -> dict[str, Any]:
    return key_state(writer.gateway.get_key(vault_id, key_name, version or None))


KeyAttributeAction = ExtendKeyExpiry | EnableKey | ClearKeyNotBefore


def _patch_key_attributes(
    writer: GatewayWriter,
    a: KeyAttributeAction,
    body: dict[str, Any],
    done: Callable[[dict[str, Any]], str | None],
    label: str,
    **changes: Any,
) -> WriteResult:
    """One audited PATCH of a key's attributes (the version the cluster uses, or the latest)."""
    path = f"{a.vault_url.rstrip('/')}/keys/{a.key_name}" + (f"/{a.version}" if a.version else "")
    request = {"method": "PATCH", "url": f"{path}?api-version=2025-07-01", "body": {"attributes": body}}
    client = writer.factory.keys(a.vault_url)

    def state() -> dict[str, Any]:
        return key_state(writer.gateway.get_key(a.vault_id, a.key_name, a.version or None))

    def act(before: dict[str, Any]) -> Any:
        version = a.version or before.get("version") or None
        return call(
            label, NEEDS_KEY_UPDATE, lambda: client.update_key_properties(a.key_name, version, **changes)
        )

    return writer.audited(
        a.remediation,
        f"{a.vault_id}/keys/{a.key_name}",
        request,
        before=state,
        done=done,
        act=act,
        after=state,
    )


def extend_key_expiry(writer: GatewayWriter, a: ExtendKeyExpiry) -> WriteResult:
    """Move the key's expiry to `expires_on` (update_key_properties)."""
    new = parse_iso(a.expires_on)

    def done(before: dict[str, Any]) -> str | None:
        current = before.get("expires")
        if current is None:
            return "the key has no expiry date"
        if parse_iso(current) >= new:
            return f"the key already expires on {current}"
        return None

    label = f"extend expiry of key {a.key_name}"
    return _patch_key_attributes(writer, a, {"exp": iso(new)}, done, label, expires_on=new)


def enable_key(writer: GatewayWriter, a: EnableKey) -> WriteResult:
    """Set the key's enabled attribute to true."""

    def done(before: dict[str, Any]) -> str | None:
        return "the key is already enabled" if before.get("enabled") is not False else None

    label = f"enable key {a.key_name}"
    return _patch_key_attributes(writer, a, {"enabled": True}, done, label, enabled=True)


def clear_key_not_before(writer: GatewayWriter, a: ClearKeyNotBefore) -> WriteResult:
    """Move the key's activation date to `not_before` (or now)."""
    new = parse_iso(a.not_before) if a.not_before else datetime.now(UTC)

    def done(before: dict[str, Any]) -> str | None:
        current = before.get("notBefore")
        if current is None or parse_iso(current) <= datetime.now(UTC):
            return "the key is already active"
        return None

    label = f"set activation date of key {a.key_name}"
    return _patch_key_attributes(writer, a, {"nbf": iso(new)}, done, label, not_before=new)


def recover_key(writer: GatewayWriter, a: RecoverKey) -> WriteResult:
    """Recover a soft-deleted key (begin_recover_deleted_key)."""

    def before() -> dict[str, Any]:
        try:
            return {"state": "present", **_key_before(writer, a.vault_id, a.key_name)}
        except NotFound:
            deleted = writer.gateway.get_deleted_key(a.vault_url, a.key_name)
            return {
                "state": "soft-deleted",
                "deletedOn": iso(deleted.deleted_on),
                "scheduledPurgeDate": iso(deleted.scheduled_purge_date),
            }

    def act(_: dict[str, Any]) -> Any:
        client = writer.factory.keys(a.vault_url)
        interval = writer.factory.polling_interval
        return call(
            f"recover key {a.key_name}",
            NEEDS_KEY_RECOVER,
            lambda: writer.waited(
                client.begin_recover_deleted_key(a.key_name, _polling_interval=interval),
                f"key {a.key_name} recovery",
            ).result(),
        )

    return writer.audited(
        a.remediation,
        f"{a.vault_id}/keys/{a.key_name}",
        {
            "method": "POST",
            "url": f"{a.vault_url.rstrip('/')}/deletedkeys/{a.key_name}/recover?api-version=2025-07-01",
        },
        before=before,
        done=lambda b: "the key is not deleted" if b.get("state") == "present" else None,
        act=act,
        after=before,
    )
