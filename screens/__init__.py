"""Textual screens of the wizard: UI only, never the Azure SDK."""
