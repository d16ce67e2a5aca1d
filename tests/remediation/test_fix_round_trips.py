"""The fix path's round trips, counted and never timed (issue 16): reads that do not depend on each
other are in flight together, so a held emulator sees them all at once; reads already made moments
ago are not made again; the vault's data plane is signed in to before its write is sent."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BackendFactory, until
from wizard.cli.wiring import EmulatorBackend
from wizard.domain.results import StepKind, VerificationStatus
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.fix import FixSession
from wizard.run.wait import wait_for_ready

Matcher = Callable[[str, str, str], bool]


def _session(backend: EmulatorBackend, tmp_path: Path) -> FixSession:
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    return FixSession(backend.connect(), cluster_id, audit=AuditLog(tmp_path / "audit.jsonl"))


@pytest.fixture
def in_background() -> Iterator[Callable[[Callable[[], Any]], dict[str, Any]]]:
    """Run a call on a thread (its result or error in the box); every thread joined after the test."""
    threads: list[threading.Thread] = []

    def start(call: Callable[[], Any]) -> dict[str, Any]:
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = call()
            except Exception as exc:
                box["error"] = exc

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
        return box

    yield start
    for thread in threads:
        thread.join(timeout=30)


def _held_together(
    backend: EmulatorBackend, matches: Matcher, count: int, call: Callable[[], Any], start: Any
) -> Any:
    """Hold what `matches` names while `call` runs: `count` such requests must be waiting at once."""
    emulator = backend.emulator
    emulator.hold_matching(matches)
    box = start(call)
    try:
        until(lambda: emulator.held() >= count or bool(box), timeout=20)
        assert emulator.held() >= count, f"{emulator.held()} held at once, wanted {count}: {box}"
    finally:
        emulator.release()
    assert until(lambda: bool(box), timeout=30), "the call did not finish once released"
    assert "error" not in box, box["error"]
    return box["result"]


def test_the_lock_preflight_reads_subscription_group_and_vault_at_once(
    emulator_backend: BackendFactory, tmp_path: Path, in_background: Any
) -> None:
    backend = emulator_backend("firewall-blocked")
    session = _session(backend, tmp_path)
    session.diagnose()

    def locks(host: str, method: str, path: str) -> bool:
        return "/providers/microsoft.authorization/locks" in path.lower()

    plan = _held_together(backend, locks, 3, session.plan, in_background)
    assert plan.next_step is not None
    assert plan.next_step.lock == ""


def test_a_steps_read_back_and_verification_reads_are_in_flight_together(
    emulator_backend: BackendFactory, tmp_path: Path, in_background: Any
) -> None:
    """After the key's PATCH: the audit's read-back of the key version, and the verification's
    cluster, Resource Health and key reads, side by side (one round trip, not three)."""
    backend = emulator_backend("key-expired")
    session = _session(backend, tmp_path)
    step = session.plan().next_step
    assert step is not None
    assert step.remediation == "extend-key-expiry"
    written: list[bool] = []

    def after_the_write(host: str, method: str, path: str) -> bool:
        if method == "PATCH":
            written.append(True)
        return bool(written) and host == "arm" and method == "GET"

    outcome = _held_together(
        backend,
        after_the_write,
        4,
        lambda: session.apply(step, confirmation=auto_confirm(step)),
        in_background,
    )
    assert outcome.verification is not None
    assert outcome.verification.status == VerificationStatus.VERIFIED


def test_a_wait_poll_asks_the_cluster_and_resource_health_together(
    emulator_backend: BackendFactory, in_background: Any
) -> None:
    backend = emulator_backend("healthy")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()

    def polled(host: str, method: str, path: str) -> bool:
        lowered = path.lower()
        return ("/mongoclusters/" in lowered and method == "GET") or "availabilitystatuses" in lowered

    result = _held_together(
        backend, polled, 2, lambda: wait_for_ready(gateway, cluster_id, timeout=5), in_background
    )
    assert result.ready, result.describe()


def test_the_wait_after_a_verified_step_takes_its_first_poll_from_that_verification(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """key-expired: one diagnosis, one write verified by re-reading the cluster, a wait, a final
    diagnosis; the wait reads the cluster no more than that verification just did."""
    backend = emulator_backend("key-expired")
    session = _session(backend, tmp_path)
    result = session.run(auto_confirm)
    assert result.final.verdict == "healthy"
    kinds = [o.step.kind for o in result.outcomes]
    assert kinds == [StepKind.WRITE, StepKind.WAIT], kinds
    wait = result.outcomes[-1].wait
    assert wait is not None
    assert wait.ready
    cluster_reads = [
        r
        for r in backend.emulator.requests()
        if r["method"] == "GET" and r["path"].lower().endswith("/mongoclusters/cluster-key-expired")
    ]
    # the first diagnosis, the step's verification, the final diagnosis: the wait's poll was free
    assert len(cluster_reads) == 3, [r["seq"] for r in cluster_reads]


def test_the_key_write_is_sent_once_the_data_plane_is_signed_in_to(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Key Vault answers a client's first request with a 401 challenge: the plan's key write signs in
    ahead (a read of the key, in the background), so the PATCH itself goes through first time."""
    backend = emulator_backend("key-expired")
    session = _session(backend, tmp_path)
    step = session.plan().next_step
    assert step is not None
    assert step.remediation == "extend-key-expiry"
    emulator = backend.emulator
    assert until(
        lambda: any(r["host"] != "arm" and r["status"] == 200 for r in emulator.requests()), timeout=10
    )
    outcome = session.apply(step, confirmation=auto_confirm(step))
    assert outcome.verification is not None
    assert outcome.verification.status == VerificationStatus.VERIFIED
    patches = [r for r in emulator.requests() if r["host"] != "arm" and r["method"] == "PATCH"]
    assert [r["status"] for r in patches] == [200]
