"""Command-line tools for people and CI that are not part of the CDK app (`python -m tools.<name>`)."""
