"""``make local``: the whole chat backend on 127.0.0.1, from the synthesized template.

    python -m local_stack [--env dev] [--ws-port 3001] [--connections-port 3002] [--moto-port 3003]
                          [--lambda-port 3004] [--web-port 3005]

Synthesizes the CDK app with host bundling into .local/cdk.out (or uses ``--assembly DIR``), starts
moto, creates the template's table, user pool, client and queues in it, starts the WebSocket emulator,
the ``@connections`` API, Lambda's Invoke API and the web chat page, writes .local/outputs.json,
creates two demo users and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from local_stack import demo
from local_stack.assembly import DEFAULT_APP, AssemblyError, load, synthesize
from local_stack.async_invoke import AsyncTiming
from local_stack.gateway import Limits
from local_stack.ports import PortInUse, ensure_free
from local_stack.runtime import ensure_runtime
from local_stack.stack import LocalStack, LocalStackSettings, Ports

log = logging.getLogger("local_stack")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="dev", help="CDK context env (default: dev)")
    parser.add_argument(
        "--app", default=DEFAULT_APP, help=f"module:function returning the CDK App ({DEFAULT_APP})"
    )
    parser.add_argument(
        "--assembly", type=Path, help="use this synthesized cloud assembly instead of synthesizing"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=Path(".local"), help="where cdk.out, outputs.json go"
    )
    parser.add_argument("--ws-port", type=int, default=3001, help="WebSocket API port (default 3001)")
    parser.add_argument("--connections-port", type=int, default=3002, help="@connections API port (3002)")
    parser.add_argument("--moto-port", type=int, default=3003, help="moto (Cognito, DynamoDB) port (3003)")
    parser.add_argument("--lambda-port", type=int, default=3004, help="Lambda Invoke API port (3004)")
    parser.add_argument("--web-port", type=int, default=3005, help="web chat page port (default 3005)")
    parser.add_argument("--workers-per-function", type=int, default=8, help="warm workers per function (8)")
    parser.add_argument("--idle-timeout", type=float, default=600.0, help="seconds (API Gateway: 600)")
    parser.add_argument("--max-lifetime", type=float, default=7200.0, help="seconds (API Gateway: 7200)")
    parser.add_argument(
        "--async-retry-scale",
        type=float,
        default=AsyncTiming.retry_scale,
        help="Lambda's async retry delays (60 s, 120 s) times this (default 1/60: 1 s, 2 s)",
    )
    parser.add_argument(
        "--async-age-scale",
        type=float,
        default=AsyncTiming.age_scale,
        help="each function's MaximumEventAgeInSeconds times this (default 1)",
    )
    parser.add_argument("--no-demo-users", action="store_true", help="do not create the demo users")
    parser.add_argument("--quiet-functions", action="store_true", help="hide the functions' own log lines")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    state = args.state_dir
    outputs_file = state / "outputs.json"
    outputs_file.unlink(missing_ok=True)
    directory = args.assembly
    if directory is None:
        print(
            f"synthesizing {args.app} (env={args.env}, bundling=host) into {state / 'cdk.out'} ...",
            flush=True,
        )
        context = {"env": args.env, "bundling": "host"}
        directory = await asyncio.to_thread(synthesize, args.app, context, state / "cdk.out")
    assembly = load(directory)
    settings = LocalStackSettings(
        ports=Ports(args.ws_port, args.connections_port, args.moto_port, args.lambda_port, args.web_port),
        runtime_dir=await asyncio.to_thread(ensure_runtime, (state / "runtime").resolve()),
        outputs_file=outputs_file,
        workers_per_function=args.workers_per_function,
        limits=Limits(idle_timeout=args.idle_timeout, max_lifetime=args.max_lifetime),
        async_timing=AsyncTiming(retry_scale=args.async_retry_scale, age_scale=args.async_age_scale),
    )
    stack = LocalStack(assembly, settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        outputs = await stack.start()
        users = [] if args.no_demo_users else await asyncio.to_thread(demo.create_users, outputs, assembly)
        print(demo.banner(outputs, users, outputs_file), flush=True)
        await stopping.wait()
        print("stopping ...", flush=True)
    finally:
        await stack.stop()
    print("stopped: nothing of the local stack is left running", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if args.quiet_functions:
        logging.getLogger("local_stack.functions").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        ensure_free(
            {
                "WebSocket": args.ws_port,
                "@connections": args.connections_port,
                "moto": args.moto_port,
                "Lambda": args.lambda_port,
                "web page": args.web_port,
            }
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(args))
    except PortInUse as error:
        sys.exit(f"local_stack: {error}")
    except AssemblyError as error:
        sys.exit(f"local_stack: {error}")


if __name__ == "__main__":
    main()
