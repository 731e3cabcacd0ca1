/**
 * The client on the real local stack, through the faults of a real network: a connection dropped
 * without a close frame, a token that expires on a live connection, messages written while offline,
 * messages edited and deleted while offline, a frame lost in transit, the 2-hour limit, requests
 * that fail or get no reply.
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatError } from "../src/index.js";
import { claims, clientFor, expiringAt, needsStack, signIn, stack, takeUser, until, vanish, wireTap } from "./stack.js";

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything a client tells the app, by event type. @param {import("../src/index.js").ChatClient} client */
function record(client) {
  const seen = { messages: /** @type {any[]} */ ([]), states: /** @type {string[]} */ ([]), errors: /** @type {ChatError[]} */ ([]) };
  client.on("message", (message) => seen.messages.push(message));
  client.on("state", (state) => seen.states.push(state));
  client.on("error", (error) => seen.errors.push(error));
  return seen;
}

/** @param {any[]} messages */
const seqs = (messages) => messages.map((message) => message.seq);
/** @param {number} n */
const oneTo = (n) => Array.from({ length: n }, (_, i) => i + 1);
/** What a timeline holds, one string per seq. @param {import("../src/index.js").Entry[]} entries */
const shown = (entries) => entries.map((entry) => ("deleted" in entry ? `${entry.seq} deleted` : entry.content));

/** Two users, each with a connected client, in a room they share. */
async function pair(options = {}) {
  const alice = await takeUser();
  const bob = await takeUser();
  const a = clientFor(() => signIn(alice.username), options);
  const b = clientFor(() => bob.idToken);
  const seen = record(a);
  await a.connect();
  await b.connect();
  const room = await b.createRoom({ name: "network", memberIds: [alice.userId] });
  await a.listRooms(); // alice's starting point in the room: its history so far (none)
  return { alice, bob, a, b, seen, roomId: room.roomId };
}

test("a connection dropped without a close frame: every message reaches the app once, in order", needsStack, async () => {
  const { a, b, seen, roomId } = await pair();
  const total = 25;
  const sending = (async () => {
    for (let i = 1; i <= total; i++) {
      await b.sendMessage(roomId, `flowing ${i}`);
      await sleep(100);
    }
  })();
  await until(() => seen.messages.length >= 10, "the first messages");
  await vanish((await a.whoami()).connectionId);
  await sending;
  await until(() => seen.messages.length >= total, `${total} messages`);
  await sleep(300); // anything delivered twice would arrive by now
  assert.deepEqual(seqs(seen.messages), oneTo(total));
  assert.deepEqual(seen.messages.map((m) => m.content), oneTo(total).map((i) => `flowing ${i}`));
  assert.deepEqual(seen.states, ["connecting", "open", "reconnecting", "open"]);
  a.close();
  b.close();
});

test("a token about to expire is renewed on the live connection", needsStack, async () => {
  const alice = await takeUser();
  const tokens = [expiringAt(alice.idToken, Math.floor(Date.now() / 1000) + 3), alice.idToken];
  let calls = 0;
  const a = clientFor(() => tokens[Math.min(calls++, 1)], { reauthBeforeExpiryMs: 1_500 });
  const seen = record(a);
  await a.connect();
  const before = await a.whoami();
  await sleep(4_500); // past the first token's exp
  const after = await a.whoami();
  assert.equal(after.connectionId, before.connectionId, "the same connection");
  assert.equal(Date.parse(after.expiresAt) / 1000, claims(alice.idToken).exp, "the renewed token's expiry");
  const room = await a.createRoom({ name: "still here" });
  assert.equal((await a.sendMessage(room.roomId, "after renewal")).type, "ack");
  assert.equal(calls, 2, "getToken: once to connect, once to reauth");
  assert.deepEqual(seen.states, ["connecting", "open"]);
  assert.deepEqual(seen.errors, []);
  a.close();
});

