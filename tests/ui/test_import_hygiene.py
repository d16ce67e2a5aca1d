"""The UI must reach its first frame without the Azure SDK: importing it costs about 0.3 s."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
