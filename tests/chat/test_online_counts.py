"""Online counts stay true: a stateful property test over the real functions against moto.

Hypothesis interleaves connects (each inside its `$connect` until it is established, so a fan-out
can meet it there and get 410, as API Gateway answers), establishing them, disconnects, connections
that vanish without `$disconnect`, joins, leaves and messages (each a fan-out) in two open rooms.
After every step, each room's member items list exactly the connections that have not been
disconnected or forgotten, and `onlineCount` is the number of members with one. Once quiet (a
message in every room, whose fan-out meets every vanished connection), every member with a live
connection is counted and no vanished one is, and the last `presence` a watcher in every room got
about each member says what is true.
"""

from __future__ import annotations

from typing import Any

from chat.logic.sessions import CONNECTING_SECONDS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.chat.harness import ClientConnection, User, new_connection_id
from tests.chat.test_rooms import make_room
from tests.support.chat_table import open_for

USERS = 3
ROOMS = 2
TABS = 2  # connections per user at most, well under MAX_CONNECTIONS_PER_USER


def test_any_interleaving_leaves_online_counts_and_presence_true(chat_env, table, moto_server, chat_table):
    watcher = User().connect()  # in every room, always connected: it hears every presence

    def live_entries(room_id: str, user: User) -> set[str] | None:
        """The member item's connection ids (None: not a member)."""
        item = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{user.user_id}"}).get("Item")
        return None if item is None else set(item.get("conns", {}))

    def online_count(room_id: str) -> int:
        return int(table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"})["Item"]["onlineCount"])

    class Chat(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.users = [User() for _ in range(USERS)]
            self.rooms = [make_room(watcher, open_=True) for _ in range(ROOMS)]
            self.members: dict[str, set[int]] = {room_id: set() for room_id in self.rooms}
            # connections with records, by user: connecting, established, or vanished (closed
            # without `$disconnect`, its records left for a fan-out to meet)
            self.connecting: dict[str, tuple[int, ClientConnection]] = {}
            self.established: dict[str, tuple[int, ClientConnection]] = {}
            self.vanished: dict[str, int] = {}
            # where the watcher's frames stood when each member last joined each room
            self.joined_at: dict[tuple[str, int], int] = {}

        def recorded(self, user: int) -> set[str]:
            every = (*self.connecting.items(), *self.established.items())
            found = {cid for cid, (owner, _) in every if owner == user}
            return found | {cid for cid, owner in self.vanished.items() if owner == user}

        def sender(self, user: int) -> ClientConnection | None:
            return next((conn for owner, conn in self.established.values() if owner == user), None)

        @precondition(lambda self: any(len(self.recorded(u)) < TABS for u in range(USERS)))
        @rule(data=st.data())
        def connect(self, data: Any) -> None:
            user = data.draw(st.sampled_from([u for u in range(USERS) if len(self.recorded(u)) < TABS]))
            connection = ClientConnection(self.users[user], new_connection_id())
            chat_env.connecting(connection.connection_id)  # 410 until its handshake completes
            assert connection.lifecycle("connect") == {"statusCode": 200}
            self.connecting[connection.connection_id] = (user, connection)

        @precondition(lambda self: self.connecting)
        @rule(data=st.data())
        def establish(self, data: Any) -> None:
            connection_id = data.draw(st.sampled_from(list(self.connecting)))
            chat_env.established(connection_id)
            self.established[connection_id] = self.connecting.pop(connection_id)

        @precondition(lambda self: self.established)
        @rule(data=st.data())
        def disconnect(self, data: Any) -> None:
            connection_id = data.draw(st.sampled_from(list(self.established)))
            _, connection = self.established.pop(connection_id)
            chat_env.close(connection_id)
            connection.disconnect()

        @precondition(lambda self: self.established)
        @rule(data=st.data())
        def vanish(self, data: Any) -> None:
            """An established connection's network drops and its `$disconnect` is lost."""
            connection_id = data.draw(st.sampled_from(list(self.established)))
            user, _ = self.established.pop(connection_id)
            open_for(moto_server.endpoint, chat_table, connection_id, CONNECTING_SECONDS)
            chat_env.close(connection_id)
            self.vanished[connection_id] = user

        @rule(user=st.integers(0, USERS - 1), room=st.integers(0, ROOMS - 1))
        def join(self, user: int, room: int) -> None:
            room_id, connection = self.rooms[room], self.sender(user)
            if connection is None or user in self.members[room_id]:
                return
            assert connection.send("joinRoom", roomId=room_id)["type"] == "joined"
            self.members[room_id].add(user)
            self.joined_at[(room_id, user)] = len(chat_env.frames(watcher.connection_id))

        @rule(user=st.integers(0, USERS - 1), room=st.integers(0, ROOMS - 1))
        def leave(self, user: int, room: int) -> None:
            room_id, connection = self.rooms[room], self.sender(user)
            if connection is None or user not in self.members[room_id]:
                return
            assert connection.send("leaveRoom", roomId=room_id)["type"] == "left"
            self.members[room_id].discard(user)

        @rule(room=st.integers(0, ROOMS - 1))
        def message(self, room: int) -> None:
            self.fan_out(self.rooms[room])

        def fan_out(self, room_id: str) -> None:
            """A message from the watcher: its fan-out meets every connection of the room's members
            (410 from the connecting ones, which keep their records; the vanished ones are forgotten
            in every room)."""
            assert watcher.send("sendMessage", roomId=room_id, content="hello")["type"] == "ack"
            for connection_id, user in list(self.vanished.items()):
                if user in self.members[room_id]:
                    del self.vanished[connection_id]

        @invariant()
        def member_items_and_counts_match_the_connections(self) -> None:
            for room_id, members in self.members.items():
                online = 0
                for user in range(USERS):
                    entries = live_entries(room_id, self.users[user])
                    if user not in members:
                        assert entries is None
                        continue
                    assert entries == self.recorded(user), (self.connecting, self.established, self.vanished)
                    online += bool(entries)
                assert online_count(room_id) == online + 1  # and the watcher

        def teardown(self) -> None:
            """Quiet: every room hears a message; then only live connections count, and the last
            presence the watcher heard about each member (since it joined) is the truth."""
            for room_id in self.rooms:
                self.fan_out(room_id)
            self.member_items_and_counts_match_the_connections()
            frames = chat_env.frames(watcher.connection_id)
            for room_id, members in self.members.items():
                for user in members:
                    told = [
                        frame["online"]
                        for frame in frames[self.joined_at[(room_id, user)] :]
                        if frame["type"] == "presence"
                        and frame["roomId"] == room_id
                        and frame["userId"] == self.users[user].user_id
                    ]
                    live = bool(self.recorded(user) - set(self.vanished))
                    assert not self.vanished.keys() & self.recorded(user)
                    if told:
                        assert told[-1] == live, (room_id, user, told)
            for _, connection in (*self.connecting.values(), *self.established.values()):
                chat_env.close(connection.connection_id)
                connection.disconnect()

    run_state_machine_as_test(
        Chat,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
