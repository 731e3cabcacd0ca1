"""Test support shared by every test folder: real servers and real keys (see each module's docstring)."""
