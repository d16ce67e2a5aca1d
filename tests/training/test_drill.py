"""Drills: seeded draws, estates the emulator serves, and the causes the diagnosis really names."""

from __future__ import annotations

import itertools

import pytest

from wizard.cli.training import drill_backend, shortest_path
from wizard.domain.catalog import load_catalog
from wizard.domain.models import Severity
from wizard.run.diagnose import diagnose
from wizard.training.drill import DrillSpec, draw_drill, drill_causes, interactions


def every_drill() -> list[DrillSpec]:
    """Every spec the three levels can draw (level 2: any two causes of different groups)."""
    table = drill_causes()
    pool = sorted(c for c in table if not table[c].later)
    specs = [DrillSpec(0, 1, (c,)) for c in sorted(table)]
    specs += [
        DrillSpec(0, 2, pair)
        for pair in itertools.combinations(pool, 2)
        if table[pair[0]].group != table[pair[1]].group
    ]
    specs += [DrillSpec(0, 3, i.causes, i.why) for i in interactions()]
    return specs


def test_the_same_seed_draws_the_same_drill_and_seeds_differ() -> None:
    for level in (1, 2, 3):
        assert draw_drill(42, level) == draw_drill(42, level)
        drawn = {draw_drill(seed, level).causes for seed in range(60)}
        assert len(drawn) >= 3, f"level {level} draws too little variety: {drawn}"


def test_levels_draw_one_two_or_interacting_causes_from_the_catalogue() -> None:
    findings = load_catalog().findings
    for seed in range(40):
        one, two, three = (draw_drill(seed, level) for level in (1, 2, 3))
        assert len(one.causes) == 1
        assert len(two.causes) == 2
        groups = {drill_causes()[c].group for c in two.causes}
        assert len(groups) == 2, two
        assert three.causes in {i.causes for i in interactions()}
        assert three.why
        for code in (*one.causes, *two.causes, *three.causes):
            assert findings[code].severity == Severity.CRITICAL


def test_a_bad_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level"):
        draw_drill(1, 4)


def test_the_estate_name_never_names_a_cause() -> None:
    for spec in every_drill():
        assert all(code.lower() not in spec.name.lower() for code in spec.causes)
        assert spec.name == f"drill-{spec.seed}-level-{spec.level}"


@pytest.mark.parametrize("spec", every_drill(), ids=lambda s: "+".join(s.causes))
def test_the_first_diagnosis_names_exactly_the_answer(spec: DrillSpec) -> None:
    backend = drill_backend(spec, revalidate_seconds=0.0)
    try:
        cluster_id = backend.default_cluster_id()
        assert cluster_id
        result = diagnose(backend.connect(), cluster_id)
        verdict = backend.emulator.health()["clusters"][cluster_id]
    finally:
        backend.close()
    catalog = load_catalog()
    named = {
        f.code
        for f in result.findings
        if f.severity == Severity.CRITICAL and not catalog.finding(f.code).symptom
    }
    assert named == set(spec.answer)
    assert not verdict["canUseKey"], "the emulator itself must judge the drill's cluster broken"


@pytest.mark.parametrize("spec", [DrillSpec(0, 3, i.causes, i.why) for i in interactions()], ids=str)
def test_the_shortest_path_brings_every_interacting_drill_back(spec: DrillSpec) -> None:
    path = shortest_path(spec)
    remediations = [step.remediation for step in path]
    fixed = {step.finding for step in path}
    assert set(spec.causes) <= fixed | set(spec.later), (remediations, spec.causes)
    assert set(spec.later) & {"RBAC_ROLE_MISSING"} <= fixed
    if "VAULT_SOFT_DELETED" in spec.causes:
        assert remediations[0] == "recover-vault"
        assert remediations.index("grant-crypto-role") > 0
