"""The chat route tests. The functions' environment is set here, before a test module imports a
handler (the handlers parse their settings at import): see environment.py."""

from tests.chat import environment

environment.install()