test("a request answered TOKEN_EXPIRED is retried after a reauth", needsStack, async () => {
  const alice = await takeUser();
  // Expired 5 s ago: still accepted at the handshake (30 s clock-skew leeway), refused by every action.
  const tokens = [expiringAt(alice.idToken, Math.floor(Date.now() / 1000) - 5), alice.idToken];
  let calls = 0;
  const wire = /** @type {Record<string, any>[]} */ ([]);
  const tapped = wireTap((frame) => wire.push(frame) > 0);
  const a = clientFor(() => tokens[Math.min(calls++, 1)], { reauthBeforeExpiryMs: 0, WebSocket: tapped });
  await a.connect();
  const room = await a.createRoom({ name: "expired at first" }); // before the reauth timer (1 s)
  assert.equal(room.name, "expired at first");
  assert.deepEqual(
    wire.map((frame) => frame.code ?? frame.type),
    ["TOKEN_EXPIRED", "reauthenticated", "room"],
    "refused, renewed, retried",
  );
  assert.equal(calls, 2);
  a.close();
});

test("sessionExpired: the client reauths and catches up what the room said meanwhile", needsStack, async () => {
  const alice = await takeUser();
  const bob = await takeUser();
  const exp = Math.floor(Date.now() / 1000) + 4;
  let calls = 0;
  // The scheduled renewal (at exp) gets its token late: a message sent meanwhile meets an ended session.
  const getToken = async () => (calls++ === 0 ? expiringAt(alice.idToken, exp) : (await sleep(2_000), alice.idToken));
  const wire = /** @type {Record<string, any>[]} */ ([]);
  const a = clientFor(getToken, { reauthBeforeExpiryMs: 0, WebSocket: wireTap((frame) => wire.push(frame) > 0) });
  const b = clientFor(() => bob.idToken);
  const seen = record(a);
  /** @type {any[]} */
  const told = [];
  a.on("sessionExpired", (frame) => told.push(frame));
  await a.connect();
  await b.connect();
  const room = await b.createRoom({ name: "lapsed", memberIds: [alice.userId] });
  await a.listRooms();
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 500);
  await b.sendMessage(room.roomId, "while expired");
  await until(() => seen.messages.length === 1, "the message, from the history");
  assert.equal(seen.messages[0].content, "while expired");
  assert.deepEqual(told.map((frame) => Date.parse(frame.expiresAt) / 1000), [exp]);
  assert.ok(!wire.some((frame) => frame.type === "message"), "the message itself never reached the ended session");
  assert.equal(calls, 2, "getToken: once to connect, once to reauth");
  assert.deepEqual(seen.errors, []);
  a.close();
  b.close();
});

test("the outbox delivers what was written offline, each message once", needsStack, async () => {
  const alice = await takeUser();
  const bob = await takeUser();
  /** @type {(value?: unknown) => void} */
  let goOnline = () => {};
  const online = new Promise((resolve) => (goOnline = resolve));
  let tokenCalls = 0;
  // Once alice's first connection drops, her token provider hangs until "online": a laptop with no network.
  const a = clientFor(async () => (tokenCalls++ === 0 ? alice.idToken : (await online, signIn(alice.username))));
  const b = clientFor(() => bob.idToken);
  const aSeen = record(a);
  const bSeen = record(b);
  await a.connect();
  await b.connect();
  const { roomId } = await b.createRoom({ name: "outbox", memberIds: [alice.userId] });
  await a.listRooms();
  await vanish((await a.whoami()).connectionId);
  await until(() => a.state === "reconnecting", "the drop to be noticed");
  const sent = ["offline 1", "offline 2", "offline 3"].map((text) => a.sendMessage(roomId, text));
  assert.equal(a.pendingMessages.length, 3);
  await b.sendMessage(roomId, "from bob meanwhile");
  await sleep(300);
  assert.equal(a.state, "reconnecting", "still offline");
  goOnline();
  const acks = await Promise.all(sent);
  assert.deepEqual(acks.map((ack) => ack.seq), [2, 3, 4]);
  assert.equal(a.pendingMessages.length, 0);
  // A message written just as the connection drops: sent or not, the outbox resends it under the
  // same clientMessageId, and the server stores it once.
  const { connectionId } = await a.whoami();
  const racing = a.sendMessage(roomId, "racing the drop");
  await vanish(connectionId);
  assert.equal((await racing).seq, 5);
  const history = await b.getMessages(roomId, { after: 0 });
  const stored = ["from bob meanwhile", "offline 1", "offline 2", "offline 3", "racing the drop"];
  assert.deepEqual(history.items.map((/** @type {any} */ m) => m.content), stored, "stored once each");
  await until(() => aSeen.messages.length >= 5 && bSeen.messages.length >= 5, "both views of the room");
  await sleep(300);
  assert.deepEqual(aSeen.messages.map((m) => m.content), stored, "alice: her own and bob's, once, in order");
  assert.deepEqual(bSeen.messages.map((m) => m.content), stored, "bob: the same");
  a.close();
  b.close();
});

