"""Training: drills with hidden causes, their scorecards, and teach mode (pure: no UI, no Azure)."""

LEVELS = (1, 2, 3)
"""A drill's level: how many hidden causes (3: interacting ones). Here, not in drill.py, so the
command line can offer it without loading the drills."""
