/**
 * Replies and mentions on the real local stack: `sendMessage` with `replyTo` and `mentions`, the
 * quote the others receive and the one the sender's client makes from the parent it holds, and
 * `listRooms`' `mentionCount` until a `markRead`.
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { clientFor, needsStack, takeUser, until } from "./stack.js";

test("a reply with a mention: quoted for both, counted for the one named until read", needsStack, async () => {
  const alice = await takeUser();
  const bob = await takeUser();
  const a = clientFor(() => alice.idToken);
  const b = clientFor(() => bob.idToken);
  const heard = /** @type {import("../src/index.js").Message[]} */ ([]);
  b.on("message", (message) => heard.push(message));
  await a.connect();
  await b.connect();
  const { roomId } = await b.createRoom({ name: "replies", memberIds: [alice.userId] });
  await a.listRooms();
  await b.sendMessage(roomId, "lunch?");
  await until(() => a.messages(roomId).length === 1, "bob's question at alice's");

  await a.sendMessage(roomId, "yes @bob", { replyTo: 1, mentions: [bob.userId, bob.userId, "not-a-member"] });
  await until(() => heard.length === 2, "alice's reply at bob's (after his own message)");
  const { messageId } = a.messages(roomId)[0];
  const displayName = bob.username.split("@")[0]; // the e-mail's local part, on the local stack
  assert.deepEqual(heard[1].replyTo, { seq: 1, messageId, senderId: bob.userId, displayName, excerpt: "lunch?" });
  assert.deepEqual(heard[1].mentions, [bob.userId], "duplicates and non-members dropped");
  const own = a.messages(roomId)[1];
  assert.deepEqual("deleted" in own ? own : own.replyTo, heard[1].replyTo, "the sender's client quotes the parent it holds");

  const listed = async () => (await b.listRooms()).find((room) => room.roomId === roomId);
  assert.equal((await listed())?.mentionCount, 1);
  await b.markRead(roomId, 2);
  assert.equal((await listed())?.mentionCount, 0, "read past it");

  await b.deleteMessage(roomId, 1);
  await assert.rejects(a.sendMessage(roomId, "to a deleted one", { replyTo: 1 }), { code: "MESSAGE_NOT_FOUND", retryable: false });
  const last = /** @type {import("../src/index.js").Message} */ ((await listed())?.lastMessage);
  assert.deepEqual([last.seq, last.replyTo], [2, { seq: 1, messageId, deleted: true }], "its quote as it is now");
  a.close();
  b.close();
});
