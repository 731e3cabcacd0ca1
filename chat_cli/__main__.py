"""``python -m chat_cli``: chat in a terminal against the local stack or a deployed one.

python -m chat_cli --username alice@example.com               # the local stack (.local/outputs.json)
python -m chat_cli --outputs outputs/dev.json --username ...  # a deployed stack
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import threading
from pathlib import Path

from websockets.exceptions import InvalidStatus

from chat_cli import auth
from chat_cli.commands import HELP
from chat_cli.session import ChatSession


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chat_cli", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--outputs", type=Path, default=Path(".local/outputs.json"), help="the stack's outputs"
    )
    parser.add_argument(
        "--username", help="Cognito username (the demo users: alice@example.com, bob@example.com)"
    )
    parser.add_argument("--password", help="default: $CHAT_PASSWORD, else asked for")
    parser.add_argument("--id-token", help="use this ID token instead of signing in")
    parser.add_argument("--print-token", action="store_true", help="sign in, print the ID token and exit")
    parser.add_argument("--no-auto-read", action="store_true", help="do not mark incoming messages read")
    return parser.parse_args(argv)


def read_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Typed (or piped) lines into the event loop; None at end of input."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


def show(text: str) -> None:
    print(text, flush=True)


async def chat(outputs: dict[str, str], tokens: auth.Tokens, auto_read: bool) -> None:
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=read_lines, args=(asyncio.get_running_loop(), queue), daemon=True).start()
    show(f"connecting to {outputs['WebSocketUrl']} ... (/help lists the commands)")
    await ChatSession(outputs, tokens, show=show, auto_read=auto_read).run(queue)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        outputs = auth.load_outputs(args.outputs)
        if args.id_token:
            tokens = auth.Tokens(args.id_token, None)
        else:
            if not args.username:
                sys.exit("chat_cli: --username is required (or --id-token)")
            password = args.password or os.environ.get("CHAT_PASSWORD") or getpass.getpass("password: ")
            tokens = auth.sign_in(outputs, args.username, password)
    except auth.SignInError as error:
        sys.exit(f"chat_cli: {error}")
    if args.print_token:
        print(tokens.id_token)
        return
    show(HELP.splitlines()[0])
    try:
        asyncio.run(chat(outputs, tokens, auto_read=not args.no_auto_read))
    except KeyboardInterrupt:
        pass
    except InvalidStatus as refused:
        sys.exit(f"chat_cli: the server refused the connection (HTTP {refused.response.status_code})")
    except OSError as error:
        sys.exit(f"chat_cli: cannot connect: {error}")


if __name__ == "__main__":
    main()