test("a message frame lost in transit is filled from history before the next one", needsStack, async () => {
  let dropped = 0;
  const lossy = wireTap((frame) => {
    const lost = frame.type === "message" && frame.content === "lost in transit";
    if (lost) dropped += 1;
    return !lost;
  });
  const { a, b, seen, roomId } = await pair({ WebSocket: lossy });
  for (const text of ["before", "lost in transit", "after"]) await b.sendMessage(roomId, text);
  await until(() => seen.messages.length >= 3, "three messages");
  assert.equal(dropped, 1, "the frame was really lost");
  assert.deepEqual(seen.messages.map((m) => m.content), ["before", "lost in transit", "after"]);
  a.close();
  b.close();
});

test("a connection is replaced before API Gateway's 2-hour limit, without losing a message", needsStack, async () => {
  const { a, b, seen, roomId } = await pair({ maxConnectionAgeMs: 1_000 });
  const first = (await a.whoami()).connectionId;
  for (let i = 1; i <= 20; i++) {
    await b.sendMessage(roomId, `through renewal ${i}`);
    await sleep(60);
  }
  const last = (await a.whoami()).connectionId;
  assert.notEqual(last, first, "a new connection");
  await until(() => seen.messages.length >= 20, "20 messages");
  await sleep(200);
  assert.deepEqual(seqs(seen.messages), oneTo(20));
  assert.deepEqual(seen.states, ["connecting", "open"], "a planned renewal is not a drop");
  a.close();
  b.close();
});

test("pings keep an idle connection active", needsStack, async () => {
  const alice = await takeUser();
  let pongs = 0;
  const counting = wireTap((frame) => (frame.type === "pong" ? ++pongs : 1) > 0);
  const a = clientFor(() => alice.idToken, { pingIntervalMs: 200, WebSocket: counting });
  await a.connect();
  const { connectionId } = await a.whoami();
  const quietSince = Date.now(); // the app sends nothing from here on
  await sleep(1_500);
  const config = /** @type {NonNullable<typeof stack>} */ (stack);
  const response = await fetch(`${config.outputs.ConnectionsEndpoint}/@connections/${encodeURIComponent(connectionId)}`);
  const { lastActiveAt } = await response.json();
  assert.ok(pongs >= 3, `${pongs} pongs in 1.5 s`);
  assert.ok(Date.parse(lastActiveAt) > quietSince + 500, `API Gateway saw traffic at ${lastActiveAt}`);
  a.close();
});

