"""Lock preflight: before a fix sends anything, read the management locks at and above each ARM
write's target and flag the steps a lock will refuse (409 ScopeLocked), with the lock advice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

from wizard.domain.background import in_background
from wizard.domain.errors import WizardError
from wizard.domain.models import LockReading
from wizard.domain.results import StepKind
from wizard.engine.steps import Plan, Step
from wizard.run.advice import locked_scopes_advice

ARM_HOST = "https://management.azure.com"


def arm_request(step: Step) -> tuple[str, bool] | None:
    """(the ARM path the step writes, whether it deletes); None for a data-plane step (locks are
    control plane only) or a step that writes nothing."""
    if step.kind != StepKind.WRITE:
        return None
    method, _, rest = step.rest.partition(" ")
    if not rest.startswith(ARM_HOST):
        return None
    path = rest[len(ARM_HOST) :].split("?", 1)[0].split(" ", 1)[0]
    return (path, method.upper() == "DELETE") if path.startswith("/subscriptions/") else None


def resource_of(path: str) -> str:
    """The resource (or group, or subscription) a path is on: the level its locks are read at."""
    return "/" + "/".join(path.strip("/").split("/")[:8])


class LockPreflight:
    """Reads each resource's locks once per session (`read`: the gateway's `locks_at`)."""

    def __init__(self, read: Callable[[str], LockReading]) -> None:
        self._read = read
        self._seen: dict[str, LockReading | None] = {}

    def reading(self, resource: str) -> LockReading | None:
        """The locks at and above `resource`, read once; None when they could not be read."""
        key = resource.lower()
        if key not in self._seen:
            self._seen[key] = self._try(resource)
        return self._seen[key]

    def _try(self, resource: str) -> LockReading | None:
        try:
            return self._read(resource)
        except WizardError:
            return None

    def flag(self, step: Step) -> Step:
        """The step with `lock` set when a lock at or above its target will refuse it."""
        request = arm_request(step)
        if request is None:
            return step
        path, deleting = request
        reading = self.reading(resource_of(path))
        if reading is None:
            return step
        refusing = [x for x in reading.locks if x.covers(path) and x.refuses(deleting=deleting)]
        if not refusing:
            return step
        scopes = list(dict.fromkeys(x.scope for x in refusing))
        return replace(step, lock=locked_scopes_advice(scopes, deleting=deleting, ahead=True))

    def plan(self, plan: Plan) -> Plan:
        """Every write of the plan checked against the locks over it (the resources not read yet
        are read side by side first)."""
        unread = {
            resource_of(r[0]).lower(): resource_of(r[0])
            for r in map(arm_request, plan.steps)
            if r is not None and resource_of(r[0]).lower() not in self._seen
        }
        readings = {k: in_background(partial(self._try, r), "cmk-lock-preflight") for k, r in unread.items()}
        self._seen.update({key: reading.result() for key, reading in readings.items()})
        return replace(plan, steps=tuple(self.flag(s) for s in plan.steps))
