"""A critical check that answered, then went unknown while the fix ran, stops the run: the re-plan
cannot see what it would need (the grant of multi-fault), so it must not go on as if it were fixed.
With the restriction from the start, the plan says it cannot see access."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BackendFactory
from wizard.domain.models import CheckStatus
from wizard.domain.results import StepKind
from wizard.emulator import Emulator
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings
from wizard.run.outcomes import StepOutcome

RESTRICTION = "no-role-assignment-read"
ROLE_READ = "Microsoft.Authorization/roleAssignments/read"


def test_access_going_unknown_mid_fix_stops_before_the_wait(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Before: the grant's verification could not see access, the re-plan went on to the wait for
    Ready, and it ran out. A step is verified by re-reading what it touched (wizard.run.rediagnose),
    so the lost sight shows when the grant's own re-read of the role assignments is refused."""
    backend = emulator_backend("multi-fault")
    cluster_id = backend.default_cluster_id() or ""
    emulator: Emulator = backend.emulator
    session = FixSession(
        backend.connect(),
        cluster_id,
        audit=AuditLog(tmp_path / "audit.jsonl"),
        settings=FixSettings(wait_timeout=5.0, wait_poll=0.1, wait_max_poll=0.5),
    )
    seen: list[StepOutcome] = []

    def restrict_after_the_first_write(outcome: StepOutcome) -> None:
        seen.append(outcome)
        # imposed after the first write (the grant's verification cannot see access), lifted once
        # the run stops (so the final, full diagnosis can see access again)
        emulator.set_faults(restrictions=[RESTRICTION] if len(seen) < 3 else [])

    result = session.run(lambda step: auto_confirm(step, set()), on_outcome=restrict_after_the_first_write)

    assert [o.step.kind for o in result.outcomes] == [StepKind.WRITE, StepKind.WRITE, StepKind.WRITE]
    assert result.outcomes[-1].step.remediation == "grant-crypto-role"
    assert "access.rbac" in result.stopped
    assert ROLE_READ in result.stopped
    assert "unknown" in result.stopped
    assert not any(o.step.kind == StepKind.WAIT for o in result.outcomes), "no wait on a blind re-plan"
    final_rbac = next(c for c in result.final.assessment.checks if c.id == "access.rbac")
    assert final_rbac.status != CheckStatus.UNKNOWN, "the final diagnosis reads everything again"


def test_access_unreadable_from_the_start_is_said_in_the_plan(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Before: the plan named the key and the firewall, and said nothing of the access it could not see."""
    backend = emulator_backend("multi-fault")
    backend.emulator.set_faults(restrictions=[RESTRICTION])
    session = FixSession(
        backend.connect(), backend.default_cluster_id() or "", audit=AuditLog(tmp_path / "a")
    )
    plan = session.plan()
    [note] = [n for n in plan.notes if "cannot see access" in n]
    assert "access.rbac" in note
    assert ROLE_READ in note
    assert plan.next_step is not None  # what it can see is still planned
    assert not (tmp_path / "a").exists()
