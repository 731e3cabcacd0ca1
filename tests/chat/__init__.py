"""The chat route tests. The functions' environment is set here, before a test module imports a
handler (the handlers parse their settings at import): see baseline.py."""

from tests.chat import baseline

baseline.install()
