"""cmk-wizard: guided troubleshooting of customer-managed-key access for Azure DocumentDB."""

__version__ = "0.1.0"
