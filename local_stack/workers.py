"""Warm worker processes for one function, as Lambda keeps execution environments.

Each worker is a child process (``worker_main.py``) started from the function's bundled asset with the
function's environment. A pool starts workers on demand up to a bound (cold starts are logged), reuses
idle ones, kills and drops a worker whose invocation outlives the template's Timeout, and drops one that
crashed, so the next invocation gets a fresh one.

Lambda scales a function out for every caller; this machine cannot, so a pool that is full serves the
invocations someone waits for (a handshake, a route's reply, a synchronous invoke) before the ones
nobody waits for (`$disconnect`, asynchronous events): 1,500 `$disconnect`s queued at once do not
hold up the next handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from local_stack.model import TemplateFunction

WORKER_SCRIPT = Path(__file__).with_name("worker_main.py")
INIT_TIMEOUT_SECONDS = 10.0
_READ_LIMIT = 16 * 1024 * 1024

log = logging.getLogger("local_stack.functions")


class InvocationError(Exception):
    """The function failed: it raised (``Unhandled``), timed out, crashed or failed to initialise."""

    def __init__(
        self, kind: str, message: str, error_type: str = "", stack_trace: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.error_type = error_type
        self.stack_trace = stack_trace or []

    def payload(self) -> dict[str, Any]:
        """The error object Lambda returns (and records) for this failure, as its runtimes shape it."""
        error_type = self.error_type or {"timeout": "Sandbox.Timedout"}.get(self.kind, "Runtime.Unknown")
        payload: dict[str, Any] = {"errorMessage": self.message, "errorType": error_type}
        if self.stack_trace:
            payload["stackTrace"] = self.stack_trace
        return payload


def worker_environment(spec: TemplateFunction, region: str) -> dict[str, str]:
    """The environment Lambda gives a function, plus the template's (already resolved) variables."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": "UTC",
        "PYTHONUNBUFFERED": "1",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python_local",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{uuid.uuid4().hex}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(spec.asset_dir),
        "LOCAL_FUNCTION_ARN": spec.arn,
        "_HANDLER": spec.handler,
        **spec.environment,
    }


class Worker:
    """One warm execution environment."""

    def __init__(self, spec: TemplateFunction, process: asyncio.subprocess.Process) -> None:
        self.spec = spec
        self.process = process
        self._log_task = asyncio.create_task(self._forward_log())

    @classmethod
    async def start(cls, spec: TemplateFunction, runtime_dir: Path, region: str) -> Worker:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            str(WORKER_SCRIPT),
            str(spec.asset_dir),
            str(runtime_dir),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=worker_environment(spec, region),
            cwd=spec.asset_dir,
            limit=_READ_LIMIT,
        )
        worker = cls(spec, process)
        try:
            status = await worker._read_reply(INIT_TIMEOUT_SECONDS)
        except InvocationError:
            await worker.stop()
            raise
        if "error" in status:
            await worker.stop()
            error = status["error"]
            raise InvocationError("init", error["errorMessage"], error["errorType"])
        log.info("%s: cold start, init %.0f ms (pid %d)", spec.name, _ms_since(started), process.pid)
        return worker

    async def invoke(self, event: Any, request_id: str) -> Any:
        started = time.monotonic()
        request = {"requestId": request_id, "event": event, "deadline": time.time() + self.spec.timeout}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise _exited(await self.process.wait()) from None
        reply = await self._read_reply(self.spec.timeout)
        log.debug("%s: %s done in %.0f ms", self.spec.name, request_id, _ms_since(started))
        if "error" in reply:
            error = reply["error"]
            raise InvocationError(
                "unhandled", error["errorMessage"], error["errorType"], error.get("stackTrace")
            )
        return reply["result"]

    async def _read_reply(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            raise InvocationError("timeout", f"Task timed out after {timeout:.2f} seconds") from None
        if not line:
            raise _exited(await self.process.wait())
        return json.loads(line)

    async def _forward_log(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            log.info("%s: %s", self.spec.name, line.decode(errors="replace").rstrip())

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._log_task, 2)


class Slots:
    """``size`` slots; a freed slot goes to the longest-waiting urgent caller, else to the next other."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._later: deque[asyncio.Future[None]] = deque()

    @contextlib.asynccontextmanager
    async def held(self, *, urgent: bool) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._free:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._later
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot just as it was cancelled: pass it on
            else:
                queue.remove(waiter)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._later):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


class FunctionPool:
    """Up to ``max_workers`` warm workers of one function; invocations beyond that wait for one,
    urgent ones (someone waits for the result) first."""

    def __init__(self, spec: TemplateFunction, runtime_dir: Path, region: str, max_workers: int) -> None:
        self.spec = spec
        self._runtime_dir = runtime_dir
        self._region = region
        self.max_workers = max_workers
        self._slots = Slots(max_workers)
        self._idle: deque[Worker] = deque()
        self._all: set[Worker] = set()

    async def invoke(self, event: Any, request_id: str | None = None, *, urgent: bool = True) -> Any:
        """Run one invocation; ``request_id`` is the context's ``aws_request_id`` (new if not given);
        ``urgent=False`` for one nobody waits for."""
        request_id = request_id or str(uuid.uuid4())
        async with self._slots.held(urgent=urgent):
            while self._idle and self._idle[-1].process.returncode is not None:
                await self._drop(self._idle.pop())  # died while idle (killed, out of memory, ...)
            worker = self._idle.pop() if self._idle else await self._start()
            try:
                result = await worker.invoke(event, request_id)
            except InvocationError as error:
                if error.kind in {"timeout", "crash"}:
                    log.warning("%s: %s; replacing the worker", self.spec.name, error.message)
                    await self._drop(worker)
                else:
                    self._idle.append(worker)
                raise
            except BaseException:
                await self._drop(worker)
                raise
            self._idle.append(worker)
            return result

    async def _start(self) -> Worker:
        try:
            worker = await Worker.start(self.spec, self._runtime_dir, self._region)
        except InvocationError as error:
            log.error("%s: init failed: %s: %s", self.spec.name, error.error_type, error.message)
            raise
        self._all.add(worker)
        return worker

    async def _drop(self, worker: Worker) -> None:
        self._all.discard(worker)
        await worker.stop()

    async def close(self) -> None:
        workers, self._all = list(self._all), set()
        self._idle.clear()
        await asyncio.gather(*(worker.stop() for worker in workers))


def _exited(code: int) -> InvocationError:
    return InvocationError("crash", f"Runtime exited with error: exit status {code}", "Runtime.ExitError")


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
