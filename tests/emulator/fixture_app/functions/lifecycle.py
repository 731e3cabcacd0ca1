"""Fixture $connect/$disconnect: records the event; `?connect=<status>` answers with that status;
`?connect_sleep=<seconds>` makes $connect take that long after recording its event."""

import time

import store


def handler(event, context):
    route = event["requestContext"]["routeKey"]
    query = event.get("queryStringParameters") or {}
    if route == "$connect" and query.get("connect") == "raise":
        raise RuntimeError("connect failed")
    store.record(event["requestContext"]["connectionId"], route, event)
    if "probe" in query:
        store.record("probe#" + query["probe"], route, event)
    if route == "$connect" and "connect_sleep" in query:
        time.sleep(float(query["connect_sleep"]))
    if route == "$connect" and "connect" in query:
        return {"statusCode": int(query["connect"])}
    return {"statusCode": 200}