test("a refused reconnect is retried with backoff, with a fresh token each time", needsStack, async () => {
  const alice = await takeUser();
  let calls = 0;
  // After the first connection: two tokens the authorizer refuses (401), then a good one.
  const a = clientFor(() => (++calls === 2 || calls === 3 ? "not-a-token" : signIn(alice.username)));
  const seen = record(a);
  await a.connect();
  await vanish((await a.whoami()).connectionId);
  await until(() => calls === 4 && a.state === "open", "the third reconnect attempt");
  assert.deepEqual(
    seen.errors.map((error) => [error.code, error.retryable]),
    [
      ["CONNECT_FAILED", true],
      ["CONNECT_FAILED", true],
    ],
  );
  assert.deepEqual(seen.states, ["connecting", "open", "reconnecting", "open"]);
  assert.equal((await a.whoami()).userId, alice.userId);
  a.close();
});

test("close() while connecting rejects connect() with CLOSED", needsStack, async () => {
  const alice = await takeUser();
  const a = clientFor(() => alice.idToken);
  const connecting = a.connect();
  a.close();
  await assert.rejects(connecting, { code: "CLOSED" });
  assert.equal(a.state, "closed");
});

test("a connection that stops answering pings is replaced", needsStack, async () => {
  const alice = await takeUser();
  let swallowing = true; // the first connection goes half-open: nothing more reaches the client
  const halfOpen = wireTap((frame) => !(swallowing && frame.type === "pong"));
  const a = clientFor(() => alice.idToken, { WebSocket: halfOpen, pingIntervalMs: 300, requestTimeoutMs: 700 });
  const seen = record(a);
  await a.connect();
  const first = (await a.whoami()).connectionId;
  await until(() => seen.states.includes("reconnecting"), "the missing pong to be noticed");
  swallowing = false;
  await until(() => a.state === "open", "the new connection");
  assert.notEqual((await a.whoami()).connectionId, first);
  a.close();
});

test("refusals and silence reject with a ChatError", needsStack, async () => {
  const alice = await takeUser();
  const a = clientFor(() => alice.idToken, { requestTimeoutMs: 1_000 });
  const seen = record(a);
  await assert.rejects(a.listRooms(), { name: "ChatError", code: "NOT_CONNECTED" });
  await a.connect();
  await assert.rejects(a.joinRoom("no-such-room"), { code: "ROOM_NOT_FOUND", retryable: false, action: "joinRoom" });
  const stray = clientFor(() => alice.idToken, { offContract: true });
  await stray.connect();
  await assert.rejects(stray.request("noSuchAction"), (error) => error instanceof ChatError && error.code === "UNKNOWN_ACTION");
  stray.close();
  await assert.rejects(a.sendMessage("no-such-room", "hi"), { code: "ROOM_NOT_FOUND" });
  assert.equal(a.pendingMessages.length, 0, "a refused message leaves the outbox");
  const room = await a.createRoom({ name: "quiet" });
  // typing gets no reply when it succeeds: as a request, it times out.
  await assert.rejects(a.request("typing", { roomId: room.roomId }), { code: "TIMEOUT", retryable: true });
  a.typing("no-such-room"); // fire and forget: the refusal arrives as an error event
  await until(() => seen.errors.length > 0, "the error event");
  assert.equal(seen.errors[0].code, "ROOM_NOT_FOUND");
  const waiting = a.sendMessage(room.roomId, "never sent");
  a.close();
  await assert.rejects(waiting, { code: "CLOSED" });
  await assert.rejects(a.whoami(), { code: "CLOSED" });
  assert.equal(seen.states.at(-1), "closed");
});

test("createRoom whose reply is lost is retried with its clientRoomId: one room", needsStack, async () => {
  const alice = await takeUser();
  /** @type {Record<string, any>[]} */
  const dropped = [];
  const tapped = wireTap((frame) => !(frame.type === "room" && frame.requestId && dropped.push(frame) === 1));
  const a = clientFor(() => alice.idToken, { requestTimeoutMs: 3_000, WebSocket: tapped });
  await a.connect();
  try {
    const room = await a.createRoom({ name: "lost reply" });
    assert.equal(dropped.length, 2, "the first reply was lost, the retry's came");
    assert.equal(room.roomId, dropped[0].room.roomId, "the retry answered the same room");
    const mine = (await a.listRooms()).filter((item) => item.name === "lost reply");
    assert.equal(mine.length, 1);
  } finally {
    a.close();
  }
});

