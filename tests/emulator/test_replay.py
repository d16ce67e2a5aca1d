"""Every recording of the Azure SDKs' live tests (`../shared/azure-recordings/`), replayed against the
emulator: seeded from what the recording shows, each request sent as recorded, each answer compared
(see `replay` for what counts as the same). The emulator's clock is each entry's recorded Date."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import replay, replay_seed
from wizard.emulator import Emulator

RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "azure-recordings"
FILES = (
    sorted(str(p.relative_to(RECORDINGS)) for p in RECORDINGS.glob("*/*.json")) if RECORDINGS.is_dir() else []
)


@dataclass(frozen=True)
class Difference:
    """Where the emulator deliberately answers otherwise; the replay stops at that entry."""

    entry: int
    reason: str


DIFFERENCES: dict[str, Difference] = {
    "keyvault-mgmt/vault_delete_sync_then_deletedvault_get_then_purge_lro.json": Difference(
        2,
        "purge is refused (405, logged): cmk-wizard never purges, and an emulator that purged would let "
        "an accidental purge pass a test as a success (the entries after it poll the purge)",
    ),
}

TIMING: dict[str, dict[str, float]] = {
    # the data plane's recorded lag after a key delete or recover (404 for a few seconds)
    "keyvault-data/delete_key_then_deletedkeys_poll_404_then_200.json": {"key_lag_seconds": 2},
    "keyvault-data/delete_then_recover_key_with_polling.json": {"key_lag_seconds": 2},
    # operations that ran minutes, whose polls the recording shows still InProgress (or only the last)
    "mongoclusters/delete_202_dropping_poll_to_succeeded.json": {"operation_seconds": 60},
    "mongoclusters/patch_202_updating_poll_to_succeeded.json": {"operation_seconds": 60},
}


class ReplayClock:
    """The emulator's clock, set to each recorded answer's Date before its request is replayed."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def replayed(name: str) -> tuple[list[str], list[replay.Answer]]:
    """Replay one recording up to its difference (if any): the problems found, and the answers."""
    entries = replay.load(RECORDINGS / name)
    estate, mutations = replay_seed.estate(name, entries)
    clock = ReplayClock(entries[0].when)
    settings: dict[str, Any] = TIMING.get(name, {})
    stop = DIFFERENCES[name].entry + 1 if name in DIFFERENCES else len(entries)
    found: list[str] = []
    answers: list[replay.Answer] = []
    with Emulator(estate, clock=clock, **settings) as emu:
        for mutate in mutations:
            emu.mutate(mutate)
        sender = replay.Sender(emu.arm_endpoint, emu.vault_endpoint, emu.ca_path, emu.token)
        links = replay.Links()
        try:
            for index, entry in enumerate(entries[:stop]):
                clock.now = entry.when
                answer = sender.send(entry, sender.url_for(entry, links))
                answers.append(answer)
                found += replay.problems(index, entry, answer)
                links.learn(entry, answer)
        finally:
            sender.close()
    return found, answers


@pytest.mark.skipif(
    not FILES, reason=f"no recordings at {RECORDINGS} (the shared folder beside the checkout)"
)
@pytest.mark.parametrize("name", FILES)
def test_the_emulator_answers_as_the_recording(name: str) -> None:
    found, _ = replayed(name)
    difference = DIFFERENCES.get(name)
    if difference is None:
        assert found == []
        return
    before = [p for p in found if not p.startswith(f"entry {difference.entry} ")]
    assert before == [], "only the named entry may differ"
    assert found != before, f"entry {difference.entry} now matches: drop it from DIFFERENCES"


def test_every_difference_and_timing_names_a_recording() -> None:
    if not FILES:
        pytest.skip(f"no recordings at {RECORDINGS}")
    assert set(DIFFERENCES) | set(TIMING) <= set(FILES)
