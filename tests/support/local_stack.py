"""Run ``python -m local_stack`` as a child process on free ports: how the tests start it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_stack.moto_service import free_port

REPOSITORY = Path(__file__).resolve().parents[2]
# The `local_assembly` fixture (tests/conftest.py): keyword `app` and `env` -> a synthesized assembly.
LocalAssembly = Callable[..., Path]


class LocalStackProcess:
    """``start()`` returns the outputs once everything listens; ``stop()`` is Ctrl-C, then a kill."""

    def __init__(
        self, state_dir: Path, *, app: str | None = None, assembly: Path | None = None, **options: Any
    ) -> None:
        self.state_dir = REPOSITORY / state_dir  # as the child (started in REPOSITORY) sees it
        self.ports = {
            "ws": free_port(),
            "connections": free_port(),
            "moto": free_port(),
            "lambda": free_port(),
            "web": free_port(),
        }
        self.log_path = self.state_dir / "local_stack.log"
        self._assembly = assembly
        self.outputs: dict[str, str] = {}
        self._command = [
            sys.executable,
            "-m",
            "local_stack",
            "--state-dir",
            str(state_dir),
            "--ws-port",
            str(self.ports["ws"]),
            "--connections-port",
            str(self.ports["connections"]),
            "--moto-port",
            str(self.ports["moto"]),
            "--lambda-port",
            str(self.ports["lambda"]),
            "--web-port",
            str(self.ports["web"]),
        ]
        if app is not None:
            self._command += ["--app", app]
        if assembly is not None:
            self._command += ["--assembly", str(assembly)]
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            self._command += [flag] if value is True else [flag, str(value)]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def assembly_dir(self) -> Path:
        """The assembly it runs: the one it was given, or the one it synthesizes into its state."""
        return self._assembly if self._assembly is not None else self.state_dir / "cdk.out"

    def start(self, timeout: float = 900.0) -> dict[str, str]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        outputs_file = self.state_dir / "outputs.json"
        outputs_file.unlink(missing_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self._command,
                cwd=REPOSITORY,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(os.environ),
                start_new_session=True,  # a process group of its own, as a terminal gives a command
            )
        deadline = time.monotonic() + timeout
        while not outputs_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local stack did not start; its log:\n{self.log_tail()}")
            time.sleep(0.2)
        self.outputs = json.loads(outputs_file.read_text())
        # The banner (and demo users) follow the outputs file; wait for them too.
        while "Local chat backend is running" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited; its log:\n{self.log_tail()}")
            time.sleep(0.1)
        return self.outputs

    def stop(self, timeout: float = 60.0) -> int | None:
        """Ctrl-C and wait; kill only if it does not stop in time. Returns the exit code.

        As in a terminal, SIGINT goes to the whole process group: the local stack and its children.
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, characters: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:] if self.log_path.exists() else ""
