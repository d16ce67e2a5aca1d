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
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from wizard.domain.actions import (
    WAIT_FOR_READY,
    Action,
    AllowOperatorIp,
    DeleteFailedCluster,
    RemoveOperatorIp,
)
from wizard.domain.background import in_background
from wizard.domain.catalog import load_catalog
from wizard.domain.errors import ReadOnlyViolation, WizardError
from wizard.domain.ports import AzureWriter
from wizard.domain.results import (
    OutcomeStatus,
    StepKind,
    VerificationStatus,
    WriteResult,
    WriteStatus,
)
from wizard.engine.fix_plan import plan_fixes
from wizard.engine.steps import Carry, Plan, Step
from wizard.run.advice import advice_for
from wizard.run.audit import AuditLog, audit_log
from wizard.run.blind import answered, lost_sight, stopped_plan
from wizard.run.confirmation import Answer, held_back
from wizard.run.diagnose import Diagnosis, diagnose
from wizard.run.firewall import (
    after_error,
    after_write,
    earlier_rule_events,
    earlier_rules,
    settled_rules,
)
from wizard.run.fix_loop import run_session
from wizard.run.fix_settings import FixSettings, WritableGateway
from wizard.run.incidents import Incident, planned_from
from wizard.run.lock import ClusterLock
from wizard.run.lock_preflight import LockPreflight
from wizard.run.outcomes import (
    SKIP_MESSAGE,
    StepOutcome,
    TimelineEvent,
    failed_status,
    recovery_unconfirmed,
    run_verdict,
)
from wizard.run.propagation import awaits_grant, write_while_grant_propagates
from wizard.run.recovery import WAIT_ADVICE, OutageSeen, fixes_a_cause
from wizard.run.rediagnose import rediagnose
from wizard.run.replacement import earlier_replacement, kept_replacement, reuse_earlier
from wizard.run.settle import begin_writes
from wizard.run.verify import verify, verify_until_settled
from wizard.run.wait import ClusterPoller, FirstPollAnswered, WaitProgress, wait_for_ready
from wizard.run.wait_gate import GO_BACK, Blocker, blocked_text, blockers


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
        incident: Incident | None = None,
    ) -> None:
        self.gateway = gateway
        self.cluster_id = cluster_id
        self.audit = audit
        self.scope = set(scope) if scope is not None else None
        self.settings = settings or FixSettings.for_mode(gateway.mode)
        # rules an earlier, interrupted run left open are removed before anything else
        self.carry = Carry(
            operator_ip=operator_ip,
            open_rules=earlier_rules(audit.path),
            replacement=earlier_replacement(audit.path, cluster_id),  # its name is fixed per incident
        )
        self._reuse = ""  # the note of an earlier run's replacement identity, reused
        self._reuse_looked = False
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
        self._skipped: set[str] = set()
        self.audit.cluster = cluster_id
        self.incident = incident or Incident(cluster_id)
        """The incident this pass belongs to: the report covers all of it."""
        self.pass_number = self.incident.open_pass(self)
        self.audit.incident = {"incident": self.incident.id, "pass": self.pass_number}
        self.lock = ClusterLock(audit.path.parent, cluster_id)
        self.notices: list[str] = []
        self._rules_joined = False  # settling found an earlier rule open that the shown plan lacks
        self.locks = LockPreflight(gateway.locks_at)
        self.on_notice: Callable[[str], None] | None = None  # told as it happens (the CLI prints it)
        self.cancel: threading.Event | None = None
        self._progress_told = -float("inf")
        self.full_after_writes = False  # the latest diagnosis read everything, after every write
        self._answered: set[str] = set()  # critical checks some diagnosis of this session answered
        self.lost_sight = ""  # why the fix stops: such a check is unknown now (wizard.run.blind)
        self._write_tried_at: datetime | None = None  # when this session last tried a write
        for text in earlier_rule_events(self.carry):
            self._event("step", text)

    # -- the steps the TUI drives -------------------------------------------------------------

    def _event(self, kind: str, text: str) -> None:
        self.timeline.append(TimelineEvent(datetime.now(UTC), kind, text))

    def diagnose(self, *, after: Step | None = None, ahead: Future[Diagnosis] | None = None) -> Diagnosis:
        """Run (or re-run) the diagnosis; the first one is the incident's starting point. `after` a
        write: only what it touched is read again (wizard.run.rediagnose), else everything; `ahead`:
        that re-read, already started when Azure accepted the write."""
        result = ahead.result() if ahead is not None else self._read_again(after.action if after else None)
        self.full_after_writes = after is None
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
        self.lost_sight = lost_sight(result.assessment, self._answered)
        self._answered |= answered(result.assessment)
        self.incident.saw(result, f"fix pass {self.pass_number}")
        self.audit.planned_from = planned_from(result)
        self.seen.note(result)
        return result

    def _read_again(self, action: Action | None) -> Diagnosis:
        """A diagnosis: after a write only what it touched is read again, else all, the reads the
        last diagnosis needed sent at once (wizard.run.rediagnose); the first one from nothing."""
        if self.current is None:
            return diagnose(self.gateway, self.cluster_id)
        return rediagnose(self.gateway, self.current, action)

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
        flagged when a management lock over it will refuse it (read before anything is sent);
        nothing once the failed cluster is deleted (the documented end: provisioning again is the
        operator's)."""
        if self.deleted_cluster:
            return Plan(self.cluster_id, ())
        if self.current is None:
            self.diagnose()
        assert self.current is not None
        if not self._reuse_looked:  # once: an earlier run's replacement identity, if it is there
            self._reuse_looked = True
            cluster = self.current.facts.cluster
            lost = cluster.key_identity_id if cluster else None
            self.carry, self._reuse = reuse_earlier(self.gateway, self.carry, lost)
            if self._reuse:
                self._event("step", self._reuse)
        plan = plan_fixes(
            self.current, scope=self.scope, carry=self.carry, expiry_days=self.settings.expiry_days
        )
        self.carry = kept_replacement(self.carry, plan)  # its name holds for the rest of the incident
        if self._reuse:
            plan = replace(plan, notes=(self._reuse, *plan.notes))
        plan = stopped_plan(plan, self.lost_sight) if self.lost_sight else plan
        return self.locks.plan(plan)

    def preview(self) -> Plan:
        """The plan as shown for confirmation: `plan()`, with its next write's vault data plane
        signed in to meanwhile (not for a plan only looked at: `--dry-run` reads the management
        plane only)."""
        plan = self.plan()
        self.warm_up(plan.next_step)
        return plan

    def warm_up(self, step: Step | None) -> None:
        """A write about to be confirmed: what it needs first is made ready aside (the gateway's
        data-plane sign-in, which does nothing in read-only)."""
        if step is not None and step.action is not None:
            self.gateway.warm_data_plane(step.action)

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

    def applied_before(self, step: Step) -> bool:
        """This session already applied this write (a temporary rule may be opened and closed again)."""
        return step.kind == StepKind.WRITE and step.key in self._applied

    def settled_first(self) -> bool:
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
        """The keys of the steps left out and not taken back: nothing was sent for them."""
        return frozenset(self._skipped)

    def skip(self, step: Step) -> StepOutcome:
        """Leave a write out of this fix (nothing is sent; `unskip` takes it back); the report says so."""
        self._skipped.add(step.key)
        return self._record(StepOutcome(step, OutcomeStatus.SKIPPED, SKIP_MESSAGE))

    def unskip(self, step: Step) -> bool:
        """Take a skip back: the step is planned again in its place. False when it was not skipped."""
        if step.key not in self._skipped:
            return False
        self._skipped.discard(step.key)
        self._event("step", f"{step.remediation} for {step.finding}: skip taken back")
        return True

    def tell(self, text: str) -> None:
        """Something the operator should know while a step runs: the timeline, the notices, and
        `on_notice` at once."""
        self._event("step", text)
        self.notices.append(text)
        if self.on_notice is not None:
            self.on_notice(text)

    def _write(self, step: Step) -> tuple[WriteResult, Future[Diagnosis] | None]:
        """The write, and its verification's re-read, started the moment Azure accepted the write
        (beside the audit's read-back, not after it); None when it could not be started then."""
        action = step.action
        if action is None:
            raise WizardError(f"no write for remediation {step.remediation!r}")
        writer, previous = self.writer(), self.current
        ahead: list[Future[Diagnosis]] = []
        if previous is not None:
            reread = partial(rediagnose, self.gateway, previous, action)
            writer.when_answered(lambda: ahead.append(in_background(reread, "cmk-verify")))
        try:
            if not awaits_grant(step, self.carry):
                result = writer.apply(action)
            else:
                result = write_while_grant_propagates(
                    lambda: writer.apply(action),
                    self.settings.grant_retry,
                    tell=self.tell,
                    cancel=self.cancel,
                )
        finally:
            writer.when_answered(None)
        return result, (ahead[0] if ahead else None)

    def apply(self, step: Step, *, confirmation: Answer = None) -> StepOutcome:
        """Confirm, write through the gateway, diagnose again and verify; never raises WizardError."""
        started = datetime.now(UTC)
        self.refused_by_firewall = False
        if step.kind == StepKind.WAIT:
            return self.wait()
        held = held_back(step, confirmation, started)  # nothing to send, or not confirmed
        if held is not None:
            return self._record(held)
        self.full_after_writes = False  # from here a write (or settling's) may be sent
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
            self._write_tried_at = datetime.now(UTC)
            result, ahead = self._write(step)
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
            verify(step, self.diagnose(after=step, ahead=ahead), result.after),
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
        """wait-for-ready (reads only), then diagnose again; not while a cause is there (wait_gate.py)."""
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
        found = self.wait_blockers()
        if found:  # waiting cannot help: say which, and go back to it
            return self._record(
                StepOutcome(step, OutcomeStatus.BLOCKED, blocked_text(found), GO_BACK, started_at=started)
            )
        health_before = self.seen.health_state
        result = wait_for_ready(
            self._poller(),
            self.cluster_id,
            **self.seen.wait_evidence(),
            timeout=timeout if timeout is not None else s.wait_timeout,
            poll=s.wait_poll,
            max_poll=s.wait_max_poll,
            on_progress=on_progress,
            cancel=cancel,
            recheck=self._recheck,
            recheck_every=s.wait_recheck,
        )
        self.carry = self.carry.after_wait()
        self.diagnose()
        return self._record(
            StepOutcome(
                step,
                result.status,
                result.describe(),
                GO_BACK
                if result.blocked
                else WAIT_ADVICE.get(result.status, "" if result.ready else "the cluster is not Ready yet"),
                {"clusterStatus": step.before.get("clusterStatus"), "resourceHealth": health_before},
                {"clusterStatus": result.cluster_status, "resourceHealth": result.availability or None},
                started_at=started,
                wait=result,
            )
        )

    def _poller(self) -> ClusterPoller:
        """What the wait polls: its first poll answered by the latest diagnosis when that is the
        verification of this session's last write (it re-read the cluster and its health after
        it), begun at most `first_poll_fresh` seconds ago; otherwise Azure, from the first poll."""
        latest, tried = self.current, self._write_tried_at
        if latest is None or tried is None or latest.started_at < tried:
            return self.gateway
        if (datetime.now(UTC) - latest.started_at).total_seconds() > self.settings.first_poll_fresh:
            return self.gateway
        return FirstPollAnswered(self.gateway, latest.known, self.cluster_id)

    def wait_blockers(self) -> tuple[Blocker, ...]:
        """Why waiting for Ready cannot help now (the latest diagnosis and this pass' steps); nothing
        once the failed cluster is deleted (there is nothing to wait for)."""
        if self.deleted_cluster:
            return ()
        return blockers(self.current, self.outcomes, self._skipped)

    def _recheck(self) -> str:
        """During a wait: diagnose again (without recording it); why waiting cannot help, or ""."""
        try:
            latest = self._read_again(None)
        except WizardError:
            return ""
        found = blockers(latest, self.outcomes, self._skipped)
        return blocked_text(found) if found else ""

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

    run = run_session
    """Apply the next step of a fresh plan until none is left, one fails, or one is declined
    (wizard.run.fix_loop)."""


def open_session(
    backend: Any,
    cluster_id: str,
    *,
    audit_path: str | None = None,
    scope: Collection[str] | None = None,
    settings: FixSettings | None = None,
    operator_ip: str | None = None,
    incident: Incident | None = None,
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
        incident=incident,
    )
