"""The three layers and the lazy imports are contracts: prove them the only way that counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return set(out.split())


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pure_core_loads_neither_textual_nor_azure() -> None:
    loaded = _modules_after("import wizard.engine.assess, wizard.domain.catalog, wizard.run.diagnose")
    assert not {m for m in loaded if m.split(".")[0] in ("azure", "textual", "screens")}


def test_cli_help_path_imports_no_azure_and_no_textual() -> None:
    loaded = _modules_after("import wizard.cli; wizard.cli.build_parser()")
    assert not {m for m in loaded if m.split(".")[0] in ("azure", "textual")}


def test_emulator_never_imports_the_engine_or_the_sdk() -> None:
    loaded = _modules_after("import wizard.emulator")
    assert not {m for m in loaded if m.startswith(("wizard.engine", "wizard.azure", "azure"))}
