"""Fixture function fed by the FIFO queue ``Ordered`` through an event source mapping.

Each record's body is JSON ``{"probe": ..., "n": ..., "fail": k, "raise": k}``. Every record handed
is recorded under its ``probe`` (kind ``got-<time>-<messageId>``) with its body, message group,
receive count, its place in the batch, the invocation's request id and start time. Then a record
handed at most ``raise`` times makes the invocation raise (a function error: the whole batch fails);
one handed at most ``fail`` times is reported in ``batchItemFailures``, and so are the batch's later
records of its message group, unprocessed ("skipped"): Lambda asks that of a FIFO queue's function
so that a group's order holds.
"""

import json
import time

from store import record


def handler(event, context):
    started = time.time()
    failed_groups = set()
    failures = []
    raising = False
    for index, item in enumerate(event["Records"]):
        body = json.loads(item["body"])
        group = item["attributes"].get("MessageGroupId")
        receives = int(item["attributes"]["ApproximateReceiveCount"])
        if group in failed_groups:
            outcome = "skipped"
        elif receives <= body.get("raise", 0):
            outcome = "raise"
        elif receives <= body.get("fail", 0):
            outcome = "fail"
        else:
            outcome = "ok"
        raising = raising or outcome == "raise"
        if outcome in {"fail", "skipped"}:
            failed_groups.add(group)
            failures.append({"itemIdentifier": item["messageId"]})
        record(
            body["probe"],
            f"got-{time.time_ns()}-{item['messageId']}",
            {
                "n": body.get("n"),
                "messageId": item["messageId"],
                "group": group,
                "receives": receives,
                "index": index,
                "outcome": outcome,
                "requestId": context.aws_request_id,
                "started": started,
                "eventSource": item["eventSource"],
                "eventSourceARN": item["eventSourceARN"],
            },
        )
    if raising:
        raise RuntimeError("queue consumer raised on purpose")
    return {"batchItemFailures": failures}
