"""Where the wizard writes its audit log and incident reports, and where the operator comes from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FixPaths:
    """Where the audit log and incident reports go (None: the user state directory), and the
    operator's public address (`--my-ip`) for a temporary vault firewall rule (None: not given)."""

    audit_path: Path | None = None
    report_dir: Path | None = None
    my_ip: str | None = None

    def reports(self) -> Path:
        """The folder reports are saved in."""
        if self.report_dir is not None:
            return self.report_dir
        from platformdirs import user_state_dir

        return Path(user_state_dir("cmk-wizard")) / "reports"
