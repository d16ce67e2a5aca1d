"""Training: drills with hidden causes, their scorecards, and teach mode (pure: no UI, no Azure)."""
