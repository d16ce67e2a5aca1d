"""The wizard's colour modes: full colour, the terminal's own palette, and NO_COLOR's greys.

Each mode must keep every mark readable: the selected row's status mark against the cursor, and an
unfocused pane's border against a black terminal."""

from __future__ import annotations

from dataclasses import replace

from textual.theme import BUILTIN_THEMES, Theme

FULL_COLOUR_THEME = "textual-dark"
TERMINAL_COLOUR_THEME = "cmk-terminal"
NO_COLOUR_THEME = "cmk-no-colour"
THEME_LABELS = {
    FULL_COLOUR_THEME: "Full colour",
    TERMINAL_COLOUR_THEME: "Terminal colours",
    NO_COLOUR_THEME: "No colour (NO_COLOR)",
}


def terminal_theme() -> Theme:
    """Textual's ansi-dark, but an unfocused border in bright black (grey): ansi_black is the
    terminal's background on most dark terminals, so the pane would lose its edge."""
    base = BUILTIN_THEMES["ansi-dark"]
    return replace(
        base,
        name=TERMINAL_COLOUR_THEME,
        variables={**base.variables, "border-blurred": "ansi_bright_black"},
    )


def no_colour_theme() -> Theme:
    """Greys only, as NO_COLOR turns every colour to grey anyway: marks are near-white, so they
    stand out on a dark row and on the mid-grey cursor alike (red on blue became grey on grey)."""
    return Theme(
        name=NO_COLOUR_THEME,
        primary="#6c6c6c",
        secondary="#4e4e4e",
        accent="#ffffff",
        warning="#ffffff",
        error="#ffffff",
        success="#d0d0d0",
        foreground="#e4e4e4",
        background="#000000",
        surface="#121212",
        panel="#303030",
        boost="#1c1c1c",
        dark=True,
        variables={
            "border": "#ffffff",
            "border-blurred": "#8a8a8a",
            "block-cursor-background": "#6c6c6c",
            "block-cursor-foreground": "#ffffff",
            "block-cursor-text-style": "bold",
            "footer-key-foreground": "#ffffff",
        },
    )