test("createRoom rejects a refusal retrying cannot fix at once, without a retry", needsStack, async () => {
  const alice = await takeUser();
  /** @type {Record<string, any>[]} */
  const replies = [];
  const tapped = wireTap((frame) => (frame.requestId && replies.push(frame), true));
  // A blank name is off the contract on purpose: not recorded for the contract check.
  const a = clientFor(() => alice.idToken, { WebSocket: tapped, offContract: true });
  await a.connect();
  try {
    await assert.rejects(a.createRoom({ name: " " }), { code: "BAD_REQUEST", retryable: false, action: "createRoom" });
    assert.deepEqual(replies.map((frame) => frame.code), ["BAD_REQUEST"], "sent once");
  } finally {
    a.close();
  }
});

test("edits and deletes: live ones at once, those made while offline from the history on resume", needsStack, async () => {
  const alice = await takeUser();
  const bob = await takeUser();
  /** @type {(value?: unknown) => void} */
  let goOnline = () => {};
  const online = new Promise((resolve) => (goOnline = resolve));
  let tokenCalls = 0;
  const wire = /** @type {Record<string, any>[]} */ ([]);
  const a = clientFor(async () => (tokenCalls++ === 0 ? alice.idToken : (await online, alice.idToken)), {
    WebSocket: wireTap((frame) => wire.push(frame) > 0),
  });
  const b = clientFor(() => bob.idToken);
  const changes = /** @type {string[]} */ ([]);
  a.on("messageEdited", (edit) => changes.push(`${edit.seq} v${edit.version}`));
  a.on("messageDeleted", (tombstone) => changes.push(`${tombstone.seq} deleted`));
  await a.connect();
  await b.connect();
  const { roomId } = await b.createRoom({ name: "changes", memberIds: [alice.userId] });
  await a.listRooms();
  for (const text of ["one", "two", "three", "four"]) await b.sendMessage(roomId, text);
  await until(() => a.messages(roomId).length === 4, "alice's four messages");
  await b.editMessage(roomId, 4, "four, edited");
  await until(() => changes.length === 1, "the live edit");

  await vanish((await a.whoami()).connectionId);
  await until(() => a.state === "reconnecting", "the drop to be noticed");
  const offlineFrom = wire.length;
  assert.equal((await b.editMessage(roomId, 1, "one, edited")).version, 2);
  await b.editMessage(roomId, 3, "three, edited");
  assert.equal((await b.deleteMessage(roomId, 2)).type, "deleted");
  // The room is told in its order and bob hears his own delete: once he has, the room heard all three.
  await until(() => "deleted" in b.messages(roomId)[1], "bob's own delete");
  goOnline();
  await until(() => changes.length === 4, "the changes made offline");

  assert.deepEqual(changes, ["4 v2", "1 v2", "2 deleted", "3 v2"], "in seq order, from the re-read");
  const now = ["one, edited", "2 deleted", "three, edited", "four, edited"];
  assert.deepEqual(shown(a.messages(roomId)), now);
  assert.deepEqual(shown(b.messages(roomId)), now, "bob: his edits from his replies, his delete from the room");
  const live = wire.slice(offlineFrom).filter((frame) => frame.type === "messageEdited" || frame.type === "messageDeleted");
  assert.deepEqual(live, [], "none of them reached alice live");
  await assert.rejects(a.editMessage(roomId, 1, "not mine"), { code: "FORBIDDEN", retryable: false });
  await assert.rejects(a.deleteMessage(roomId, 3), { code: "FORBIDDEN" });
  await assert.rejects(b.editMessage(roomId, 2, "deleted"), { code: "MESSAGE_NOT_FOUND", retryable: false });
  await assert.rejects(b.deleteMessage(roomId, 99), { code: "MESSAGE_NOT_FOUND" });
  a.close();
  b.close();
});
