"""`cmk-wizard fix` and `cmk-wizard watch`: the remediation flow on a terminal.

Kept out of cli.py so the parser stays cheap to import; cli.py only parses and dispatches here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection
from typing import Any, TextIO

from wizard.cli.forensics import what_changed_for
from wizard.cli.wiring import target_cluster
from wizard.domain.actions import AllowOperatorIp
from wizard.domain.catalog import load_catalog
from wizard.domain.errors import AuthFailed, BadInput
from wizard.domain.forensics import WhatChanged
from wizard.domain.results import ConfirmKind, StepKind
from wizard.engine.steps import Plan, Step
from wizard.run.audit import audit_log, default_audit_path
from wizard.run.confirmation import Answer, auto_confirm
from wizard.run.firewall import left_open_text
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings
from wizard.run.outcomes import StepOutcome
from wizard.run.outputs import check_audit_path, check_report_path
from wizard.run.recovery import WAIT_ADVICE
from wizard.run.wait import WaitProgress, wait_for_ready
from wizard.run.wait_gate import GO_BACK, blocked_text, blockers

EXIT_USAGE, EXIT_INCOMPLETE = 2, 3


def step_preview(step: Step, number: int | None = None, total: int | None = None) -> str:
    """What a step will do, in the words the operator needs before saying yes."""
    head = f"step {number}/{total}" if number is not None and total is not None else "step"
    if step.kind == StepKind.ESCALATE:
        return f"{head}  ESCALATE {step.finding}: {step.summary}\n      {step.explanation}"
    if step.kind == StepKind.DEFERRED:
        return f"{head}  LATER {step.remediation} for {step.finding}: {step.explanation}"
    lines = [
        f"{head}  {step.remediation}  (for {step.finding}"
        + (", also " + ", ".join(step.also_fixes) if step.also_fixes else "")
        + ")",
        f"      {step.title}: {step.summary}",
        f"      change:     {step.change}",
        f"      REST:       {step.rest}",
        f"      az:         {step.az}",
        f"      permission: {step.permission}",
        f"      reversible: {'yes' if step.reversible else 'NO'}",
        "      confirm:    "
        + {
            ConfirmKind.NONE: "none (reads only)",
            ConfirmKind.YES: "y/N",
            ConfirmKind.TYPED: f"type {step.confirm_text!r}",
        }.get(step.confirm, step.confirm),
        f"      verifies:   {', '.join(step.verifies) or '-'}",
    ]
    if step.explanation:
        lines.append(f"      why:        {step.explanation}")
    if step.provisional:
        lines.append("      (provisional: its inputs come from an earlier step; re-planned after it)")
    if step.permission_doubt:
        lines.append(
            f"      you may lack the permission: reading the target was refused ({step.permission_doubt})"
        )
    if step.network:
        lines.append(f"      NETWORK:    {step.network}")
    if step.lock:
        lines.append(f"      LOCKED:     {step.lock}")
    return "\n".join(lines)


def plan_text(plan: Plan) -> str:
    """The whole plan, numbered."""
    if not plan.steps:
        return "nothing to fix" + ("".join(f"\n  note: {n}" for n in plan.notes))
    total = len(plan.steps)
    parts = [step_preview(s, n, total) for n, s in enumerate(plan.steps, 1)]
    parts += [f"note: {n}" for n in plan.notes]
    return "\n".join(parts)


def _progress_line(out: TextIO) -> Callable[[WaitProgress], None]:
    def show(p: WaitProgress) -> None:
        health = f", Resource Health {p.availability}" if p.availability else ""
        print(
            f"  waiting: cluster {p.cluster_status}{health}, {p.elapsed:.1f} s elapsed of the documented "
            f"{p.bound / 60:.0f} min (timeout {p.timeout:.0f} s), next poll in {p.next_poll_in:.1f} s",
            file=out,
            flush=True,
        )

    return show


def _asker(stdin: TextIO, out: TextIO, names: Collection[str] = ()) -> Callable[[Step], Answer]:
    def ask(step: Step) -> Answer:
        if step.confirm == ConfirmKind.NONE:
            return True
        if step.confirm == ConfirmKind.TYPED and step.confirm_text and step.confirm_text in names:
            return step.confirm_text
        prompt = (
            f"type the name {step.confirm_text!r} to confirm {step.remediation}: "
            if step.confirm == ConfirmKind.TYPED
            else f"apply {step.remediation}? [y/N] "
        )
        print(prompt, end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            raise BadInput(
                "fix needs a confirmation for each write and stdin is closed: "
                "answer in a terminal, or pass --yes"
            )
        return line.strip()

    return ask


def _confirmer(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> Callable[[Step], Answer]:
    """Without --yes: ask for every write. With --yes: y/N steps are confirmed; a typed step needs
    --confirm-name NAME, or its name typed at a terminal; else None, and the run stops before it."""
    names = tuple(args.confirm_name or ())
    if not args.yes:
        return _asker(stdin, out, names)
    ask = _asker(stdin, out, names) if stdin.isatty() else None

    def confirm(step: Step) -> Answer:
        answer = auto_confirm(step, names)
        return ask(step) if answer is None and ask is not None else answer

    return confirm


def _write_report(
    path: str | None, session: FixSession, out: TextIO, changed: WhatChanged | None = None
) -> None:
    """The incident report, when asked for: also when there was nothing to write (escalations)."""
    if path:
        from wizard.run.incident import incident_markdown, save_report

        report = incident_markdown(session, what_changed=changed)
        print(f"incident report: {save_report(report, path)}", file=out)


def run_fix(
    args: argparse.Namespace,
    make_backend: Callable[[argparse.Namespace], Any],
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    """Diagnose, plan, preview; then (unless --dry-run) confirm, apply, verify, re-plan, report."""
    from wizard.run.text import diagnosis_text

    stdin = stdin or sys.stdin
    out = out or sys.stdout
    # `is not None`: an empty --finding "" must be refused, not taken for --all
    code = args.finding.strip().upper() if args.finding is not None else None
    if code is not None and code not in load_catalog().findings:
        raise BadInput(f"unknown finding code {args.finding!r} (see `cmk-wizard diagnose` for codes)")
    if args.audit_log or not args.dry_run:
        check_audit_path(args.audit_log or default_audit_path())
    if args.report:
        check_report_path(args.report)
    backend = make_backend(args)
    backend.open_early()  # ARM dialled now, while the SDK imports
    session: FixSession | None = None
    try:
        cluster_id = target_cluster(backend)
        gateway = backend.connect()
        audit = audit_log(backend, args.audit_log)
        settings = FixSettings.for_mode(
            gateway.mode, expiry_days=args.expiry_days, wait_timeout=args.wait_timeout
        )
        session = FixSession(
            gateway,
            cluster_id,
            audit=audit,
            scope=None if code is None else {code},
            settings=settings,
            operator_ip=args.my_ip,
        )
        if not args.dry_run and not gateway.read_only:  # one fix per cluster; then the log's loose ends
            for notice in session.begin():
                print(notice, file=out, flush=True)
        first = session.diagnose()
        refused = next((o.error for o in first.known.values() if isinstance(o.error, AuthFailed)), None)
        if refused is not None:  # a token Azure (or the emulator) refuses: no plan could mean anything
            raise refused
        if code is not None and code not in {f.code for f in first.findings}:
            raise BadInput(f"finding {code} is not present on this cluster (verdict {first.verdict})")
        changed = what_changed_for(args, backend, first)
        plan = session.plan()
        print(f"plan for {cluster_id.rsplit('/', 1)[-1]} ({first.verdict}):", file=out)
        print(plan_text(plan), file=out, flush=True)
        if args.dry_run:
            print("dry run: nothing was written", file=out)
            return first.exit_code
        if not plan.writes and not any(s.kind == StepKind.WAIT for s in plan.steps):
            _write_report(args.report, session, out, changed)
            return first.exit_code
        confirm = _confirmer(args, stdin, out)

        def show_outcome(o: StepOutcome) -> None:
            verified = f"; {o.verification.status}: {o.verification.detail}" if o.verification else ""
            print(f"  -> {o.status}: {o.message}{verified}", file=out, flush=True)
            if o.advice:
                print(f"     what to do: {o.advice}", file=out, flush=True)

        print(f"audit log: {audit.path}", file=out)
        session.on_notice = lambda text: print(f"  .. {text}", file=out, flush=True)
        try:
            result = session.run(
                confirm,
                on_step=lambda s: print("\n" + step_preview(s), file=out, flush=True),
                on_outcome=show_outcome,
                on_progress=_progress_line(out),
            )
        except KeyboardInterrupt:
            if session.carry.open_rules:
                print(f"\ninterrupted: {left_open_text(session.carry, audit.path)}", file=out, flush=True)
            raise
        print("", file=out)
        if result.deleted_cluster:
            print(
                "the failed cluster was deleted: provision it again with the checked identity, vault and key",
                file=out,
            )
        else:
            print(diagnosis_text(result.final, verdict=result.verdict), file=out)
        if result.recovery is not None:
            print(f"final verdict: {result.verdict}: {result.recovery.message}", file=out)
            print(f"  what to do: {result.recovery.advice}", file=out)
        if result.stopped:
            print(f"stopped: {result.stopped}", file=out)
        if session.carry.open_rules:
            print(left_open_text(session.carry, audit.path), file=out)
        if result.unconfirmed is not None:
            name = result.unconfirmed.confirm_text
            action = result.unconfirmed.action
            address = f" --my-ip {action.address}" if isinstance(action, AllowOperatorIp) else ""
            print(
                f"to apply it: run again with --yes --confirm-name {name}{address}, or without --yes "
                f"and type {name!r} when asked",
                file=out,
            )
        _write_report(args.report, session, out, changed)
        return result.exit_code
    finally:
        if session is not None:
            session.close()
        backend.close()


def run_watch(
    args: argparse.Namespace, make_backend: Callable[[argparse.Namespace], Any], *, out: TextIO | None = None
) -> int:
    """wait-for-ready with progress lines: 0 when Ready, 3 on timeout. Never while a cause is there
    (the same rule as the Fix screen and `fix`): it says which, and exits as `diagnose` would."""
    from wizard.run.diagnose import diagnose

    out = out or sys.stdout
    backend = make_backend(args)
    try:
        cluster_id = target_cluster(backend)
        gateway = backend.connect()
        settings = FixSettings.for_mode(gateway.mode, wait_timeout=args.wait_timeout)
        latest = [diagnose(gateway, cluster_id)]
        refused = next((o.error for o in latest[0].known.values() if isinstance(o.error, AuthFailed)), None)
        if refused is not None:  # signed out (or a token the emulator refuses): waiting cannot help
            print(f"could not poll the cluster: {refused}", file=out)
            return EXIT_INCOMPLETE
        found = blockers(latest[0])
        if found:
            print(blocked_text(found), file=out)
            print(f"  what to do: {GO_BACK}; e.g. cmk-wizard fix --cluster {cluster_id} --all", file=out)
            return latest[0].exit_code

        def recheck() -> str:
            latest[0] = diagnose(gateway, cluster_id)
            again = blockers(latest[0])
            return blocked_text(again) if again else ""

        result = wait_for_ready(
            gateway,
            cluster_id,
            timeout=settings.wait_timeout,
            poll=settings.wait_poll,
            max_poll=settings.wait_max_poll,
            on_progress=_progress_line(out),
            recheck=recheck,
            recheck_every=settings.wait_recheck,
        )
        print(result.describe(), file=out)
        if result.blocked:
            print(f"  what to do: {GO_BACK}; e.g. cmk-wizard fix --cluster {cluster_id} --all", file=out)
            return latest[0].exit_code
        if result.status in WAIT_ADVICE:
            print(f"  what to do: {WAIT_ADVICE[result.status]}", file=out)
        return 0 if result.ready else EXIT_INCOMPLETE
    finally:
        backend.close()
