"""`python -m tools.review BASE`: what a change does to the synthesized stacks, as Markdown.

Synthesizes BASE (a git ref) and the working tree for every environment, offline and without
bundling, and reports per stack the resources added/removed/changed, the IAM permissions
added/removed and the cdk-nag acknowledgments added/removed (docs/DEPLOY.md, "Reviewing a pull
request").
"""
