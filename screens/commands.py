"""The command palette's wizard commands: re-run, switch cluster or scenario, colours, report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider


class CommandTarget(Protocol):
    """What the palette asks of the app, kept narrow so this module needs no screen imports."""

    scenario_names: list[str]
    scenario_notes: dict[str, str]
    playing: str | None

    def action_rerun_diagnosis(self) -> None:
        """Run the open cluster's diagnosis again."""

    def action_switch_cluster(self) -> None:
        """Go back to the cluster list."""

    def action_toggle_colours(self) -> None:
        """Switch between full colour and the terminal's own palette."""

    def action_open_report(self) -> None:
        """Open the incident report."""

    def switch_scenario(self, name: str) -> None:
        """Restart the embedded emulator on another scenario."""


class WizardCommands(Provider):
    """Context-free wizard commands; scenario commands appear only when the backend has scenarios."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], None]]]:
        target = cast(CommandTarget, self.app)
        yield (
            "Re-run diagnosis",
            "Ask Azure every question again for the open cluster",
            target.action_rerun_diagnosis,
        )
        yield ("Switch cluster", "Back to the list of CMK clusters", target.action_switch_cluster)
        yield (
            "Toggle terminal colours",
            "Use the terminal's own 16 colours, or full colour",
            target.action_toggle_colours,
        )
        yield (
            "Open report",
            "The incident report of the fix: read, saved to a file, copy",
            target.action_open_report,
        )
        for name in target.scenario_names:
            shows = target.scenario_notes.get(name) or "Restart the embedded emulator on this scenario"
            if name == target.playing:
                yield (
                    f"Switch scenario: {name} ● playing now",
                    f"Playing now: {shows}",
                    partial(target.switch_scenario, name),
                )
            else:
                yield (f"Switch scenario: {name}", shows, partial(target.switch_scenario, name))

    async def discover(self) -> Hits:
        """Everything, before the operator types."""
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Fuzzy-match titles as the operator types."""
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
