"""The fault matrix (issue 10): every DynamoDB call of every action fails in turn, three ways.

For each scenario (every route of the three route functions, and a FanoutFunction job), a clean run
records the calls the action makes (tests/chat/scenarios.py), so a call site added later is failed
here without editing this test. Then, in a fresh table each time, the Nth call (with every retry
botocore makes of it) is throttled, answered 500, or times out after DynamoDB applied it. Each time:

- the client gets a documented reply: the action's success, or `INTERNAL_ERROR` (retryable) in the
  frame shape of docs/asyncapi.yaml; `$connect` answers 200 or 500 (and a refused handshake leaves
  no connection stored), `$disconnect` 200;
- the table is in a state docs/DATA_MODEL.md lists for a crash (tests/chat/invariants.py);
- a retryable reply is retried (no fault): the retry succeeds and the table is still consistent;
- a message once acknowledged reaches the other member, a fan-out job reaches its live target, an
  ended session its `sessionExpired` and one past the grace its close (Lambda's two retries of a
  failed job included).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from chat.dal import client as dal_client
from chat.handlers import broadcast, direct, lifecycle

import route_keys
from tests.chat.invariants import violations
from tests.chat.scenarios import (
    CLEAN_RUNS,
    FANOUT_JOB,
    SCENARIOS,
    Outcome,
    Recording,
    Run,
    Servers,
    all_items,
    fresh_table,
    perform,
    servers_fixture,  # noqa: F401 (the `servers` fixture)
)
from tests.support import contract
from tests.support.dynamodb_faults import FAULTS, Call, calls_of, failing, no_backoff


def test_every_route_and_the_fanout_job_have_a_scenario() -> None:
    routes = {*direct.ROUTES, *broadcast.ROUTES, *lifecycle.ROUTES}
    assert routes | {FANOUT_JOB} <= set(SCENARIOS)


def succeeded(outcome: Outcome) -> bool:
    """The action's own reply ($default's own reply is UNKNOWN_ACTION)."""
    if outcome.route_key == FANOUT_JOB:
        return True
    if outcome.status is not None:
        return outcome.status == 200
    reply = outcome.reply
    if outcome.route_key == route_keys.DEFAULT:
        return reply is not None and reply.get("code") == "UNKNOWN_ACTION"
    if reply is None:
        return outcome.route_key == route_keys.TYPING  # the one action that sends no reply
    return reply["type"] != "error"


# The documented answer to a retry whose first attempt was applied although its reply was an
# INTERNAL_ERROR (docs/PROTOCOL.md, "Errors"): the retry is refused because it is done already.
DONE_ALREADY = {route_keys.LEAVE_ROOM: "NOT_A_MEMBER"}


def done_already(outcome: Outcome) -> bool:
    code = (outcome.reply or {}).get("code")
    return code is not None and DONE_ALREADY.get(outcome.route_key) == code


def reply_problems(outcome: Outcome) -> list[str]:
    """What is not a documented reply (docs/PROTOCOL.md, docs/asyncapi.yaml)."""
    if outcome.route_key == FANOUT_JOB:
        return []
    if outcome.status is not None:
        allowed = {200, 500} if outcome.route_key == route_keys.CONNECT else {200}
        return [] if outcome.status in allowed else [f"handshake/close answered {outcome.status}"]
    reply = outcome.reply
    if reply is None:
        return [] if outcome.route_key == route_keys.TYPING else ["no reply"]
    try:
        contract.check_server_frame(reply)
        contract.check_reply(outcome.route_key, reply)
    except contract.ContractViolation as exc:
        return [str(exc)]
    if succeeded(outcome):
        return []
    if reply.get("code") != "INTERNAL_ERROR" or reply.get("retryable") is not True:
        return [f"answered {reply.get('code')} (retryable: {reply.get('retryable')}), not INTERNAL_ERROR"]
    return []


def table_problems(table: Any, run: Run, outcome: Outcome) -> list[str]:
    found = violations(all_items(table), time.time())
    if outcome.route_key == route_keys.CONNECT and outcome.status != 200:
        record = table.get_item(Key={"PK": f"CONN#{run.connection_id}", "SK": "CONN"}).get("Item")
        if record is not None:
            found.append("a refused handshake left its connection record")
    return found


def delivery_problems(run: Run, outcome: Outcome, servers: Servers) -> list[str]:
    found = []
    if run.closes is not None and not servers.connections.deleted(run.closes):
        found.append(f"{run.closes} was not closed after {outcome.reply or outcome.route_key}")
    expected = run.delivery(outcome)
    if expected is None:
        return found
    connection_id, wanted = expected
    if any(wanted(frame) for frame in servers.connections.frames(connection_id)):
        return found
    return [*found, f"nothing delivered to {connection_id} after {outcome.reply or outcome.route_key}"]


def one_case(name: str, call: Call, fault: Any, servers: Servers) -> list[str]:
    """Fail `call` with `fault` in a fresh run of scenario `name`; what went against the contract."""
    with fresh_table(servers) as table:
        run = SCENARIOS[name](servers)
        with no_backoff(), failing(dal_client.low_level(), call, fault) as injected:
            outcome = perform(run, servers)
        problems = reply_problems(outcome) + table_problems(table, run, outcome)
        if not injected.attempts:
            problems.append("the call was not made in this run")
        if not succeeded(outcome) and outcome.route_key != route_keys.DEFAULT:
            outcome = perform(run, servers)  # the client's retry
            if not succeeded(outcome) and not done_already(outcome):
                problems.append(f"its retry failed too: {outcome.reply or outcome.status}")
            problems += [f"after the retry: {p}" for p in table_problems(table, run, outcome)]
        if succeeded(outcome):
            problems += delivery_problems(run, outcome, servers)
    return [f"{name}: {call} {fault.name}: {problem}" for problem in problems]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_dynamodb_call_of_the_action_fails_in_turn(name: str, servers: Servers) -> None:
    with fresh_table(servers) as table:
        run = SCENARIOS[name](servers)
        clean = Recording()
        outcome = perform(run, servers, clean)
        CLEAN_RUNS[name] = clean
        assert succeeded(outcome), outcome
        assert (
            not reply_problems(outcome)
            + table_problems(table, run, outcome)
            + delivery_problems(run, outcome, servers)
        )
    calls = calls_of(clean.calls)
    assert calls or name == route_keys.DEFAULT, f"{name} made no DynamoDB call: nothing to fail"

    problems = [
        problem for call in calls for fault in FAULTS for problem in one_case(name, call, fault, servers)
    ]

    assert not problems, "\n".join(problems)
