"""The remediation executor: apply one step, verify it by diagnosing again, re-plan, repeat.

The TUI drives a `FixSession` step by step (plan -> preview -> confirm -> apply -> verify ->
wait -> report); the CLI's `fix` calls `FixSession.run`. Nothing here imports the Azure SDK or
wizard.azure: the gateway (from the backend) hands out its writer through `gateway.writer(audit)`.
The pieces around the loop: wait (wait-for-ready), verify, advice, confirmation, outcomes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from wizard.domain.actions import WAIT_FOR_READY, AllowOperatorIp, DeleteFailedCluster, RemoveOperatorIp
from wizard.domain.catalog import load_catalog
from wizard.domain.errors import ReadOnlyViolation, WizardError
from wizard.domain.models import LockReading
from wizard.domain.ports import AzureReader, AzureWriter
from wizard.domain.results import (
    ConfirmKind,
    OutcomeStatus,
    StepKind,
    VerificationStatus,
    WriteResult,
    WriteStatus,
)
from wizard.engine.fix_plan import DEFAULT_EXPIRY_DAYS, plan_fixes
from wizard.engine.steps import Carry, Plan, Step
from wizard.run.advice import advice_for
from wizard.run.audit import AuditLog, audit_log
from wizard.run.confirmation import Answer, confirmation_ok, how_to_confirm, not_done
from wizard.run.diagnose import Diagnosis, diagnose
from wizard.run.firewall import (
    after_error,
    after_write,
    earlier_rule_events,
    earlier_rules,
    removal_step,
    settled_rules,
)
from wizard.run.lock import ClusterLock
from wizard.run.lock_preflight import LockPreflight
from wizard.run.outcomes import (
    RECOVERY_UNPROVEN,
    FixResult,
    StepOutcome,
    TimelineEvent,
    failed_status,
    recovery_unconfirmed,
    run_verdict,
    skipped_keys,
)
from wizard.run.propagation import GrantRetry, awaits_grant, write_while_grant_propagates
from wizard.run.recovery import WAIT_ADVICE, OutageSeen, fixes_a_cause
from wizard.run.settle import begin_writes
from wizard.run.verify import SettleWait, verify, verify_until_settled
from wizard.run.wait import DOCUMENTED_BOUND_SECONDS, WaitProgress, wait_for_ready

NOT_CONFIRMED = "not confirmed, stopped before it; nothing was sent"


class WritableGateway(AzureReader, Protocol):
    """A reader that can also hand out a guarded, audited writer."""

    read_only: bool
    mode: str

    def writer(self, audit: AuditLog) -> AzureWriter:
        """The writes, each guarded by read-only and audited into `audit`."""
        ...

    def locks_at(self, resource_id: str) -> LockReading:
        """The management locks at and above a resource."""
        ...


@dataclass(frozen=True)
class FixSettings:
    """Knobs of a fix session; `for_mode` picks polling that suits live Azure or the emulator."""

    expiry_days: int = DEFAULT_EXPIRY_DAYS
    wait_timeout: float = float(DOCUMENTED_BOUND_SECONDS)
    wait_poll: float = 60.0
    wait_max_poll: float = 300.0
    max_steps: int = 25
    grant_retry: GrantRetry = field(default_factory=GrantRetry)
    settle: SettleWait = field(default_factory=SettleWait)
    progress_every: float = 30.0

    @classmethod
    def for_mode(cls, mode: str, **overrides: Any) -> FixSettings:
        """Live: poll every 1-5 minutes for up to an hour, retry an attach after a grant for 10
        minutes, read a failing verification again for a minute; emulator: sub-second polls, 60 s,
        10 s of attach retries, 5 s of verification."""
        base = (
            cls()
            if mode == "azure"
            else cls(
                wait_timeout=60.0,
                wait_poll=0.1,
                wait_max_poll=1.0,
                grant_retry=GrantRetry(bound_seconds=10.0, first_delay=0.1, max_delay=1.0),
                settle=SettleWait(timeout=5.0, first_poll=0.1, max_poll=0.5),
                progress_every=0.0,
            )
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


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
        operator_ip: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.cluster_id = cluster_id
        self.audit = audit
        self.scope = set(scope) if scope is not None else None
        self.settings = settings or FixSettings.for_mode(gateway.mode)
        # rules an earlier, interrupted run left open are removed before anything else
        self.carry = Carry(operator_ip=operator_ip, open_rules=earlier_rules(audit.path))
        self.refused_by_firewall = False
        self.initial: Diagnosis | None = None
        self.current: Diagnosis | None = None
        self.outcomes: list[StepOutcome] = []
        self.timeline: list[TimelineEvent] = []
        self.deleted_cluster = False
        self.seen = OutageSeen()
        """What Azure showed of the outage: it decides what proves the recovery."""
        self._writer: AzureWriter | None = None
        self._applied: set[str] = set()
        self.audit.cluster = cluster_id
        self.lock = ClusterLock(audit.path.parent, cluster_id)
        self.notices: list[str] = []
        self._rules_joined = False  # settling found an earlier rule open that the shown plan lacks
        self.locks = LockPreflight(gateway.locks_at)
        self.on_notice: Callable[[str], None] | None = None  # told as it happens (the CLI prints it)
        self.cancel: threading.Event | None = None
        self._progress_told = -float("inf")
        for text in earlier_rule_events(self.carry):
            self._event("step", text)

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
        self.seen.note(result)
        return result

    @property
    def recovery(self) -> StepOutcome | None:
        """The wait that could not confirm the recovery (unconfirmed, or the cluster is Stopped),
        unless a later wait did."""
        return recovery_unconfirmed(self.outcomes)

    @property
    def verdict(self) -> str:
        """The latest diagnosis' verdict; `incomplete` when it says healthy but the recovery is unproven."""
        return run_verdict(self.current.verdict, self.outcomes) if self.current else "incomplete"

    def plan(self) -> Plan:
        """The plan from the latest diagnosis and what this session already did, each ARM write
        flagged when a management lock over it will refuse it (read before anything is sent)."""
        if self.current is None:
            self.diagnose()
        assert self.current is not None
        plan = plan_fixes(
            self.current, scope=self.scope, carry=self.carry, expiry_days=self.settings.expiry_days
        )
        return self.locks.plan(plan)

    def writer(self) -> AzureWriter:
        """The gateway's guarded, audited writer (built once)."""
        if self._writer is None:
            self._writer = self.gateway.writer(self.audit)
            self._writer.watch(self._operation_progress)
        return self._writer

    def _operation_progress(self, text: str) -> None:
        """A long-running write's status while it runs: to `on_notice`, at most every
        `progress_every` seconds (the SDK alone would wait silently, polling every 30 s)."""
        now = time.monotonic()
        if self.on_notice is None or now - self._progress_told < self.settings.progress_every:
            return
        self._progress_told = now
        self.on_notice(text)

    def begin(self) -> list[str]:
        """Before the first write, in this order: the cluster's lock, the log's tail, earlier unknowns
        settled (`resolved` records), then the temporary rules earlier runs left open read again from
        the settled log (their removal is the plan's first write); the notices."""
        if self.lock.held:
            return []
        notices = begin_writes(self.audit, self.lock, self.writer(), self.cluster_id)
        self.carry, changes, self._rules_joined = settled_rules(self.carry, self.audit.path)
        notices += changes
        self.timeline += [TimelineEvent(datetime.now(UTC), "audit", n) for n in notices]
        self.notices += notices
        return notices

    def _settled_first(self) -> bool:
        """Lock and settle before the first write is even asked for; True when that changed the
        rules still to remove (the plan in hand is stale). A failure is left to `apply` to record."""
        if self.gateway.read_only or self.lock.held:
            return False
        carry = self.carry
        with contextlib.suppress(WizardError):
            self.begin()
        self._rules_joined = False
        return self.carry != carry

    def close(self) -> None:
        """Give the cluster's lock back (every way a fix ends: done, error, Ctrl-C, screen closed)."""
        self.lock.release()

    @property
    def skipped(self) -> frozenset[str]:
        """The keys of the steps left out (declined): nothing was sent for them."""
        return skipped_keys(self.outcomes)

    def skip(self, step: Step) -> StepOutcome:
        """Leave a step out: recorded as declined (not confirmed), so the report says it was not applied."""
        return self.apply(step, confirmation=None)

    def tell(self, text: str) -> None:
        """Something the operator should know while a step runs: the timeline, the notices, and
        `on_notice` at once."""
        self._event("step", text)
        self.notices.append(text)
        if self.on_notice is not None:
            self.on_notice(text)

    def _write(self, step: Step) -> WriteResult:
        action = step.action
        if action is None:
            raise WizardError(f"no write for remediation {step.remediation!r}")
        if not awaits_grant(step, self.carry):
            return self.writer().apply(action)
        return write_while_grant_propagates(
            lambda: self.writer().apply(action), self.settings.grant_retry, tell=self.tell, cancel=self.cancel
        )

    def apply(self, step: Step, *, confirmation: Answer = None) -> StepOutcome:
        """Confirm, write through the gateway, diagnose again and verify; never raises WizardError."""
        started = datetime.now(UTC)
        self.refused_by_firewall = False
        if step.kind == StepKind.WAIT:
            return self.wait()
        if step.kind != StepKind.WRITE:
            outcome = StepOutcome(
                step,
                OutcomeStatus.ESCALATE if step.kind == StepKind.ESCALATE else OutcomeStatus.DECLINED,
                "nothing to apply: " + (step.explanation or step.summary),
                advice=step.explanation,
                started_at=started,
            )
            return self._record(outcome)
        if step.provisional:
            return self._record(
                StepOutcome(
                    step,
                    OutcomeStatus.REFUSED,
                    "this step depends on an earlier one",
                    advice="apply the earlier steps, then take the fresh plan",
                    started_at=started,
                )
            )
        if not confirmation_ok(step, confirmation):
            return self._record(
                StepOutcome(
                    step,
                    OutcomeStatus.DECLINED,
                    "not confirmed: nothing was changed",
                    advice=f"to apply it, {how_to_confirm(step)}",
                    started_at=started,
                )
            )
        written = len(self.audit.written)  # this step's records are the ones after these
        sent = False  # the write itself was tried (not stopped by the lock, the log or settling)
        sent_at = datetime.now(UTC)
        try:
            if not self.gateway.read_only:
                self.begin()
                written = len(self.audit.written)
                if self._rules_joined and not isinstance(step.action, RemoveOperatorIp):
                    self._rules_joined = False
                    return self._record(
                        StepOutcome(
                            step,
                            OutcomeStatus.REFUSED,
                            "not sent: settling earlier writes found a temporary IP rule an earlier "
                            "run left open, and removing it comes first",
                            advice="take the fresh plan: it removes that rule, then goes on",
                            started_at=started,
                        )
                    )
            sent = True
            result = self._write(step)
        except ReadOnlyViolation as exc:
            return self._record(
                StepOutcome(step, OutcomeStatus.REFUSED, str(exc), advice_for(exc, step), started_at=started)
            )
        except WizardError as exc:
            if sent:
                intent = self.audit.written[written] if len(self.audit.written) > written else ""
                self.carry, self.refused_by_firewall = after_error(self.carry, step, exc, intent)
            outcome = StepOutcome(
                step,
                failed_status(exc),
                " ".join(str(exc).split()),
                advice_for(exc, step),
                started_at=started,
                audit_ids=tuple(self.audit.written[written:]),
            )
            self._refresh_after_error()
            return self._record(outcome)
        if not isinstance(step.action, AllowOperatorIp | RemoveOperatorIp):
            self._applied.add(step.key)  # a temporary rule may be opened and closed again
        if step.action is not None:
            self.carry = after_write(self.carry.after(step.action, result.identity), step, result)
        if result.status == WriteStatus.OK and fixes_a_cause(step):
            self.seen.fixed(sent_at)
            self.carry = self.carry.after_cause_fixed()
        self._event(
            "write",
            f"{step.remediation} on {step.target}: {result.status}, {result.message} "
            f"(audit {', '.join(result.audit_ids)})",
        )
        verification = verify_until_settled(
            step,
            self.diagnose,
            verify(step, self.diagnose(), result.after),
            result.after,
            self.settings.settle,
            tell=self.tell,
            cancel=self.cancel,
            clock=time.monotonic,
        )
        if (
            isinstance(step.action, DeleteFailedCluster)
            and verification.status == VerificationStatus.VERIFIED
        ):
            self.deleted_cluster = True
        advice = (
            ""
            if verification.status != VerificationStatus.FAILED
            else (
                "the change was made but the diagnosis still shows the finding: re-read the evidence "
                "and escalate if it persists"
            )
        )
        return self._record(
            StepOutcome(
                step,
                OutcomeStatus(result.status),
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
        plan_step = (
            next((s for s in self.plan().steps if s.kind == StepKind.WAIT), None) if self.current else None
        )
        spec = load_catalog().remediations[WAIT_FOR_READY]
        step = plan_step or Step(
            WAIT_FOR_READY,
            "CLUSTER_INACCESSIBLE",
            StepKind.WAIT,
            spec.title,
            "",
            spec.change,
            {},
            {},
            None,
            self.cluster_id,
        )
        started = datetime.now(UTC)
        s = self.settings
        health_before = self.seen.health_state
        result = wait_for_ready(
            self.gateway,
            self.cluster_id,
            **self.seen.wait_evidence(),
            timeout=timeout if timeout is not None else s.wait_timeout,
            poll=s.wait_poll,
            max_poll=s.wait_max_poll,
            on_progress=on_progress,
            cancel=cancel,
        )
        self.carry = self.carry.after_wait()
        self.diagnose()
        return self._record(
            StepOutcome(
                step,
                result.status,
                result.describe(),
                WAIT_ADVICE.get(result.status, "" if result.ready else "the cluster is not Ready yet"),
                {"clusterStatus": step.before.get("clusterStatus"), "resourceHealth": health_before},
                {"clusterStatus": result.cluster_status, "resourceHealth": result.availability or None},
                started_at=started,
                wait=result,
            )
        )

    def _refresh_after_error(self) -> None:
        with contextlib.suppress(WizardError):
            self.diagnose()

    def _record(self, outcome: StepOutcome) -> StepOutcome:
        outcome = replace(outcome, finished_at=datetime.now(UTC))
        self.outcomes.append(outcome)
        change = f" ({outcome.step.change})" if outcome.step.kind == StepKind.WRITE else ""
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
        confirm: Callable[[Step], Answer],
        *,
        on_step: Callable[[Step], None] | None = None,
        on_outcome: Callable[[StepOutcome], None] | None = None,
        on_progress: Callable[[WaitProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> FixResult:
        """Apply the next step of a fresh plan until none is left, one fails, or one is declined.

        `confirm(step)` answering None means nobody could confirm it (a typed confirmation under
        --yes): the run stops BEFORE that step, records nothing for it, and `unconfirmed` names it.
        A firewall 403 that names the operator's address goes on to the fresh plan (which can now
        open a temporary rule); whenever the run stops with such a rule open, it removes the rule
        first (asked like any write), and only then ends."""
        if self.current is None:
            self.diagnose()
        assert self.initial is not None
        self.cancel = cancel or self.cancel
        escalations: dict[str, Step] = {}
        stopped = ""
        unconfirmed: Step | None = None
        closing = False
        for _ in range(self.settings.max_steps):
            if cancel is not None and cancel.is_set():
                stopped = "cancelled"
                break
            plan = self.plan()
            for s in plan.escalations:
                escalations.setdefault(s.finding, s)
            # stopping: only the removal of a rule still open, then the end
            step = removal_step(plan, self.carry) if closing else plan.next_step
            if step is None:
                break
            if step.kind == StepKind.WRITE and self._settled_first():
                continue  # settling changed which earlier rules are open: plan again before asking
            if step.kind == StepKind.WRITE and step.key in self._applied:
                stopped = (
                    f"{step.remediation} was applied but the plan asks for it again: "
                    "the change did not fix the finding; escalate"
                )
                break
            if on_step is not None:
                on_step(step)
            if step.kind == StepKind.WAIT:
                outcome = self.wait(on_progress=on_progress, cancel=cancel)
            else:
                answer = confirm(step)
                if answer is None and step.confirm != ConfirmKind.NONE:
                    unconfirmed = unconfirmed or step
                    self._event("step", f"{step.remediation} for {step.finding}: {NOT_CONFIRMED}")
                    stopped = stopped or f"not done: {not_done(step)}"
                    if closing or not self.carry.open_rules:
                        break
                    closing = True
                    continue
                outcome = self.apply(step, confirmation=answer)
            if on_outcome is not None:
                on_outcome(outcome)
            if self.deleted_cluster:
                break
            if not outcome.succeeded:
                if self.refused_by_firewall:  # the address is known now: the fresh plan goes on
                    self.refused_by_firewall = False
                    continue
                if outcome.status not in RECOVERY_UNPROVEN:  # a wait without proof ends the run quietly
                    stopped = stopped or f"{step.remediation}: {outcome.status}"
                if closing or not self.carry.open_rules or isinstance(step.action, RemoveOperatorIp):
                    break
                closing = True
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
    operator_ip: str | None = None,
) -> FixSession:
    """A FixSession over a backend's gateway (call from a worker: it imports the Azure SDK).

    In emulator mode the emulator's token is registered as a secret the audit log must never hold
    (`audit_log`).
    """
    gateway = backend.connect()
    return FixSession(
        gateway,
        cluster_id,
        audit=audit_log(backend, audit_path),
        scope=scope,
        settings=settings,
        operator_ip=operator_ip,
    )
