"""Reads are timed with the clock the caller gives: the real one measures, a frozen one reproduces."""

from __future__ import annotations

from tests.conftest import BackendFactory
from wizard.run.diagnose import DiagnosisRun

LATENCY_MS = 40


def test_reads_are_timed_with_the_wall_clock_by_default(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("key-expired", latency_ms=LATENCY_MS)
    diagnosis = DiagnosisRun(backend.connect(), backend.default_cluster_id() or "", clock=backend.clock).run()
    durations = [outcome.duration_ms for outcome in diagnosis.known.values()]
    assert durations
    assert min(durations) >= LATENCY_MS
    assert diagnosis.duration_ms >= diagnosis.depth * LATENCY_MS


def test_a_frozen_clock_makes_every_duration_zero(emulator_backend: BackendFactory) -> None:
    backend = emulator_backend("key-expired", latency_ms=LATENCY_MS)
    diagnosis = DiagnosisRun(backend.connect(), backend.default_cluster_id() or "", clock=lambda: 0.0).run()
    assert diagnosis.known
    assert {o.duration_ms for o in diagnosis.known.values()} == {0}
    assert diagnosis.duration_ms == 0
    assert {c.duration_ms for c in diagnosis.assessment.checks if c.status.done} <= {0, None}
