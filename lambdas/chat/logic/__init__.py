"""Decisions: what each action does, in terms of the data-access layer and the fan-out (no boto3 here)."""
