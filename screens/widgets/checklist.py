"""The decision tree as a live checklist: one row per check, indented by depth, marked by status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets.option_list import Option

from screens.presentation import SPINNER_FRAMES, check_depths, status_mark
from screens.widgets.keys import KeyedOptionList
from wizard.domain.status import CheckStatus
from wizard.engine.tree import CheckSpec

if TYPE_CHECKING:
    from wizard.domain.models import CheckResult


class CheckList(KeyedOptionList):
    """Rows keep the tree's order; `show` repaints only statuses, so the cursor never jumps."""

    def __init__(self, tree: tuple[CheckSpec, ...], *, id: str | None = None) -> None:
        self.specs = tree
        self.depths = check_depths(tree)
        self.statuses: dict[str, CheckStatus] = {spec.id: CheckStatus.PENDING for spec in tree}
        self._frame = 0
        super().__init__(*(Option(self._prompt(spec), id=spec.id) for spec in tree), id=id)

    def on_mount(self) -> None:
        """Animate running rows; the timer only repaints rows that are running."""
        self.set_interval(0.12, self._spin)

    def _prompt(self, spec: CheckSpec) -> str:
        status = self.statuses[spec.id]
        if status is CheckStatus.RUNNING:
            mark = f"[$accent]{SPINNER_FRAMES[self._frame % len(SPINNER_FRAMES)]}[/]"
        else:
            mark = status_mark(status)
        return f"{'  ' * self.depths[spec.id]}{mark} {spec.title}"

    def show(self, checks: tuple[CheckResult, ...]) -> None:
        """Repaint the rows whose status changed."""
        for check in checks:
            if self.statuses.get(check.id) is not check.status:
                self.statuses[check.id] = check.status
                self._repaint(check.id)

    def reset(self) -> None:
        """Every check back to pending, for a re-run."""
        for check_id in self.statuses:
            self.statuses[check_id] = CheckStatus.PENDING
            self._repaint(check_id)

    def _repaint(self, check_id: str) -> None:
        index = next(i for i, spec in enumerate(self.specs) if spec.id == check_id)
        self.replace_option_prompt_at_index(index, self._prompt(self.specs[index]))

    def _spin(self) -> None:
        running = [cid for cid, status in self.statuses.items() if status is CheckStatus.RUNNING]
        if running:
            self._frame += 1
            for check_id in running:
                self._repaint(check_id)
