"""The remediation executor: apply one step, verify it by diagnosing again, re-plan, repeat.

The TUI drives a `FixSession` step by step (plan -> preview -> confirm -> apply -> verify ->
wait -> report); the CLI's `fix` calls `FixSession.run`. Nothing here imports the Azure SDK or
wizard.azure: the gateway (from the backend) hands out its writer through `gateway.writer(audit)`.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from wizard.domain.errors import (
    AuthFailed,
    BadInput,
    Conflict,
    GatewayError,
    NotFound,
    ReadOnlyViolation,
    WizardError,
)
from wizard.domain.ids import parse_key_url
from wizard.domain.models import CheckStatus, IdentityFacts
from wizard.domain.ports import AzureReader
from wizard.engine.fix_plan import (
    ALREADY_DONE,
    DEFAULT_EXPIRY_DAYS,
    ERROR,
    ESCALATE,
    OK,
    WAIT,
    WRITE,
    Carry,
    Plan,
    Step,
    plan_fixes,
)
from wizard.run.audit import AuditLog
from wizard.run.diagnose import Diagnosis, diagnose

DOCUMENTED_BOUND_SECONDS = 60 * 60
DECLINED, REFUSED, READY, TIMEOUT, CANCELLED = "declined", "refused", "ready", "timeout", "cancelled"
VERIFIED, DEFERRED, FAILED = "verified", "deferred", "failed"


class WritableGateway(AzureReader, Protocol):
    """A reader that can also hand out a guarded, audited writer."""

    read_only: bool
    mode: str

    def writer(self, audit: AuditLog) -> Any:
        """The write methods, each guarded by read-only and audited."""
        ...


@dataclass(frozen=True)
class FixSettings:
    """Knobs of a fix session; `for_mode` picks polling that suits live Azure or the emulator."""

    expiry_days: int = DEFAULT_EXPIRY_DAYS
    wait_timeout: float = float(DOCUMENTED_BOUND_SECONDS)
    wait_poll: float = 60.0
    wait_max_poll: float = 300.0
    max_steps: int = 25

    @classmethod
    def for_mode(cls, mode: str, **overrides: Any) -> FixSettings:
        """Live: poll every 1-5 minutes for up to an hour; emulator: sub-second polls, 60 s."""
        base = cls() if mode == "azure" else cls(wait_timeout=60.0, wait_poll=0.1, wait_max_poll=1.0)
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class Verification:
    """Did the change take? verified, deferred (cannot be seen yet) or failed."""

    status: str
    detail: str
    checks: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class WaitProgress:
    """One poll of wait-for-ready, for a progress line or bar."""

    cluster_status: str
    elapsed: float
    bound: float
    timeout: float
    polls: int
    next_poll_in: float


@dataclass(frozen=True)
class WaitResult:
    """How waiting for Ready ended."""

    ready: bool
    cluster_status: str
    elapsed: float
    bound: float
    timeout: float
    polls: int
    cancelled: bool = False
    error: str = ""

    @property
    def status(self) -> str:
        """ready, timeout, cancelled or error."""
        if self.ready:
            return READY
        if self.cancelled:
            return CANCELLED
        return ERROR if self.error else TIMEOUT

    def describe(self) -> str:
        """One line: what happened, elapsed against the documented bound."""
        where = (
            f"after {self.elapsed:.1f} s ({polls_text(self.polls)}; documented bound "
            f"{self.bound / 60:.0f} min)"
        )
        if self.ready:
            return f"cluster is Ready {where}"
        if self.cancelled:
            return f"stopped waiting {where}; the cluster is {self.cluster_status}"
        if self.error:
            return f"could not poll the cluster: {self.error}"
        return (
            f"still {self.cluster_status} {where}; the service may take up to about 60 minutes: "
            "run `cmk-wizard watch` again later, or escalate if it stays Inaccessible beyond that"
        )


def wait_for_ready(
    reader: AzureReader,
    cluster_id: str,
    *,
    timeout: float = DOCUMENTED_BOUND_SECONDS,
    poll: float = 60.0,
    max_poll: float = 300.0,
    backoff: float = 1.5,
    bound: float = DOCUMENTED_BOUND_SECONDS,
    on_progress: Callable[[WaitProgress], None] | None = None,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WaitResult:
    """Poll the cluster until Ready, with backoff, at most `timeout` seconds; cancellable."""
    cancel = cancel or threading.Event()
    start = clock()
    interval = max(poll, 0.01)
    polls = 0
    status = ""
    while True:
        polls += 1
        try:
            status = reader.get_cluster(cluster_id).cluster_status
        except GatewayError as exc:
            if isinstance(exc, NotFound | AuthFailed):  # gone, or signed out: waiting cannot help
                gone = "gone" if isinstance(exc, NotFound) else "unknown"
                return WaitResult(False, gone, clock() - start, bound, timeout, polls, error=str(exc))
            status = f"unknown ({exc})"
        elapsed = clock() - start
        if status.lower() == "ready":
            return WaitResult(True, status, elapsed, bound, timeout, polls)
        remaining = timeout - elapsed
        if remaining <= 0:
            return WaitResult(False, status, elapsed, bound, timeout, polls)
        pause = min(interval, remaining)
        if on_progress is not None:
            on_progress(WaitProgress(status, elapsed, bound, timeout, polls, pause))
        if cancel.wait(pause):
            return WaitResult(False, status, clock() - start, bound, timeout, polls, cancelled=True)
        interval = min(interval * backoff, max_poll)


def polls_text(polls: int) -> str:
    """`1 poll`, `3 polls`."""
    return f"{polls} poll" + ("" if polls == 1 else "s")


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Only what changed, as (name, before, after), in the order the states name them; a name
    missing on one side is None there."""
    names = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return [(k, before.get(k), after.get(k)) for k in names]


