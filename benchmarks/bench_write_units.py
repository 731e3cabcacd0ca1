"""Write units and DynamoDB requests of one `sendMessage` at 2, 1,000 and 10,000 members, and of
an edit and two deletes (the room's last message and an older one) in the same rooms.

Each room is seeded through the data-access layer in a moto server (as tests/chat/
test_request_counts.py does; 20 of the other members online), then one message is sent through the
real BroadcastFunction handler. `tests/support/write_units.py` meters every item the route writes
(DynamoDB's documented size rules, from each item's images right before and right after its
request; a transaction counts twice). The fan-out the route queued runs afterwards in the
in-process Lambda Invoke server; its requests are counted apart: they are reads, after the ack.
Ideal: the same units and requests at every size. Goal: <= 8 write units per send; an edit or a
delete of a short message: the units docs/DATA_MODEL.md lists (2; 4 for the last message, 1 for an
older one), whatever the room's size.

    python -m benchmarks write_units
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (2, 1_000, 10_000)
ONLINE = 20  # other members with a live connection: the writes of a send do not depend on it
GOAL_UNITS = 8
# (action, fields) run after the send, in this order, on a room whose messages are seq 1 and 2.
CHANGES = (
    ("editMessage", {"seq": 2, "content": "hello, edited"}),
    ("deleteMessage", {"seq": 1}),
    ("deleteMessage", {"seq": 2}),
)
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",  # the route's INFO lines and metrics would drown the figures
    "POWERTOOLS_METRICS_DISABLED": "true",
    "MAX_ROOM_MEMBERS": "10000",
    "PRESENCE_MAX_MEMBERS": "100",
    "FANOUT_BATCH_SIZE": "500",
    "SEND_RATE_PER_SECOND": "50",
    "SEND_BURST": "100",
}


def item_kind(sort_key: str) -> str:
    """The item's role from its sort key (`MSG#<seq>` -> `MSG#`), as docs/DATA_MODEL.md names them."""
    for prefix in ("MSG#", "IDEM#", "ROOM#"):
        if sort_key.startswith(prefix):
            return f"{prefix}..."
    return sort_key


def main() -> None:
    sys.path[:0] = [str(ROOT / "lambdas"), str(ROOT / "authorizer")]  # the Lambda code roots
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)

    from local_stack.moto_service import MotoServer
    from tests.support.connections_server import ConnectionsServer

    with MotoServer() as moto, ConnectionsServer() as connections:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        from chat.dal import client as dal_client
        from chat.logic.fanout_job import MEMBER_PAGE

        from tests.chat import harness
        from tests.chat.test_request_counts import seeded_room
        from tests.support.chat_table import create_table
        from tests.support.write_units import metered_writes

        # After importing tests.chat (which sets the functions' test environment): this run's own.
        os.environ.update(
            AWS_ENDPOINT_URL_DYNAMODB=moto.endpoint,
            TABLE_NAME=table,
            CONNECTIONS_ENDPOINT=connections.endpoint,
        )
        create_table(moto.endpoint, table)
        queues = harness.create_fanout_queues(moto.endpoint)
        with harness.lambda_service() as lambda_server:
            harness.use_lambda(lambda_server)
            os.environ.update(
                AWS_ENDPOINT_URL_LAMBDA=lambda_server.endpoint,
                AWS_ENDPOINT_URL_SQS=moto.endpoint,
                FANOUT_FUNCTION_NAME=harness.FANOUT_FUNCTION,
                FANOUT_QUEUE_URL=queues.url,
            )
            lambda_server.subscribe(queues.sqs, queues.url, harness.FANOUT_FUNCTION)
            harness.reload_settings()  # the functions parse their settings from this environment
            print(f"one sendMessage (content 'hello', a clientMessageId), {ONLINE} other members online")
            summary = []
            for size in SIZES:
                sender = harness.User().connect()
                started = time.perf_counter()
                room_id, _ = seeded_room(sender, size, online=min(size - 1, ONLINE))
                seeded = time.perf_counter() - started
                invoked_before = len(lambda_server.invocations)
                with (
                    contextlib.redirect_stdout(io.StringIO()),  # the route's one-off metric (EMF) line
                    lambda_server.held(),
                    harness.dynamodb_requests() as sent,
                    metered_writes(dal_client.low_level()) as record,
                ):
                    ack = sender.send(
                        "sendMessage",
                        roomId=room_id,
                        content="hello",
                        clientMessageId=harness.new_id(),
                        settle=False,
                    )
                with harness.dynamodb_requests() as fanout_sent:
                    lambda_server.drain()
                queued = [job for job in lambda_server.jobs(invoked_before) if job.get("roomId") == room_id]
                if ack is None or ack.get("type") != "ack":
                    raise SystemExit(f"{size} members: the send was not acknowledged: {ack}")
                print(f"\n{size:,} members (seeded in {seeded:.1f} s)")
                print(f"  {'item (SK)':<12} {'request':<20} {'before B':>9} {'after B':>8} {'units':>6}")
                for request in record.requests:
                    for item in request.items:
                        kind = item_kind(item.key["SK"]["S"])
                        print(
                            f"  {kind:<12} {request.operation:<20} {item.old_size:>9} {item.new_size:>8}"
                            f" {item.units:>6}"
                        )
                print(f"  write units  {record.total} (goal <= {GOAL_UNITS})")
                print(f"  route's DynamoDB requests  {len(sent)}: {', '.join(sent)}")
                print(f"  route's queued fan-outs    {len(queued)} (SQS SendMessage, the room's FIFO group)")
                reads = Counter(fanout_sent)
                print(
                    "  fan-out function, after the ack: "
                    + ", ".join(f"{count} {operation}" for operation, count in sorted(reads.items()))
                    + f" (member pages of {MEMBER_PAGE:,}; the room's delivery watermark)"
                )
                changes = []
                with contextlib.redirect_stdout(io.StringIO()):
                    sender.send("sendMessage", roomId=room_id, content="the last one")
                for action, fields in CHANGES:
                    with (
                        contextlib.redirect_stdout(io.StringIO()),
                        lambda_server.held(),
                        harness.dynamodb_requests() as change_sent,
                        metered_writes(dal_client.low_level()) as change,
                    ):
                        reply = sender.send(action, roomId=room_id, settle=False, **fields)
                    lambda_server.drain()
                    if reply is None or reply.get("type") == "error":
                        raise SystemExit(f"{size} members: {action} was refused: {reply}")
                    changes.append(change.total)
                    print(
                        f"  {action} seq {fields['seq']}: {change.total} write units, "
                        f"{len(change_sent)} requests ({', '.join(change_sent)})"
                    )
                summary.append((size, record.total, len(sent), changes))
    print("\nsummary: members -> send's write units and requests; edit, delete (older), delete (last)")
    for size, units, requests, changes in summary:
        print(
            f"  {size:>6,} -> {units} units, {requests} requests; " + ", ".join(f"{u} units" for u in changes)
        )


if __name__ == "__main__":
    main()
