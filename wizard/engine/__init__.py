"""The pure decision tree: which checks run next and what the findings are."""
