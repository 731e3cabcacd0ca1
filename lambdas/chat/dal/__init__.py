"""The only code that talks to DynamoDB. Item layout: docs/DATA_MODEL.md (and dal/keys.py)."""