@dataclass(frozen=True)
class StepOutcome:
    """What applying (or declining, or waiting for) one step came to, and what to do next."""

    step: Step
    status: str
    message: str
    advice: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    audit_ids: tuple[str, ...] = ()
    verification: Verification | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    wait: WaitResult | None = None

    @property
    def succeeded(self) -> bool:
        """The step's effect is there (applied or already there) and nothing contradicts it."""
        if self.status == READY:
            return True
        return self.status in (OK, ALREADY_DONE) and (
            self.verification is None or self.verification.status != FAILED
        )


@dataclass(frozen=True)
class TimelineEvent:
    """One line of the incident timeline."""

    at: datetime
    kind: str
    text: str


@dataclass
class FixResult:
    """The end of `FixSession.run`: outcomes, the final diagnosis and the exit code."""

    initial: Diagnosis
    final: Diagnosis
    outcomes: list[StepOutcome]
    escalations: tuple[Step, ...]
    deleted_cluster: bool
    stopped: str = ""
    unconfirmed: Step | None = None

    @property
    def exit_code(self) -> int:
        """As `diagnose`: 0 healthy, 1 critical findings, 3 incomplete; a deleted failed cluster is 0."""
        if self.deleted_cluster:
            return 0
        return self.final.exit_code


def confirmation_ok(step: Step, answer: bool | str | None) -> bool:
    """none: always; yes: True or y/yes; typed: exactly the resource's name."""
    if step.confirm == "none":
        return True
    if step.confirm == "typed":
        return isinstance(answer, str) and answer.strip() == step.confirm_text and bool(step.confirm_text)
    if isinstance(answer, str):
        return answer.strip().lower() in ("y", "yes")
    return answer is True


def auto_confirm(step: Step, names: Collection[str] = ()) -> bool | str | None:
    """`--yes`: confirm y/N steps. A typed step (irreversible or destructive) only when its resource
    name is among `names` (`--confirm-name`); otherwise None: nobody typed it, the run stops there."""
    if step.confirm != "typed":
        return True
    return step.confirm_text if step.confirm_text and step.confirm_text in names else None


_ADVICE = {
    "Forbidden": "you lack the permission for this write: {permission}. Ask someone who holds it, "
    "or have it granted, then run the fix again.",
    "NotFound": "the target was not found: diagnose again; another change may have happened meanwhile.",
    "Conflict": "Azure reported a conflict: diagnose again and retry once the other operation is done.",
    "Throttled": "Azure is throttling or failing: wait a minute and run the fix again.",
    "Unreachable": "Azure could not be reached: check the network (VPN, proxy) and run the fix again.",
    "AuthFailed": "sign in again (`az login`) and run the fix again.",
    "ReadOnlyViolation": "the wizard runs read-only: start it without --read-only to apply fixes.",
    "WriteRefused": "nothing was changed; check the target and run the fix again.",
}


