"""Presence: a member is online while it has one live connection; only the transitions are told.

`members.attach`/`detach` say atomically whether a connection took its member online or offline
(a second tab, or closing one of two, changes nothing). Each transition moves the room's
`onlineCount` and, in rooms of at most `presence_max_members`, sends `presence` to the others.
"""

from __future__ import annotations

from chat.dal import rooms as room_store
from chat.dal.client import in_parallel
from chat.models import frames
from chat.notify import Notifier


def announce(
    room_ids: list[str], user_id: str, display_name: str, *, online: bool, notifier: Notifier
) -> None:
    if not room_ids:
        return
    delta = 1 if online else -1
    # The counter's update returns the room: its member count decides who hears of it.
    counted = in_parallel(lambda room_id: room_store.count_online(room_id, delta), room_ids)
    rooms = [room for room in counted if room is not None]
    in_parallel(
        lambda room: notifier.about_people(
            room,
            frames.presence(room.room_id, user_id, display_name, online),
            ordered=False,
            except_user=user_id,
        ),
        rooms,
    )
