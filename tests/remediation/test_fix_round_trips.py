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
from wizard.engine.tree import Read, ReadKind
from wizard.run.audit import AuditLog
from wizard.run.confirmation import auto_confirm
from wizard.run.diagnose import diagnose
from wizard.run.fix import FixSession
from wizard.run.fix_settings import FixSettings
from wizard.run.wait import wait_for_ready

Matcher = Callable[[str, str, str], bool]


def _session(backend: EmulatorBackend, tmp_path: Path, **settings: Any) -> FixSession:
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    return FixSession(
        gateway,
        cluster_id,
        audit=AuditLog(tmp_path / "audit.jsonl"),
        settings=FixSettings.for_mode(gateway.mode, **settings),
    )


def _cluster_reads(backend: EmulatorBackend) -> list[dict[str, Any]]:
    cluster_id = backend.default_cluster_id() or ""
    return [
        r
        for r in backend.emulator.requests()
        if r["method"] == "GET" and r["path"].lower() == cluster_id.lower()
    ]


@pytest.fixture
def run_aside() -> Iterator[Callable[[Callable[[], Any]], dict[str, Any]]]:
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
    emulator_backend: BackendFactory, tmp_path: Path, run_aside: Any
) -> None:
    backend = emulator_backend("firewall-blocked")
    session = _session(backend, tmp_path)
    session.diagnose()

    def locks(host: str, method: str, path: str) -> bool:
        return "/providers/microsoft.authorization/locks" in path.lower()

    plan = _held_together(backend, locks, 3, session.plan, run_aside)
    assert plan.next_step is not None
    assert plan.next_step.lock == ""


def test_a_steps_read_back_and_verification_reads_are_in_flight_together(
    emulator_backend: BackendFactory, tmp_path: Path, run_aside: Any
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
        run_aside,
    )
    assert outcome.verification is not None
    assert outcome.verification.status == VerificationStatus.VERIFIED


def test_a_wait_poll_asks_the_cluster_and_resource_health_together(
    emulator_backend: BackendFactory, run_aside: Any
) -> None:
    backend = emulator_backend("healthy")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()

    def polled(host: str, method: str, path: str) -> bool:
        lowered = path.lower()
        return ("/mongoclusters/" in lowered and method == "GET") or "availabilitystatuses" in lowered

    result = _held_together(
        backend, polled, 2, lambda: wait_for_ready(gateway, cluster_id, timeout=5), run_aside
    )
    assert result.ready, result.describe()


@pytest.mark.parametrize(("fresh", "reads"), [(600.0, 3), (0.0, 4)])
def test_the_wait_after_a_verified_step_takes_its_first_poll_from_that_verification(
    emulator_backend: BackendFactory, tmp_path: Path, fresh: float, reads: int
) -> None:
    """key-expired: one diagnosis, one write verified by re-reading the cluster, a wait, a final
    diagnosis. A verification begun within `first_poll_fresh` answers the wait's first poll (3
    cluster reads in all); one older than that does not (0 s: the wait reads the cluster itself)."""
    backend = emulator_backend("key-expired")
    session = _session(backend, tmp_path, first_poll_fresh=fresh)
    result = session.run(auto_confirm)
    assert result.final.verdict == "healthy"
    kinds = [o.step.kind for o in result.outcomes]
    assert kinds == [StepKind.WRITE, StepKind.WAIT], kinds
    wait = result.outcomes[-1].wait
    assert wait is not None
    assert wait.ready
    assert len(_cluster_reads(backend)) == reads


def test_a_wait_with_no_write_in_the_session_polls_azure_itself(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """The first diagnosis is no verification of anything: it never answers a wait's poll."""
    backend = emulator_backend("healthy")
    session = _session(backend, tmp_path, first_poll_fresh=600.0)
    session.diagnose()
    outcome = session.wait()
    assert outcome.wait is not None
    assert outcome.wait.polls >= 1
    assert len(_cluster_reads(backend)) >= 2, "the wait read the cluster itself"


def test_the_key_write_is_sent_once_the_data_plane_is_signed_in_to(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """Key Vault answers a client's first request with a 401 challenge: the previewed key write
    signs in ahead (a read of the key, aside), so the PATCH itself goes through first time."""
    backend = emulator_backend("key-expired")
    session = _session(backend, tmp_path)
    step = session.preview().next_step
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


@pytest.mark.parametrize("read_only", [False, True])
def test_a_plan_only_looked_at_never_touches_the_data_plane(
    emulator_backend: BackendFactory, tmp_path: Path, read_only: bool
) -> None:
    """`plan()` (what `--dry-run` shows) reads the management plane only; in read-only mode not
    even the preview signs in to the data plane."""
    backend = emulator_backend("key-expired", read_only=read_only)
    session = _session(backend, tmp_path)
    assert session.plan().next_step is not None
    if read_only:
        assert session.preview().next_step is not None
    session.diagnose()  # a full diagnosis after: anything sent aside had its time to land
    assert [r for r in backend.emulator.requests() if r["host"] != "arm"] == []


def test_a_refused_write_starts_no_verification_aside(
    emulator_backend: BackendFactory, tmp_path: Path
) -> None:
    """The read-ahead starts only once Azure accepted the write: a refused write (the vault's
    firewall denies the operator) starts none; the session diagnoses once after it, as before."""
    backend = emulator_backend("operator-network-denied")
    session = _session(backend, tmp_path)
    step = next(s for s in session.plan().steps if s.remediation == "extend-key-expiry")
    before = len(_cluster_reads(backend))
    outcome = session.apply(step, confirmation=auto_confirm(step))
    assert not outcome.succeeded
    assert "Firewall" in outcome.message
    assert len(_cluster_reads(backend)) == before + 1


def test_answers_sent_ahead_count_only_where_the_engine_asks_for_them(
    emulator_backend: BackendFactory,
) -> None:
    """A read sent ahead that the engine never asks for (a vault this cluster does not use) is
    not among the diagnosis' answers, and changes nothing it concludes."""
    backend = emulator_backend("key-expired")
    cluster_id = backend.default_cluster_id()
    assert cluster_id
    gateway = backend.connect()
    plain = diagnose(gateway, cluster_id)
    stray = Read(
        ReadKind.VAULT,
        (cluster_id.split("/providers/")[0] + "/providers/Microsoft.KeyVault/vaults/kv-other",),
    )
    ahead = diagnose(gateway, cluster_id, prefetch=[stray, *plain.known])
    assert stray not in ahead.known
    assert set(ahead.known) == set(plain.known)
    assert [f.code for f in ahead.findings] == [f.code for f in plain.findings]
