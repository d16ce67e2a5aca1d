"""Confirming one write: yes/no for ordinary changes, the resource's name typed for irreversible ones."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from screens.presentation import field
from wizard.domain.results import ConfirmKind
from wizard.engine.steps import Step
from wizard.run.confirmation import Answer, confirmation_ok


def state_changes(step: Step) -> list[str]:
    """`key  before → after` for every value the step changes, in the step's own words."""
    from screens.presentation import show_value

    keys = list(dict.fromkeys([*step.before, *step.after]))
    rows = []
    for key in keys:
        before = show_value(step.before.get(key)) if key in step.before else "—"
        after = show_value(step.after.get(key)) if key in step.after else "—"
        rows.append(f"[$text-muted]{escape(key)}[/]  {escape(before)} [b]→[/] {escape(after)}")
    return rows


class ConfirmStepScreen(ModalScreen[Answer]):
    """Dismisses with the answer to give the executor, or None when the operator backs out."""

    BINDINGS = [
        Binding("y", "yes", "Apply", id="confirm.yes", tooltip="Yes: apply this change"),
        Binding("n,escape", "no", "Cancel", id="confirm.no", tooltip="No: change nothing"),
    ]

    def __init__(self, step: Step, *, position: str = "", who: str = "") -> None:
        super().__init__()
        self.step = step
        self.position = position
        self.who = who
        self.refusals = 0

    @property
    def typed(self) -> bool:
        """Irreversible or destructive: the operator types the resource's name."""
        return self.step.confirm == ConfirmKind.TYPED

    def compose(self) -> ComposeResult:
        """What will change, then the question."""
        step = self.step
        box = Vertical(id="confirm-box", classes="-typed" if self.typed else "")
        with Vertical(id="confirm-frame"), box:
            yield Static(f"[b]Apply {escape(self.position or 'this step')}?[/]", id="confirm-title")
            with VerticalScroll(id="confirm-body"):
                yield Static(f"[b]{escape(step.title)}[/]", classes="confirm-line")
                if step.reversible:
                    yield Static("[$text-muted]Reversible[/]  [$success]yes[/]", classes="confirm-field")
                else:
                    yield Static(
                        "[b $error]NOT REVERSIBLE: this cannot be undone.[/]", classes="confirm-field"
                    )
                yield Static(field("Change", step.change), classes="confirm-line")
                yield Static(field("Target", step.target), classes="confirm-line")
                for row in state_changes(step):
                    yield Static(row, classes="confirm-field")
                who = f" ({escape(self.who)})" if self.who else ""
                yield Static(
                    f"[$text-muted]Writes to Azure{who}; audited before and after.[/]",
                    classes="confirm-line",
                )
            if self.typed:
                yield Static(f"Type [b]{escape(step.confirm_text)}[/] to confirm:", id="confirm-ask")
                yield Input(id="confirm-name")
                yield Static("", id="confirm-error")
                yield Static("[b]enter[/] applies once the name is typed", id="confirm-keys")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        """The name field takes the keys at once when a name is asked for."""
        if self.typed:
            self.query_one("#confirm-name", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`y` means nothing when a name must be typed."""
        return not (action == "yes" and self.typed)

    def action_yes(self) -> None:
        """Yes to an ordinary write."""
        if not self.typed:
            self.dismiss(True)

    def action_no(self) -> None:
        """Back out: nothing is changed."""
        self.dismiss(None)

    @on(Input.Submitted, "#confirm-name")
    def name_typed(self, event: Input.Submitted) -> None:
        """The exact name applies; anything else is refused and the box stays open."""
        if confirmation_ok(self.step, event.value):
            self.dismiss(event.value.strip())
            return
        self.refusals += 1
        self.query_one("#confirm-error", Static).update(
            f"[b $error]That is not {escape(self.step.confirm_text)}: nothing was changed.[/] "
            "Type the name exactly, or press escape."
        )
        event.input.value = ""
