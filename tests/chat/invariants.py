"""The states docs/DATA_MODEL.md ("Consistency: what a crash can leave") allows, as a check of a table.

`violations(items, now)` reads every item of a table and returns what no documented crash state
explains (an empty list when the table is in one of them). Each rule names the documented write
that makes it hold:

- a connection record and its entry in the user's map are written and deleted in one transaction:
  both or neither (expired ones aside: TTL and the next connect remove them);
- join, leave and createRoom write both sides of a membership and the room's `memberCount` in one
  transaction: a room's member items, its members' memberships and `memberCount` agree. Member
  items of a room that does not exist are the documented leftover of a createRoom that stopped
  between its BatchWriteItem and its transaction;
- a message, its idempotency record and the sender's read position are one transaction: no message
  without its record (when it has a `clientMessageId`), no record without its message, and a
  sender still in the room has read at least up to their own message;
- the room's `seq` is taken before the message is stored: it is at least every message's `seq`
  (gaps are allowed);
- the last-message item is written after the message and never moved back: it is absent or a copy
  of a stored message (possibly not the newest), of its version or an older one;
- a delete replaces the message by its tombstone and, in the same transaction, the last-message
  item when that is the message or an older one: a tombstone holds no content (nor `version` or
  `editedAt`), and the last-message item of a deleted message is its tombstone too;
- a send adds its seq to each mentioned member's `mentionSeqs` after the store, a delete takes it
  out after the tombstone: each seq there names a stored message of the room (one that mentions the
  member, or a tombstone: a delete that stopped before uncounting); a mention may be missing;
- a connection entry (`conns` maps) is `{ends, auth}` (or the previous version's bare `ends`); its
  `ends` is its record's `ttl` wherever it is listed (connect writes both from one value, reauth
  copies the record's): an entry is live while `ends` is ahead;
- the record's `expiryToldFor` is set from its `tokenExpiresAt` only once that has passed, and a
  reauth only moves `tokenExpiresAt` to a token still valid: it is at most both;
- every membership write moves the user's rooms counter first or with it: the counter is never
  below the user's memberships, and above them only after a reservation (`reservedAt` set) whose
  room is not (yet) written; a user with memberships has a counter (only users from before the
  counters have none, and the matrix makes none of those);
- a `clientRoomId` record is written with its reservations and given back with them: while its
  room is not written, each user it names has a place reserved for it (counter above memberships).

- a member item is in the online index (`onlineKey`, its room and the user's shard) whenever it
  lists a connection: attach writes the entry and the key in one update, join and createRoom put
  both. The key without any entry is the documented leftover of a disconnect that stopped between
  its two updates (the next fan-out or connect puts it right); an entry without the key, or a key
  naming another room or shard, is no documented state.

Member items' connection maps and `onlineCount` are best effort (an entry may outlive its
connection or miss a live one until the next connect or fan-out): beyond the entries' form and
`ends`, nothing is checked there.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from decimal import Decimal
from typing import Any

from chat.dal import keys


def violations(items: list[dict[str, Any]], now: float) -> list[str]:
    by_key = {(str(item["PK"]), str(item["SK"])): item for item in items}
    found: list[str] = []
    found += _connections(by_key, now)
    found += _memberships(by_key)
    found += _messages(by_key, now)
    found += _entries(by_key)
    found += _session_notices(by_key, now)
    found += _room_counters(by_key, now)
    found += _online_index(by_key)
    return found


def _online_index(by_key: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    found = []
    for (pk, sk), item in by_key.items():
        if not (pk.startswith("ROOM#") and sk.startswith("MEMBER#")):
            continue
        room_id, user_id = pk.removeprefix("ROOM#"), sk.removeprefix("MEMBER#")
        shard = zlib.crc32(user_id.encode("utf-8")) % keys.ONLINE_SHARDS
        key = item.get(keys.ONLINE_KEY)
        if item.get("conns") and key is None:
            found.append(f"member {user_id} of {room_id}: lists connections but is not in the online index")
        elif key is not None and key != f"ROOM#{room_id}#{shard}":
            found.append(f"member {user_id} of {room_id}: in the online index under {key}, not shard {shard}")
    return found


def _ends(value: Any) -> int | None:
    """An entry's `ends`: a map {ends, auth} or the previous version's bare number; None if neither."""
    if isinstance(value, int | Decimal):
        return int(value)
    if isinstance(value, dict) and isinstance(value.get("ends"), int | Decimal):
        return int(value["ends"]) if isinstance(value.get("auth"), int | Decimal) else None
    return None


def _alive(item: dict[str, Any] | None, now: float) -> bool:
    return item is not None and ("ttl" not in item or int(item["ttl"]) > now)


def _connections(by_key: dict[tuple[str, str], dict[str, Any]], now: float) -> list[str]:
    found = []
    records = {pk.removeprefix("CONN#"): item for (pk, sk), item in by_key.items() if sk == "CONN"}
    entries = {
        connection_id: pk.removeprefix("USER#")
        for (pk, sk), item in by_key.items()
        if sk == "CONNS"
        for connection_id, value in (item.get("conns") or {}).items()
        if (_ends(value) or 0) > now
    }
    for connection_id, record in records.items():
        if _alive(record, now) and entries.get(connection_id) != record["userId"]:
            found.append(f"connection {connection_id}: a record without its entry in the user's map")
    for connection_id, user_id in entries.items():
        if not _alive(records.get(connection_id), now):
            found.append(f"connection {connection_id}: an entry in {user_id}'s map without its record")
    return found


def _memberships(by_key: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    found = []
    members: dict[str, set[str]] = defaultdict(set)
    for pk, sk in by_key:
        if pk.startswith("ROOM#") and sk.startswith("MEMBER#"):
            members[pk.removeprefix("ROOM#")].add(sk.removeprefix("MEMBER#"))
    joined: dict[str, set[str]] = defaultdict(set)
    for pk, sk in by_key:
        if pk.startswith("USER#") and sk.startswith("ROOM#"):
            joined[sk.removeprefix("ROOM#")].add(pk.removeprefix("USER#"))
    rooms = {pk.removeprefix("ROOM#"): item for (pk, sk), item in by_key.items() if sk == "ROOM"}
    for room_id, room in rooms.items():
        if members[room_id] != joined[room_id]:
            found.append(
                f"room {room_id}: member items {sorted(members[room_id])} but memberships "
                f"{sorted(joined[room_id])} (a membership with one side only)"
            )
        if int(room.get("memberCount", 0)) != len(members[room_id]):
            found.append(
                f"room {room_id}: memberCount {room.get('memberCount')} but {len(members[room_id])} members"
            )
    for room_id in set(joined) - set(rooms):
        found.append(f"room {room_id}: memberships of a room that does not exist")
    return found


def _messages(by_key: dict[tuple[str, str], dict[str, Any]], now: float) -> list[str]:
    found = []
    for (pk, sk), message in by_key.items():
        if not sk.startswith("MSG#"):
            continue
        room = by_key.get((pk, "ROOM"))
        seq = int(message["seq"])
        if room is None or int(room.get("seq", 0)) < seq:
            found.append(f"{pk} {sk}: a message beyond the room's seq (or of no room)")
        sender = str(message["senderId"])
        if message.get("clientMessageId") is not None:
            record = by_key.get((pk, f"IDEM#{sender}#{message['clientMessageId']}"))
            if _alive(record, now) and record is not None and record["messageId"] != message["messageId"]:
                found.append(f"{pk} {sk}: its idempotency record names another message")
            if record is None:
                found.append(f"{pk} {sk}: a message without its idempotency record")
        membership = by_key.get((f"USER#{sender}", f"ROOM#{pk.removeprefix('ROOM#')}"))
        if membership is not None and int(membership.get("lastReadSeq", 0)) < seq:
            found.append(f"{pk} {sk}: the sender's read position is before their own message")
    for (pk, sk), record in by_key.items():
        if sk.startswith("IDEM#"):
            message = by_key.get((pk, f"MSG#{int(record['seq']):015d}"))
            if message is None or message["messageId"] != record["messageId"]:
                found.append(f"{pk} {sk}: an idempotency record without its message")
    for (pk, sk), last in by_key.items():
        if sk == "LAST":
            message = by_key.get((pk, f"MSG#{int(last['seq']):015d}"))
            if message is None or message["messageId"] != last["messageId"]:
                found.append(f"{pk}: the last-message item is no stored message")
            elif "deletedAt" in message and "deletedAt" not in last:
                found.append(f"{pk}: the last-message item still holds a deleted message's content")
            elif int(last.get("version", 1)) > int(message.get("version", 1)):
                found.append(f"{pk}: the last-message item is a version its message never had")
    for (pk, sk), membership in by_key.items():
        if pk.startswith("USER#") and sk.startswith("ROOM#"):
            for seq in membership.get("mentionSeqs", ()):
                message = by_key.get((f"ROOM#{sk.removeprefix('ROOM#')}", f"MSG#{int(seq):015d}"))
                named = message is not None and pk.removeprefix("USER#") in message.get("mentions", ())
                if not named and (message is None or "deletedAt" not in message):
                    found.append(f"{pk} {sk}: a mention of seq {seq} that no message makes")
    for (pk, sk), item in by_key.items():
        tombstone = (sk.startswith("MSG#") or sk == "LAST") and "deletedAt" in item
        if tombstone and {"content", "version", "editedAt"} & item.keys():
            found.append(f"{pk} {sk}: a tombstone that kept its content")
    return found


def _entries(by_key: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """Every entry, in users' maps and member items, is {ends, auth} and ends with its record."""
    found = []
    for (pk, sk), item in by_key.items():
        if sk != "CONNS" and not sk.startswith("MEMBER#"):
            continue
        for connection_id, value in (item.get("conns") or {}).items():
            ends = _ends(value)
            if ends is None:
                found.append(f"{pk} {sk}: connection {connection_id}'s entry {value!r} is no entry")
                continue
            record = by_key.get((f"CONN#{connection_id}", "CONN"))
            if record is not None and int(record["ttl"]) != ends:
                found.append(
                    f"{pk} {sk}: connection {connection_id}'s entry ends at {ends},"
                    f" its record at {record['ttl']}"
                )
    return found


