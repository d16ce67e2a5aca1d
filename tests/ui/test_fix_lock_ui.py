"""The wizard takes the cluster's fix lock before its first write, says who holds it when another
fix does (and goes on running), and gives it back when the fix screen closes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from screens.app import WizardApp
from screens.fix import RemediationScreen
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import settle, shown, until
from tests.ui.test_remediation import audit_records, open_fix
from wizard.domain.results import OutcomeStatus
from wizard.run.lock import lock_path

REPO = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys; from wizard.run.lock import ClusterLock; lock = ClusterLock(sys.argv[1], sys.argv[2]); "
    "lock.acquire(); print('held', flush=True); sys.stdin.readline()"
)


async def test_the_wizard_says_who_holds_the_lock_and_does_not_write(tmp_path: Path) -> None:
    backend = FakeBackend("key-expired")
    cluster_id = backend.default_cluster_id() or ""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path), cluster_id],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    app = WizardApp(backend, cluster_id=cluster_id, audit_path=tmp_path / "audit.jsonl")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_fix(pilot)
            await pilot.press("a", "y")
            await until(pilot, lambda: screen.outcomes and not screen.busy)
            refused = screen.outcomes[-1]
            assert refused.status == OutcomeStatus.REFUSED
            assert f"pid {holder.pid} on " in refused.message
            assert "another fix is running" in shown(app, "#fix-detail")
            assert audit_records(tmp_path / "audit.jsonl") == []  # nothing was written
            holder.communicate("\n", timeout=30)  # the other fix is done: the step may go ahead
            await pilot.press("a", "y")
            await until(pilot, lambda: len(screen.outcomes) == 2 and not screen.busy)
            assert screen.outcomes[-1].status == OutcomeStatus.OK
            assert lock_path(tmp_path, cluster_id).exists()  # held while the fix screen is open
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, RemediationScreen)
            assert not lock_path(tmp_path, cluster_id).exists()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate(timeout=10)
