"""Typed shapes of the wire protocol and of the domain: client requests, server frames, errors."""
