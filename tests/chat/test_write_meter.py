"""The write meter on the real send path: it sees every write the route code sends, item by item.

The units a send may cost are asserted with the data model; this file checks that the meter, hooked
on the route code's own client, measures what that code really stored.
"""

from __future__ import annotations

from chat.dal import client as dal_client

from tests.chat.harness import User, dynamodb_requests
from tests.chat.test_request_counts import seeded_room
from tests.support.write_units import WRITE_OPERATIONS, metered_writes, typed_item_size


def test_the_meter_sees_each_write_of_a_send_and_the_sizes_it_stored(table):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 50)

    with dynamodb_requests() as sent, metered_writes(dal_client.low_level()) as record:
        sender.send("sendMessage", roomId=room_id, content="hello", clientMessageId="meter")

    assert [request.operation for request in record.requests] == [op for op in sent if op in WRITE_OPERATIONS]
    final_sizes = {}
    for request in record.requests:
        assert not request.failed
        for item in request.items:
            final_sizes[item.key["PK"]["S"], item.key["SK"]["S"]] = item.new_size
    assert len(final_sizes) >= 2
    for (pk, sk), size in final_sizes.items():
        stored = table.get_item(Key={"PK": pk, "SK": sk}, ConsistentRead=True).get("Item")
        assert size == (typed_item_size(stored) if stored else 0), (pk, sk)
    assert record.total >= len(final_sizes)
