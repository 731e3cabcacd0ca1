"""Fixture REQUEST authorizer: the idToken names the answer to give."""

import time

import store


def _policy(effect, event, context=None, resource=None):
    answer = {
        "principalId": "fixture-principal",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource or event["methodArn"]}
            ],
        },
    }
    if context is not None:
        answer["context"] = context
    return answer


def handler(event, context):
    query = event["queryStringParameters"]
    if "probe" in query:
        store.record("probe#" + query["probe"], "authorizer", event)
    token = query["idToken"]
    if token == "allow":
        return _policy("Allow", event, {"userId": "user-1", "count": 3, "admin": True, "ratio": 1.5})
    if token == "deny":
        return _policy("Deny", event)
    if token == "other-route":
        return _policy("Allow", event, resource=event["methodArn"].replace("$connect", "echo"))
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "error":
        raise RuntimeError("authorizer bug")
    if token == "malformed":
        return {"principalId": "fixture-principal"}
    if token == "nested-context":
        return _policy("Allow", event, {"user": {"id": "u"}})
    if token == "slow":
        time.sleep(5)
    return _policy("Allow", event, {"userId": token})
