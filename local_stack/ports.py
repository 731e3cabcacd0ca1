"""Fail early, and clearly, when a port the local stack needs is taken."""

from __future__ import annotations

import socket

from local_stack.moto_service import LOOPBACK


class PortInUse(RuntimeError):
    pass


def ensure_free(ports: dict[str, int]) -> None:
    """Raise PortInUse naming the first port (by role) that cannot be bound on 127.0.0.1."""
    for role, port in ports.items():
        with socket.socket() as sock:
            # As the servers do: connections of a previous run in TIME_WAIT do not make a port busy.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                raise PortInUse(
                    f"port {port} ({role}) is already in use on {LOOPBACK}: stop whatever listens there "
                    "or choose another port (python -m local_stack --help lists the port options)"
                ) from None
