"""Operator commands for a deployed (or local) chat table: `python -m admin --help`."""
