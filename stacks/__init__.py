"""The CDK app: settings, one construct per concern, the stack that composes them (infrastructure only)."""
