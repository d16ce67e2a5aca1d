"""Where the wizard writes its audit log and incident reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FixPaths:
    """Where the audit log and incident reports go (None: the user state directory)."""

    audit_path: Path | None = None
    report_dir: Path | None = None

    def reports(self) -> Path:
        """The folder reports are saved in."""
        if self.report_dir is not None:
            return self.report_dir
        from platformdirs import user_state_dir

        return Path(user_state_dir("cmk-wizard")) / "reports"
