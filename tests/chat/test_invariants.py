"""The table checker of the fault matrix finds each state docs/DATA_MODEL.md does not allow, and
accepts the leftovers it lists (items built by hand, as the functions write them)."""

from __future__ import annotations

import pytest

from tests.chat.invariants import violations

NOW = 2_000_000_000
ALICE_SHARD, BOB_SHARD = 3, 0  # CRC-32 of the user id, modulo the online index's 4 shards


def consistent() -> list[dict]:
    """Alice (one connection, told once that a session ended, since renewed) and Bob in room r, which
    Alice made with a clientRoomId; one message with its idempotency record."""
    entry = {"ends": NOW + 60, "auth": NOW + 30}
    return [
        {"PK": "CONN#c1", "SK": "CONN", "userId": "alice", "ttl": NOW + 60, "tokenExpiresAt": NOW + 30,
         "expiryToldFor": NOW - 10, "expiryToldBy": "fanout-request-1"},
        {"PK": "USER#alice", "SK": "CONNS", "conns": {"c1": entry}},
        {"PK": "USER#alice", "SK": "ROOMS", "rooms": 1, "reservedAt": NOW - 60},
        {"PK": "USER#bob", "SK": "ROOMS", "rooms": 1},
        {"PK": "USER#alice", "SK": "IDEMROOM#k", "roomId": "r", "memberIds": ["alice", "bob"],
         "ttl": NOW + 60},
        {"PK": "ROOM#r", "SK": "ROOM", "seq": 2, "memberCount": 2},
        {"PK": "ROOM#r", "SK": "MEMBER#alice", "conns": {"c1": entry}, "onlineKey": f"ROOM#r#{ALICE_SHARD}"},
        {"PK": "ROOM#r", "SK": "MEMBER#bob", "conns": {}},
        {"PK": "USER#alice", "SK": "ROOM#r", "lastReadSeq": 1},
        {"PK": "USER#bob", "SK": "ROOM#r", "lastReadSeq": 0},
        {"PK": "ROOM#r", "SK": "MSG#000000000000001", "seq": 1, "messageId": "m1", "senderId": "alice",
         "clientMessageId": "k"},
        {"PK": "ROOM#r", "SK": "IDEM#alice#k", "seq": 1, "messageId": "m1", "ttl": NOW + 60},
        {"PK": "ROOM#r", "SK": "LAST", "seq": 1, "messageId": "m1"},
    ]  # fmt: skip


def without(items: list[dict], pk: str, sk: str) -> list[dict]:
    return [item for item in items if (item["PK"], item["SK"]) != (pk, sk)]


def test_a_consistent_table_and_the_documented_leftovers_pass() -> None:
    items = consistent()
    assert violations(items, NOW) == []
    # a seq gap, a lost last-message write, member items of a room never made, an expired connection,
    # the previous version's bare entry; a createRoom (with a clientRoomId) that stopped after its
    # reservations, and one (without) whose reservation was not given back; a member left in the
    # online index with no entry (a disconnect that stopped between its two updates)
    leftovers = [
        *without(without(items, "ROOM#r", "LAST"), "ROOM#r", "MEMBER#bob"),
        {"PK": "ROOM#r", "SK": "MEMBER#bob", "conns": {}, "onlineKey": f"ROOM#r#{BOB_SHARD}"},
        {
            "PK": "ROOM#gone",
            "SK": "MEMBER#alice",
            "conns": {"c1": NOW + 60, "old": NOW - 1},
            "onlineKey": f"ROOM#gone#{ALICE_SHARD}",
        },
        {"PK": "CONN#old", "SK": "CONN", "userId": "alice", "ttl": NOW - 1},
        {
            "PK": "USER#alice",
            "SK": "IDEMROOM#k2",
            "roomId": "unwritten",
            "memberIds": ["alice", "bob"],
            "ttl": NOW + 60,
        },
    ]
    leftovers = [{**i, "seq": 5} if i["SK"] == "ROOM" else i for i in leftovers]
    leftovers = [
        {**i, "rooms": 3} if i["PK"] == "USER#alice" and i["SK"] == "ROOMS" else i for i in leftovers
    ]
    leftovers = [{**i, "rooms": 2, "reservedAt": NOW - 5} if i["PK"] == "USER#bob" and i["SK"] == "ROOMS"
                 else i for i in leftovers]  # fmt: skip
    assert violations(leftovers, NOW) == []
    # an expired clientRoomId record holds no place any more
    expired = [{**i, "ttl": NOW - 1} if i["SK"] == "IDEMROOM#k2" else i for i in leftovers]
    assert violations(expired, NOW) == []


