/**
 * listRooms on the real local stack: the server pages the rooms (50 a page, fewer when their last
 * messages are long, so that no frame is over API Gateway's 128 KB); the client reads every page.
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { clientFor, needsStack, takeUser } from "./stack.js";

const LONG = "😀".repeat(5000); // the longest message: 20,000 bytes of UTF-8

test("listRooms returns every room, newest activity first, across the server's pages", needsStack, async () => {
  const alice = await takeUser();
  const bob = await takeUser();
  const a = clientFor(() => alice.idToken);
  const b = clientFor(() => bob.idToken);
  await a.connect();
  await b.connect();
  const roomIds = [];
  for (let i = 0; i < 8; i++) {
    const room = await b.createRoom({ name: `long ${i}`, memberIds: [alice.userId] });
    await b.sendMessage(room.roomId, `${i} ${LONG.slice(0, -4)}`);
    roomIds.push(room.roomId);
  }
  const quiet = await b.createRoom({ name: "no message yet", memberIds: [alice.userId] });

  const first = await a.listRoomsPage();
  assert.ok(first.items.length < 9 && first.cursor !== null, "the first page stops at the byte budget");
  const small = await a.listRoomsPage({ limit: 2 });
  assert.equal(small.items.length, 2);
  const rooms = await a.listRooms();

  assert.deepEqual(
    rooms.map((room) => room.roomId),
    [...roomIds.reverse(), quiet.roomId],
    "all nine, most recent message first, the room without one last",
  );
  assert.equal(rooms[0].lastMessage?.content, `7 ${LONG.slice(0, -4)}`);
  a.close();
  b.close();
});