_LOCKED_SCOPES = re.compile(r"following scope\(s\) are locked: (.+?)\. Please", re.DOTALL)
_QUOTED = re.compile(r"'([^']+)'")
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE)
_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)


def lock_advice(exc: Conflict, step: Step) -> str:
    """A management lock refused the write: say where each lock is, how to see it, and what its
    owner can change; we never touch locks."""
    found = _LOCKED_SCOPES.search(str(exc))
    scopes = _QUOTED.findall(found.group(1)) if found else []
    scopes = scopes or [step.target]
    commands = []
    for scope in scopes:
        sub, group = _SUBSCRIPTION.search(scope), _GROUP.search(scope)
        where = f" --resource-group {group.group(1)}" if group else ""
        within = f" --subscription {sub.group(1)}" if sub else ""
        commands.append(f"`az lock list{where}{within} --output table`")
    deleting = "delete operation" in str(exc)
    change = (
        "remove it (a CanNotDelete lock refuses deletes)"
        if deleting
        else "remove it or make it CanNotDelete (a ReadOnly lock refuses every write)"
    )
    return (
        f"a management lock on {', '.join(scopes)} refuses this "
        f"{'delete' if deleting else 'write'} (ScopeLocked). See it with {', '.join(commands)}; "
        f"its owner (Owner or User Access Administrator) can {change}, then run the fix again. "
        "cmk-wizard never removes locks."
    )


def advice_for(exc: BaseException, step: Step) -> str:
    """What the operator should do about a failed write."""
    if isinstance(exc, Conflict) and exc.code == "ScopeLocked":
        return lock_advice(exc, step)
    template = _ADVICE.get(
        type(exc).__name__, "nothing more was changed; read the message, then diagnose again before retrying."
    )
    return template.format(permission=step.permission)


def _apply_write(writer: Any, step: Step) -> Any:
    p = step.params
    match step.remediation:
        case "extend-key-expiry":
            return writer.extend_key_expiry(
                p["vault_id"], p["vault_url"], p["key_name"], p["version"], p["expires_on"]
            )
        case "enable-key":
            return writer.enable_key(p["vault_id"], p["vault_url"], p["key_name"], p["version"])
        case "clear-key-not-before":
            return writer.clear_key_not_before(
                p["vault_id"], p["vault_url"], p["key_name"], p["version"], p.get("not_before")
            )
        case "recover-key":
            return writer.recover_key(p["vault_id"], p["vault_url"], p["key_name"])
        case "recover-vault":
            return writer.recover_vault(
                p["vault_id"], p["location"], p.get("tenant_id", ""), p.get("sku", "standard")
            )
        case "grant-crypto-role":
            return writer.grant_crypto_role(p["vault_id"], p["principal_id"])
        case "add-access-policy":
            return writer.add_access_policy(
                p["vault_id"], p["principal_id"], p.get("tenant_id", ""), p.get("permissions")
            )
        case "allow-trusted-services":
            return writer.allow_trusted_services(p["vault_id"])
        case "create-identity":
            return writer.create_identity(p["subscription_id"], p["resource_group"], p["name"], p["location"])
        case "attach-identity-and-key":
            return writer.attach_identity_and_key(
                p["cluster_id"], p["identity_id"], p["key_url"], p.get("principal_id")
            )
        case "enable-purge-protection":
            return writer.enable_purge_protection(p["vault_id"])
        case "delete-failed-cluster":
            return writer.delete_failed_cluster(p["cluster_id"], step.confirm_text)
    raise WizardError(f"no write for remediation {step.remediation!r}")


def _versionless(key_url: Any) -> bool:
    """A well-formed key URL without a version."""
    try:
        return parse_key_url(str(key_url or "")).version is None
    except BadInput:
        return False


