"""sendMessage's replyTo and mentions: the quote read from the parent as it is now, and the unread
mentions each member's listRooms item counts."""

from __future__ import annotations

from chat.dal import keys, mentions
from chat.models import budget
from chat.models.domain import EXCERPT_CHARS

from tests.chat.harness import User, dynamodb_requests
from tests.chat.test_rooms import frames_of, make_room
from tests.support import contract


def listing(connection, room_id: str) -> dict:
    return next(item for item in connection.send("listRooms")["items"] if item["roomId"] == room_id)


def test_a_reply_quotes_its_parent_as_it_is_now_live_in_history_and_as_the_last_message(chat_env, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    parent = a.send("sendMessage", roomId=room_id, content="lunch? " + "x" * 200)

    answer = b.send("sendMessage", roomId=room_id, content="yes", replyTo=parent["seq"])

    [live] = [f for f in frames_of(chat_env, a, "message") if f["seq"] == answer["seq"]]
    quote = {
        "seq": 1,
        "messageId": parent["messageId"],
        "senderId": alice.user_id,
        "displayName": alice.username,
        "excerpt": ("lunch? " + "x" * 200)[:EXCERPT_CHARS],
    }
    assert live["replyTo"] == quote
    contract.check_server_frame(live)
    stored = table.get_item(Key=keys.message(room_id, 2), ConsistentRead=True)["Item"]
    assert stored["replyTo"] == {"seq": 1, "messageId": parent["messageId"]}  # no copy of the parent

    a.send("editMessage", roomId=room_id, seq=1, content="dinner?")
    history = b.send("getMessages", roomId=room_id)["items"]
    assert history[1]["replyTo"] == {**quote, "excerpt": "dinner?"}
    assert listing(b, room_id)["lastMessage"]["replyTo"]["excerpt"] == "dinner?"

    a.send("deleteMessage", roomId=room_id, seq=1)
    gone = {"seq": 1, "messageId": parent["messageId"], "deleted": True}
    assert b.send("getMessages", roomId=room_id)["items"][1]["replyTo"] == gone
    assert listing(b, room_id)["lastMessage"]["replyTo"] == gone


def test_a_reply_names_a_stored_message_of_the_room(chat_env, table):
    alice = User()
    a = alice.connect()
    room_id, other = make_room(a), make_room(a)
    a.send("sendMessage", roomId=other, content="elsewhere")
    a.send("sendMessage", roomId=room_id, content="soon gone")
    a.send("deleteMessage", roomId=room_id, seq=1)

    for seq in (1, 2):  # deleted, never stored (seq 1 of the other room is not this room's)
        refused = a.send("sendMessage", roomId=room_id, content="re", replyTo=seq)
        assert (refused["code"], refused["retryable"]) == ("MESSAGE_NOT_FOUND", False)
    for bad in (0, "1", 1.5):
        assert a.send("sendMessage", roomId=room_id, content="re", replyTo=bad)["code"] == "BAD_REQUEST"
    assert a.send("getMessages", roomId=room_id)["items"][-1]["seq"] == 1  # nothing stored


def test_a_history_page_of_replies_reads_their_parents_in_one_request_and_stays_under_128_kb(chat_env):
    """Sixty parents, sixty replies quoting them (each quote about 550 bytes: 100 four-byte
    characters): the quotes cost one BatchGetItem per page, and the page keeps room for each quote
    before it is read (without it, 53 replies of 2 KB fill the budget and their quotes overflow it)."""
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    parent = "\U0001f600" * 2500  # a frame sent with JSON escapes stays under 32 KB
    for _ in range(60):
        assert a.send("sendMessage", roomId=room_id, content=parent)["type"] == "ack"
    for seq in range(1, 61):
        assert a.send("sendMessage", roomId=room_id, content="é" * 1000, replyTo=seq)["type"] == "ack"

    pages, after = [], 60
    while True:
        with dynamodb_requests() as sent:
            page = a.send("getMessages", roomId=room_id, after=after, limit=100)
        pages.append(page)
        assert page["type"] == "messages", page
        assert sent.count("BatchGetItem") == 1 and budget.encoded_size(page) <= budget.MESSAGE_LIMIT_BYTES
        assert all(item["replyTo"]["excerpt"] == parent[:EXCERPT_CHARS] for item in page["items"])
        if not page["hasMore"]:
            break
        after = page["items"][-1]["seq"]
    assert [item["seq"] for p in pages for item in p["items"]] == list(range(61, 121))


def test_mentions_count_until_read_or_deleted_and_only_members_are_kept(chat_env, table):
    alice, bob, carol, stranger = User(), User(), User(), User()
    a, b, c = alice.connect(), bob.connect(), carol.connect()
    room_id = make_room(a, bob, carol)

    first = a.send("sendMessage", roomId=room_id, content="@bob", mentions=[bob.user_id, stranger.user_id])
    a.send(
        "sendMessage",
        roomId=room_id,
        content="@bob @carol",
        mentions=[bob.user_id, carol.user_id, bob.user_id],
    )
    a.send("sendMessage", roomId=room_id, content="@me", mentions=[alice.user_id])

    [heard] = [f for f in frames_of(chat_env, b, "message") if f["seq"] == first["seq"]]
    assert heard["mentions"] == [bob.user_id]  # the stranger is no member: dropped
    assert [listing(x, room_id)["mentionCount"] for x in (a, b, c)] == [0, 2, 1]
    b.send("markRead", roomId=room_id, seq=1)
    assert listing(b, room_id)["mentionCount"] == 1
    membership = table.get_item(Key=keys.membership(bob.user_id, room_id), ConsistentRead=True)["Item"]
    assert membership["mentionSeqs"] == {2}  # the read one pruned
    a.send("deleteMessage", roomId=room_id, seq=2)
    assert [listing(x, room_id)["mentionCount"] for x in (b, c)] == [0, 0]

    too_many = [User().user_id for _ in range(21)]
    assert a.send("sendMessage", roomId=room_id, content="all", mentions=too_many)["code"] == "BAD_REQUEST"
    for bad in ("bob", [1], [""]):
        assert a.send("sendMessage", roomId=room_id, content="x", mentions=bad)["code"] == "BAD_REQUEST"


def test_a_full_mention_set_stops_counting_until_read(chat_env, table, monkeypatch):
    alice, bob = User(), User()
    a = alice.connect()
    bob.connect()
    room_id = make_room(a, bob)
    monkeypatch.setattr(mentions, "MAX_KEPT", 2)
    for _ in range(3):
        a.send("sendMessage", roomId=room_id, content="@bob", mentions=[bob.user_id])

    membership = table.get_item(Key=keys.membership(bob.user_id, room_id), ConsistentRead=True)["Item"]
    assert membership["mentionSeqs"] == {1, 2}


def test_the_quote_reserve_holds_the_largest_quote() -> None:
    largest = {
        "seq": 10**15 - 1,
        "messageId": "m" * 36,
        "senderId": "\U0001f600" * 128,
        "displayName": "\U0001f600" * 64,
        "excerpt": "\U0001f600" * EXCERPT_CHARS,
    }
    assert budget.encoded_size({"replyTo": largest}) <= budget.QUOTE_RESERVE_BYTES
