"""Move rooms written by the old layout (members, connections and last message on the room item)
to the layout of docs/DATA_MODEL.md: one member item per member, a `LAST` item, a small room item.

    python -m admin.migrate --table <TableName> [--dry-run]
    python -m admin.migrate --local

Run it once, right after deploying the new code (docs/DEPLOY.md, "Migrating data"). It Scans for
room items that still carry `members`, `conns` or `lastMessage` (an operator's one-off: the product
itself never scans), and is safe to run again: a migrated room has none of them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from chat.dal import client, keys, members, rooms
from chat.dal.messages import message_from_item
from chat.models.domain import Member

from admin.__main__ import add_table_arguments, use_table

OLD_ATTRIBUTES = ("members", "conns", "lastMessage")


def old_rooms() -> list[dict[str, Any]]:
    """Every room item that still has an attribute of the old layout."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "FilterExpression": "SK = :room AND ("
        + " OR ".join(f"attribute_exists({name})" for name in OLD_ATTRIBUTES)
        + ")",
        "ExpressionAttributeValues": {":room": keys.ROOM_SK},
    }
    while True:
        page = client.table().scan(**request)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def migrate(room: dict[str, Any]) -> int:
    """One room: its member items and LAST item, then the room item itself. Returns its member count."""
    room_id = str(room["roomId"])
    user_ids = sorted(room.get("members", ()))
    joined = {
        str(item["PK"]).removeprefix("USER#"): str(item["joinedAt"])
        for item in client.batch_get([keys.membership(user_id, room_id) for user_id in user_ids])
    }
    client.batch_put(
        [
            members.member_item(room_id, Member(user_id, "", joined.get(user_id, str(room["createdAt"]))))
            for user_id in user_ids
            if user_id in joined  # a member without its membership item had left: drop it
        ]
    )
    if room.get("lastMessage"):
        rooms.cache_last_message(message_from_item(room["lastMessage"]))
    client.table().update_item(
        Key=keys.room(room_id),
        UpdateExpression="SET memberCount = :n, onlineCount = :zero REMOVE members, conns, lastMessage",
        ExpressionAttributeValues={":n": len(joined), ":zero": 0},
    )
    return len(joined)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin.migrate", description=__doc__.split("\n")[0])
    add_table_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="list what would be migrated, write nothing")
    args = parser.parse_args(argv)
    use_table(parser, args)
    found = old_rooms()
    for room in found:
        if args.dry_run:
            print(f"would migrate room {room['roomId']} ({len(room.get('members', ()))} members)")
        else:
            print(f"migrated room {room['roomId']} ({migrate(room)} members)")
    print(f"{len(found)} room(s) {'to migrate' if args.dry_run else 'migrated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