def verify(step: Step, diagnosis: Diagnosis, after: dict[str, Any] | None = None) -> Verification:
    """Judge a step by the fresh diagnosis: its checks pass, or its finding is gone."""
    checks = {c.id: c for c in diagnosis.assessment.checks}
    rows = tuple(
        (cid, checks[cid].status.value, checks[cid].detail) for cid in step.verifies if cid in checks
    )
    codes = {f.code for f in diagnosis.findings}
    if step.remediation == "delete-failed-cluster":
        if "CLUSTER_NOT_FOUND" in codes:
            return Verification(VERIFIED, "the failed cluster no longer exists", rows)
        return Verification(FAILED, "the cluster still exists", rows)
    if step.params.get("new_identity") or step.remediation == "create-identity":
        readable = after is not None and not after.get("unreadable")
        return Verification(
            VERIFIED if readable else DEFERRED,
            "read back after the write; the diagnosis confirms it once the cluster uses the new identity",
            rows,
        )
    if step.remediation == "attach-identity-and-key":
        wanted = ["identity.attached", "identity.principal"]
        if _versionless(step.params.get("key_url")):
            wanted.append("cluster.key_url")
        failing = [cid for cid in wanted if cid in checks and checks[cid].status != CheckStatus.PASS]
        if not failing:
            return Verification(VERIFIED, "the cluster uses the identity and key URL", rows)
        return Verification(
            FAILED, "still failing: " + ", ".join(f"{cid} ({checks[cid].detail})" for cid in failing), rows
        )
    primary = checks.get(step.verifies[0]) if step.verifies else None
    still = step.finding in codes and step.finding != "CLUSTER_INACCESSIBLE"
    if primary is not None and primary.status == CheckStatus.PASS:
        return Verification(VERIFIED, f"{primary.id}: {primary.detail}", rows)
    if not still and (primary is None or primary.status != CheckStatus.UNKNOWN):
        return Verification(VERIFIED, f"{step.finding} is gone", rows)
    if primary is not None and primary.status == CheckStatus.FAIL and still:
        return Verification(FAILED, f"{primary.id} still fails: {primary.detail}", rows)
    detail = primary.detail if primary is not None else "no check to re-run"
    return Verification(DEFERRED, f"cannot confirm yet: {detail}", rows)