def _session_notices(by_key: dict[tuple[str, str], dict[str, Any]], now: float) -> list[str]:
    found = []
    for (pk, sk), record in by_key.items():
        if sk != "CONN" or "expiryToldFor" not in record:
            continue
        told = int(record["expiryToldFor"])
        if told > int(record["tokenExpiresAt"]) or told > now:
            found.append(
                f"{pk}: told its session ended at {told}, but it ends at {record['tokenExpiresAt']}"
                " (a notice for a session that had not ended)"
            )
    return found


def _room_counters(by_key: dict[tuple[str, str], dict[str, Any]], now: float) -> list[str]:
    found = []
    memberships: dict[str, int] = defaultdict(int)
    for pk, sk in by_key:
        if pk.startswith("USER#") and sk.startswith("ROOM#"):
            memberships[pk.removeprefix("USER#")] += 1
    counters = {pk.removeprefix("USER#"): item for (pk, sk), item in by_key.items() if sk == "ROOMS"}
    # Places a clientRoomId record of a room not written still holds on each user it names.
    pending: dict[str, int] = defaultdict(int)
    for (_, sk), record in by_key.items():
        if sk.startswith("IDEMROOM#") and _alive(record, now):
            if (f"ROOM#{record['roomId']}", "ROOM") in by_key:
                continue
            for user_id in record["memberIds"]:
                pending[str(user_id)] += 1
    for user_id in set(memberships) | set(counters) | set(pending):
        counter = counters.get(user_id)
        if counter is None:
            found.append(f"user {user_id}: {memberships[user_id]} memberships but no rooms counter")
            continue
        rooms, held = int(counter["rooms"]), memberships[user_id] + pending[user_id]
        if rooms < held:
            found.append(
                f"user {user_id}: rooms counter {rooms} below its {memberships[user_id]} memberships"
                f" and {pending[user_id]} reserved for unwritten rooms"
            )
        if rooms > memberships[user_id] and "reservedAt" not in counter:
            found.append(f"user {user_id}: rooms counter {rooms} above its memberships with no reservation")
    return found