@pytest.mark.parametrize(
    ("broken", "finding"),
    [
        (lambda items: without(items, "USER#alice", "CONNS"), "a record without its entry"),
        (lambda items: without(items, "CONN#c1", "CONN"), "an entry in alice's map without its record"),
        (lambda items: without(items, "USER#bob", "ROOM#r"), "a membership with one side only"),
        (lambda items: without(items, "ROOM#r", "MEMBER#bob"), "a membership with one side only"),
        (lambda items: [{**i, "memberCount": 3} if i["SK"] == "ROOM" else i for i in items], "memberCount 3"),
        (lambda items: without(items, "ROOM#r", "IDEM#alice#k"), "a message without its idempotency record"),
        (lambda items: without(items, "ROOM#r", "MSG#000000000000001"), "an idempotency record without"),
        (lambda items: [{**i, "seq": 0} if i["SK"] == "ROOM" else i for i in items], "beyond the room's seq"),
        (lambda items: [{**i, "lastReadSeq": 0} if i["PK"] == "USER#alice" and i["SK"] == "ROOM#r" else i
                        for i in items], "read position is before their own message"),
        (lambda items: [{**i, "messageId": "m9"} if i["SK"] == "LAST" else i for i in items], "no stored"),
        (lambda items: without(items, "ROOM#r", "ROOM"), "memberships of a room that does not exist"),
        (lambda items: [{**i, "conns": {"c1": {"ends": NOW + 60}}} if i["SK"] == "CONNS" else i
                        for i in items], "is no entry"),
        (lambda items: [{**i, "conns": {"c1": {"ends": NOW + 90, "auth": NOW}}} if i["SK"] == "MEMBER#alice"
                        else i for i in items], "entry ends at"),
        (lambda items: [{**i, "expiryToldFor": NOW + 30} if i["SK"] == "CONN" else i for i in items],
         "a notice for a session that had not ended"),
        (lambda items: [{**i, "expiryToldFor": NOW - 10, "tokenExpiresAt": NOW - 20} if i["SK"] == "CONN"
                        else i for i in items], "a notice for a session that had not ended"),
        (lambda items: [{**i, "rooms": 0} if i["SK"] == "ROOMS" and i["PK"] == "USER#bob" else i
                        for i in items], "rooms counter 0 below its 1 memberships"),
        (lambda items: [{**i, "rooms": 2} if i["SK"] == "ROOMS" and i["PK"] == "USER#bob" else i
                        for i in items], "above its memberships with no reservation"),
        (lambda items: without(items, "USER#bob", "ROOMS"), "no rooms counter"),
        (lambda items: [*items, {"PK": "USER#alice", "SK": "IDEMROOM#k2", "roomId": "unwritten",
                                 "memberIds": ["alice", "bob"], "ttl": NOW + 60}],
         "reserved for unwritten rooms"),
        (lambda items: [{k: v for k, v in i.items() if k != "onlineKey"} for i in items],
         "lists connections but is not in the online index"),
        (lambda items: [{**i, "onlineKey": "ROOM#r#0"} if i["SK"] == "MEMBER#alice" else i for i in items],
         "not shard 3"),
    ],
)  # fmt: skip
def test_each_state_no_crash_can_leave_is_found(broken, finding: str) -> None:
    found = violations(broken(consistent()), NOW)
    assert any(finding in line for line in found), found