class FixSession:
    """One operator fixing one cluster: diagnose, plan, apply + verify step by step, wait, report.

    Thread use: call everything from one worker thread; `wait` takes a cancel Event.
    """

    def __init__(
        self,
        gateway: WritableGateway,
        cluster_id: str,
        *,
        audit: AuditLog,
        scope: Collection[str] | None = None,
        settings: FixSettings | None = None,
    ) -> None:
        self.gateway = gateway
        self.cluster_id = cluster_id
        self.audit = audit
        self.scope = set(scope) if scope is not None else None
        self.settings = settings or FixSettings.for_mode(gateway.mode)
        self.carry = Carry()
        self.initial: Diagnosis | None = None
        self.current: Diagnosis | None = None
        self.outcomes: list[StepOutcome] = []
        self.timeline: list[TimelineEvent] = []
        self.deleted_cluster = False
        self._writer: Any = None
        self._applied: set[str] = set()

    # -- the steps the TUI drives -------------------------------------------------------------

    def _event(self, kind: str, text: str) -> None:
        self.timeline.append(TimelineEvent(datetime.now(UTC), kind, text))

    def diagnose(self) -> Diagnosis:
        """Run (or re-run) the diagnosis; the first one is the incident's starting point."""
        result = diagnose(self.gateway, self.cluster_id)
        if self.initial is None:
            self.initial = result
            self._event(
                "diagnosis",
                f"diagnosis started: verdict {result.verdict}, findings "
                + (", ".join(f.code for f in result.findings) or "none"),
            )
        else:
            self._event(
                "diagnosis",
                f"diagnosed again: verdict {result.verdict}, findings "
                + (", ".join(f.code for f in result.findings) or "none"),
            )
        self.current = result
        return result

    def plan(self) -> Plan:
        """The plan from the latest diagnosis and what this session already did."""
        if self.current is None:
            self.diagnose()
        assert self.current is not None
        return plan_fixes(
            self.current, scope=self.scope, carry=self.carry, expiry_days=self.settings.expiry_days
        )

    def writer(self) -> Any:
        """The gateway's guarded, audited writer (built once)."""
        if self._writer is None:
            self._writer = self.gateway.writer(self.audit)
        return self._writer

    def apply(self, step: Step, *, confirmation: bool | str | None = None) -> StepOutcome:
        """Confirm, write through the gateway, diagnose again and verify; never raises WizardError."""
        started = datetime.now(UTC)
        if step.kind == WAIT:
            return self.wait()
        if step.kind != WRITE:
            outcome = StepOutcome(
                step,
                ESCALATE if step.kind == ESCALATE else DECLINED,
                "nothing to apply: " + (step.explanation or step.summary),
                advice=step.explanation,
                started_at=started,
            )
            return self._record(outcome)
        if step.provisional:
            return self._record(
                StepOutcome(
                    step,
                    REFUSED,
                    "this step depends on an earlier one",
                    advice="apply the earlier steps, then take the fresh plan",
                    started_at=started,
                )
            )
        if not confirmation_ok(step, confirmation):
            wanted = f"type {step.confirm_text!r}" if step.confirm == "typed" else "answer yes"
            return self._record(
                StepOutcome(
                    step,
                    DECLINED,
                    "not confirmed: nothing was changed",
                    advice=f"to apply it, {wanted}",
                    started_at=started,
                )
            )
        written = len(self.audit.written)  # this step's records are the ones after these
        try:
            result = _apply_write(self.writer(), step)
        except ReadOnlyViolation as exc:
            return self._record(
                StepOutcome(step, REFUSED, str(exc), advice_for(exc, step), started_at=started)
            )
        except WizardError as exc:
            status = REFUSED if type(exc).__name__ == "WriteRefused" else ERROR
            outcome = StepOutcome(
                step,
                status,
                " ".join(str(exc).split()),
                advice_for(exc, step),
                started_at=started,
                audit_ids=tuple(self.audit.written[written:]),
            )
            self._refresh_after_error()
            return self._record(outcome)
        self._applied.add(step.key)
        self._learn(step, result)
        self._event(
            "write",
            f"{step.remediation} on {step.target}: {result.status}, {result.message} "
            f"(audit {', '.join(result.audit_ids)})",
        )
        diagnosis = self.diagnose()
        verification = verify(step, diagnosis, result.after)
        if step.remediation == "delete-failed-cluster" and verification.status == VERIFIED:
            self.deleted_cluster = True
        advice = (
            ""
            if verification.status != FAILED
            else (
                "the change was made but the diagnosis still shows the finding: re-read the evidence "
                "and escalate if it persists"
            )
        )
        return self._record(
            StepOutcome(
                step,
                result.status,
                result.message,
                advice,
                result.before,
                result.after,
                result.audit_ids,
                verification,
                started,
            )
        )

    def wait(
        self,
        *,
        timeout: float | None = None,
        on_progress: Callable[[WaitProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> StepOutcome:
        """wait-for-ready (reads only), then diagnose again."""
        plan_step = next((s for s in self.plan().steps if s.kind == WAIT), None) if self.current else None
        step = plan_step or Step(
            "wait-for-ready",
            "CLUSTER_INACCESSIBLE",
            WAIT,
            "Wait for the cluster to be Ready",
            "",
            "nothing: reads only",
            {},
            {},
            {"cluster_id": self.cluster_id},
            self.cluster_id,
        )
        started = datetime.now(UTC)
        s = self.settings
        result = wait_for_ready(
            self.gateway,
            self.cluster_id,
            timeout=timeout if timeout is not None else s.wait_timeout,
            poll=s.wait_poll,
            max_poll=s.wait_max_poll,
            on_progress=on_progress,
            cancel=cancel,
        )
        self.diagnose()
        return self._record(
            StepOutcome(
                step,
                result.status,
                result.describe(),
                "" if result.ready else "the cluster is not Ready yet",
                {"clusterStatus": step.before.get("clusterStatus")},
                {"clusterStatus": result.cluster_status},
                started_at=started,
                wait=result,
            )
        )

    def _refresh_after_error(self) -> None:
        with contextlib.suppress(WizardError):
            self.diagnose()

    def _learn(self, step: Step, result: Any) -> None:
        carry = self.carry
        if step.remediation == "create-identity" and isinstance(result.value, IdentityFacts):
            carry = replace(carry, new_identity=result.value)
        if step.remediation in ("grant-crypto-role", "add-access-policy") and step.params.get("principal_id"):
            carry = replace(
                carry,
                granted_principals=carry.granted_principals | {str(step.params["principal_id"]).lower()},
            )
        if step.remediation == "extend-key-expiry":
            carry = replace(carry, expiry_extended=True)
        self.carry = carry

    def _record(self, outcome: StepOutcome) -> StepOutcome:
        outcome = replace(outcome, finished_at=datetime.now(UTC))
        self.outcomes.append(outcome)
        change = f" ({outcome.step.change})" if outcome.step.kind == WRITE else ""
        verified = (
            f"; verify: {outcome.verification.status}, {outcome.verification.detail}"
            if (outcome.verification)
            else ""
        )
        self._event(
            "verify" if outcome.verification else "step",
            f"{outcome.step.remediation} for {outcome.step.finding}{change}: "
            f"{outcome.status}, {outcome.message}{verified}",
        )
        return outcome

    # -- the whole loop (CLI) -------------------------------------------------------------------

    def run(
        self,
        confirm: Callable[[Step], bool | str | None],
        *,
        on_step: Callable[[Step], None] | None = None,
        on_outcome: Callable[[StepOutcome], None] | None = None,
        on_progress: Callable[[WaitProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> FixResult:
        """Apply the next step of a fresh plan until none is left, one fails, or one is declined.

        `confirm(step)` answering None means nobody could confirm it (a typed confirmation under
        --yes): the run stops BEFORE that step, records nothing for it, and `unconfirmed` names it."""
        if self.current is None:
            self.diagnose()
        assert self.initial is not None
        escalations: dict[str, Step] = {}
        stopped = ""
        unconfirmed: Step | None = None
        for _ in range(self.settings.max_steps):
            if cancel is not None and cancel.is_set():
                stopped = "cancelled"
                break
            plan = self.plan()
            for s in plan.escalations:
                escalations.setdefault(s.finding, s)
            step = plan.next_step
            if step is None:
                break
            if step.kind == WRITE and step.key in self._applied:
                stopped = (
                    f"{step.remediation} was applied but the plan asks for it again: "
                    "the change did not fix the finding; escalate"
                )
                break
            if on_step is not None:
                on_step(step)
            if step.kind == WAIT:
                outcome = self.wait(on_progress=on_progress, cancel=cancel)
            else:
                answer = confirm(step)
                if answer is None and step.confirm != "none":
                    unconfirmed = step
                    wanted = f"the name {step.confirm_text!r} typed" if step.confirm == "typed" else "a yes"
                    stopped = (
                        f"not done: {step.remediation} on {step.target.rsplit('/', 1)[-1]} "
                        f"and any step after it; it needs {wanted}"
                    )
                    self._event(
                        "step",
                        f"{step.remediation} for {step.finding}: not confirmed, "
                        "stopped before it; nothing was sent",
                    )
                    break
                outcome = self.apply(step, confirmation=answer)
            if on_outcome is not None:
                on_outcome(outcome)
            if not outcome.succeeded or self.deleted_cluster:
                stopped = "" if outcome.succeeded else f"{step.remediation}: {outcome.status}"
                break
        else:
            stopped = f"stopped after {self.settings.max_steps} steps"
        assert self.current is not None
        final = self.current
        if not self.deleted_cluster and self.outcomes:
            final = self.diagnose()
        self._event(
            "final",
            f"final verdict {final.verdict}" + (" (failed cluster deleted)" if self.deleted_cluster else ""),
        )
        return FixResult(
            self.initial,
            final,
            list(self.outcomes),
            tuple(escalations.values()),
            self.deleted_cluster,
            stopped,
            unconfirmed,
        )


def open_session(
    backend: Any,
    cluster_id: str,
    *,
    audit_path: str | None = None,
    scope: Collection[str] | None = None,
    settings: FixSettings | None = None,
) -> FixSession:
    """A FixSession over a backend's gateway (call from a worker: it imports the Azure SDK).

    In emulator mode the emulator's token is registered as a secret the audit log must never hold
    (`audit_log`).
    """
    gateway = backend.connect()
    return FixSession(
        gateway, cluster_id, audit=audit_log(backend, audit_path), scope=scope, settings=settings
    )


def audit_log(backend: Any, path: str | None) -> AuditLog:
    """The audit log of a fix over `backend`; with an embedded emulator its token is a secret the log
    must never hold (call after `backend.connect()`, which starts the emulator)."""
    audit = AuditLog(path)
    token = getattr(backend, "token", None)
    if callable(token) and getattr(backend, "scenario", None):
        audit.add_secret(str(token()))
    return audit
