#!/usr/bin/env python3
"""CDK entry point: `cdk synth -c env=dev|staging|prod` (see docs/DEPLOY.md)."""

import sys

from stacks.app import build_app
from stacks.settings import SettingsError

if __name__ == "__main__":
    try:
        app = build_app()
    except SettingsError as error:
        sys.exit(f"error: {error}")
    app.synth()
