"""Frozen value objects, errors and the finding/remediation catalogue."""
