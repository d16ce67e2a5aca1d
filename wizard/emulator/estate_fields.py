"""Validating one mapping of an estate file: typed getters that name the field, dates, unknown fields."""

from __future__ import annotations

import math
import re
import reprlib
from datetime import UTC, date, datetime
from typing import Any

from wizard.emulator.model import SECONDS_PER_DAY

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RELATIVE = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": SECONDS_PER_DAY}
EARLIEST, LATEST = 0, 253_402_300_799
"""The dates an estate may give: 1970-01-01 to 9999-12-31 (epoch seconds), what a key's attributes
and Python's datetime can both hold."""
MAX_RELATIVE_SECONDS = 100 * 366 * SECONDS_PER_DAY
QUOTE_LIMIT = 80
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring = 3, 4, 4, QUOTE_LIMIT


class EstateError(ValueError):
    """A bad scenario name or estate file: the message is one line that names the field."""


def shown(value: object) -> str:
    """An offending value as an error message quotes it: bounded however large or deep it is."""
    text = _REPR.repr(value)
    return _capped(text)


def _capped(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "\u2026"


class Fields:
    """A mapping being validated: typed getters that name the field, and unknown-field detection."""

    def __init__(self, data: Any, path: str, source: str) -> None:
        if not isinstance(data, dict):
            raise EstateError(f"estate {source}: {path or 'top level'} must be a mapping")
        self.data, self.path, self.source, self.seen = data, path, source, set[str]()

    def fail(self, key: str, problem: str) -> EstateError:
        """An error naming `path.key`."""
        where = _capped(f"{self.path}.{key}" if self.path else key)
        return EstateError(f"estate {self.source}: {where}: {problem}")

    def raw(self, key: str) -> Any:
        """The value, marking the field as known."""
        self.seen.add(key)
        return self.data.get(key)

    def text(
        self,
        key: str,
        default: str | None = None,
        *,
        pattern: re.Pattern[str] | None = None,
        choices: tuple[str, ...] = (),
    ) -> str:
        """A required (or defaulted) string, checked against a pattern or a choice list."""
        value = self.raw(key)
        if value is None:
            if default is None:
                raise self.fail(key, "required")
            return default
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {shown(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"{shown(value)} is not a valid name")
        if choices:
            match = next((c for c in choices if c.lower() == value.lower()), None)
            if match is None:
                raise self.fail(key, f"{shown(value)} is not one of {', '.join(choices)}")
            return match
        return value

    def opt_text(self, key: str) -> str | None:
        """An optional string."""
        return self.text(key, "") or None if self.raw(key) is not None else None

    def guid(self, key: str) -> str | None:
        """An optional GUID."""
        value = self.opt_text(key)
        if value is not None and not GUID.match(value):
            raise self.fail(key, f"{shown(value)} is not a GUID")
        return value

    def flag(self, key: str, default: bool) -> bool:
        """A boolean."""
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {shown(value)}")
        return value

    def number(self, key: str, default: int, *, minimum: int, maximum: int) -> int:
        """An integer within bounds."""
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.fail(key, f"expected an integer from {minimum} to {maximum}, got {shown(value)}")
        return value

    def seconds(self, key: str, maximum: float = 3600.0) -> float:
        """A finite number of seconds from 0 to `maximum` (0 when absent)."""
        value = self.raw(key)
        if value is None:
            return 0.0
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 <= value <= maximum
        ):
            raise self.fail(key, f"expected a number of seconds from 0 to {maximum:g}, got {shown(value)}")
        return float(value)

    def items(self, key: str) -> list[Any]:
        """An optional list."""
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {type(value).__name__}")
        return value

    def strings(self, key: str, default: list[str] | None = None) -> list[str]:
        """An optional list of strings."""
        if self.raw(key) is None and default is not None:
            return list(default)
        values = self.items(key)
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value:
                raise self.fail(f"{key}[{index}]", f"expected a non-empty string, got {shown(value)}")
        return list(values)

    def tags(self, key: str = "tags") -> dict[str, str]:
        """A mapping of strings to strings."""
        value = self.raw(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
            raise self.fail(key, "expected a mapping of names to strings")
        return {str(k): str(v) for k, v in value.items()}

    def child(self, key: str) -> Fields | None:
        """An optional nested mapping."""
        value = self.raw(key)
        return (
            None if value is None else Fields(value, f"{self.path}.{key}" if self.path else key, self.source)
        )

    def when(self, key: str, now: float) -> int | None:
        """A date: relative (`-2d`, `+30d`, `+6h`, `now`; up to 100 years away), ISO 8601, or epoch
        seconds; absolute dates from 1970-01-01 to 9999-12-31."""
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() == "now":
            return int(now)
        match = _RELATIVE.match(value.strip()) if isinstance(value, str) else None
        if match:
            offset = float(match.group(2)) * _UNITS[match.group(3)]
            if not offset <= MAX_RELATIVE_SECONDS:
                raise self.fail(key, f"{shown(value)} is more than 100 years away")
            return int(now + (offset if match.group(1) == "+" else -offset))
        moment = self._absolute(key, value)
        if not (math.isfinite(moment) and EARLIEST <= moment <= LATEST):
            raise self.fail(key, f"{shown(value)} is not between 1970-01-01 and 9999-12-31")
        return int(moment)

    def _absolute(self, key: str, value: Any) -> float:
        """An absolute date in epoch seconds (infinite when too large to hold)."""
        if isinstance(value, bool):
            raise self.fail(key, f"expected a date, got {shown(value)}")
        if isinstance(value, int | float):
            return float(value) if abs(value) < 1e300 else math.inf
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
            except (ValueError, OverflowError):
                pass
        raise self.fail(
            key, f"{shown(value)} is not a date (use -2d, +30d, +6h, now, ISO 8601 or epoch seconds)"
        )

    def done(self) -> None:
        """Reject fields we do not know: a typo must not silently mean 'default'."""
        unknown = sorted(set(map(str, self.data)) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "unknown field")


def field_items(obj: Fields, key: str) -> list[Fields]:
    """The list under `key` as mappings to validate."""
    return [
        Fields(item, f"{obj.path + '.' if obj.path else ''}{key}[{i}]", obj.source)
        for i, item in enumerate(obj.items(key))
    ]


def resource_groups(
    top: Fields, subscription: str, name: re.Pattern[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """`resourceGroups`: (groups that exist with nothing in them yet, groups that were deleted);
    each a name, or {name, subscriptionId, deleted}."""
    groups: list[tuple[str, str]] = []
    deleted: list[tuple[str, str]] = []
    for index, item in enumerate(top.items("resourceGroups")):
        path = f"resourceGroups[{index}]"
        entry = Fields({"name": item} if isinstance(item, str) else item, path, top.source)
        group = (entry.guid("subscriptionId") or subscription, entry.text("name", pattern=name))
        (deleted if entry.flag("deleted", False) else groups).append(group)
        entry.done()
    return groups, deleted


PAGE_FIELDS = {
    "roleAssignments": "role_assignments",
    "roleDefinitions": "role_definitions",
    "vaults": "vaults",
    "deletedVaults": "deleted_vaults",
}
"""`paging` keys and the lists they size (see wizard.emulator.arm.paging)."""


def paging(top: Fields) -> dict[str, int]:
    """`paging`: items per page of each ARM list the estate wants smaller (or larger) than the default."""
    block = top.child("paging")
    if block is None:
        return {}
    found = {
        name: block.number(key, 0, minimum=1, maximum=100_000)
        for key, name in PAGE_FIELDS.items()
        if block.data.get(key) is not None
    }
    block.done()
    return found


TIMING = {
    "operationSeconds": "operation_seconds",
    "keyLagSeconds": "key_lag_seconds",
    "grantPropagationSeconds": "grant_propagation_seconds",
    "vaultRecoverLagSeconds": "vault_recover_lag_seconds",
}
"""The estate's `timing` fields and the State attributes they set."""


def timing(top: Fields) -> dict[str, float]:
    """`timing`: the State attribute each given field sets (all 0 unless the estate says otherwise)."""
    block = top.child("timing")
    if block is None:
        return {}
    found = {attr: block.seconds(name) for name, attr in TIMING.items()}
    block.done()
    return found
