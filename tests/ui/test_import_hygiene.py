"""The UI must reach its first frame without the Azure SDK: importing it costs about 0.3 s."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from screens.app import WizardApp
from tests.ui.fakes import FakeBackend
from tests.ui.helpers import settle
from wizard.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_app_loads_no_azure_module() -> None:
    forbidden = "('azure.', 'wizard.azure', 'wizard.emulator')"
    code = (
        "import sys, screens.app, tests.ui.fakes; "
        f"print('\\n'.join(m for m in sys.modules if m == 'azure' or m.startswith({forbidden})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.split()
    assert loaded == []


FIRST_FRAME = """
import json, os, sys
from textual.widget import Widget
from screens.app import WizardApp
from wizard.cli import build_parser, make_backend

backend = make_backend(build_parser().parse_args(["demo", "--scenario", "key-expired"]))
app = WizardApp(backend, cluster_id=backend.default_cluster_id())
display = app._display

def first_frame(screen, renderable):
    display(screen, renderable)
    if renderable is None or app._batch_count:
        return  # not drawn (Textual's own test of the same)
    seen = {
        "modules": sorted(sys.modules),
        "screens": [type(screen).__name__ for screen in app.screen_stack],
        "widgets": {type(s).__name__: sorted(type(w).__name__ for w in s.walk_children(Widget))
                    for s in app.screen_stack},
    }
    os.write(1, json.dumps(seen).encode())
    os._exit(0)

app._display = first_frame
app.run(headless=True, size=(80, 24))
"""
"""`cmk-wizard demo`'s composition up to its first frame, in a fresh interpreter."""


def test_the_first_frame_loads_only_what_it_draws() -> None:
    """The first frame of `demo` (the scenario's checklist, every check pending) is drawn without the
    estate code or PyYAML (the index names the scenario and its cluster), the checks, the scan, the
    fleet view and its table, the catalogue or the models' dataclasses, and with one screen composed:
    the cluster list under it holds only its context bar until after the first frame."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    seen = json.loads(out)
    modules = set(seen["modules"])
    not_yet = {
        "yaml",
        "tomllib",
        "wizard.domain.forensics",
        "wizard.training.drill",
        "wizard.emulator.estate",
        "wizard.emulator.server",
        "wizard.engine.assess",
        "wizard.run.diagnose",
        "wizard.run.scan",
        "wizard.domain.catalog",
        "wizard.domain.models",
        "wizard.domain.fleet",
        "screens.fleet_view",
        "textual.widgets._data_table",
        "azure",
    }
    assert sorted(modules & not_yet) == []
    assert seen["screens"] == ["Screen", "StartScreen", "DiagnosisScreen"]
    assert seen["widgets"]["StartScreen"] == ["ContextBar", "Static", "Static", "ToastRack", "Tooltip"]
    assert len([m for m in modules if m.startswith(("wizard.", "screens."))]) <= 40  # 35 on 2026-12-02


async def test_the_app_says_when_its_first_frame_is_out() -> None:
    """The CLI turns the garbage collector back on from this hook: it must run, once."""
    told: list[str] = []
    backend = FakeBackend("key-expired")
    app = WizardApp(
        backend, cluster_id=backend.default_cluster_id(), after_first_frame=lambda: told.append("out")
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert told == ["out"]


def test_the_collector_runs_again_when_the_tui_cannot_start() -> None:
    """`demo` without a terminal stops before its first frame: the collector it paused is back on."""
    assert gc.isenabled()
    try:
        assert main(["demo"]) == 2  # pytest's stdin is no terminal
        assert gc.isenabled()
    finally:
        gc.unfreeze()
