"""How far back the Activity Log reaches: the command line's `--since` and the forensics read it."""

DEFAULT_DAYS = 14
MAX_DAYS = 90
"""The Activity Log keeps 90 days of events."""
