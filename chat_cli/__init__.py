"""A terminal chat client for people: sign in, connect, chat (``python -m chat_cli --help``)."""
