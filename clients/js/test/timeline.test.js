import assert from "node:assert/strict";
import { test } from "node:test";

import { quoteOf, replyQuote, RoomTimeline, TIMELINE_SIZE } from "../src/timeline.js";

/** @typedef {import("../src/timeline.js").Entry} Entry */
/** @typedef {import("../src/timeline.js").Edit} Edit */

/** @param {number} seq */
const message = (seq) => ({
  roomId: "r",
  messageId: `m${seq}`,
  seq,
  senderId: "u",
  content: `#${seq}`,
  createdAt: "2026-01-01T00:00:00.000Z",
  version: 1,
});

/**
 * Version `version` of message `seq`, as a `messageEdited` frame carries it.
 * @param {number} seq
 * @param {number} version
 * @returns {Edit}
 */
const edit = (seq, version) => ({
  roomId: "r",
  messageId: `m${seq}`,
  seq,
  senderId: "u",
  content: `#${seq} v${version}`,
  version,
  editedAt: "2026-01-01T00:01:00.000Z",
});

/** The same version in the history (a whole message). @param {number} seq @param {number} version */
const edited = (seq, version) => ({ ...message(seq), ...edit(seq, version) });

/** Message `seq`'s tombstone, as a `messageDeleted` frame carries it. @param {number} seq */
const tombstone = (seq) => ({
  roomId: "r",
  messageId: `m${seq}`,
  seq,
  deleted: /** @type {const} */ (true),
  deletedAt: "2026-01-01T00:02:00.000Z",
  deletedBy: "u",
});

/** What a timeline holds, one string per seq. @param {Entry[]} entries */
const shown = (entries) => entries.map((entry) => ("deleted" in entry ? `${entry.seq} deleted` : entry.content));

/**
 * A timeline over an in-memory history (the seqs it holds, or entries to change it with),
 * recording what it delivers, what it reports as changed, and what it asks.
 * @param {Array<number | Entry>} stored
 */
function timelineOver(stored, { pageSize = 100 } = {}) {
  const history = stored.map((entry) => (typeof entry === "number" ? message(entry) : entry));
  const delivered = /** @type {number[]} */ ([]);
  const changes = /** @type {string[]} */ ([]);
  const asked = /** @type {Array<[number, number | undefined]>} */ ([]);
  const failures = /** @type {unknown[]} */ ([]);
  let failNext = false;
  const timeline = new RoomTimeline({
    gapGraceMs: 5,
    fetch: async (after, before) => {
      asked.push([after, before]);
      if (failNext) {
        failNext = false;
        throw new Error("offline");
      }
      const matching = history.filter(({ seq }) => seq > after && (before === undefined || seq < before));
      return { items: matching.slice(0, pageSize), hasMore: matching.length > pageSize };
    },
    deliver: (m) => delivered.push(m.seq),
    change: (change) => changes.push("deleted" in change ? `${change.seq} deleted` : change.content),
    report: (error) => failures.push(error),
  });
  return { timeline, history, delivered, changes, asked, failures, failOnce: () => (failNext = true) };
}

test("in-order messages are delivered as they come, duplicates dropped", async () => {
  const { timeline, delivered, asked } = timelineOver([1, 2, 3]);
  timeline.startAt(0);
  for (const seq of [1, 2, 2, 3, 1]) await timeline.receive(message(seq));
  assert.deepEqual(delivered, [1, 2, 3]);
  assert.deepEqual(asked, []);
});

test("a jump in seq is filled from history before the later message", async () => {
  const { timeline, delivered, asked } = timelineOver([1, 2, 3, 4, 5]);
  timeline.startAt(1);
  await timeline.receive(message(5));
  assert.deepEqual(delivered, [], "held back while the gap may still close by itself");
  await timeline.idle();
  assert.deepEqual(delivered, [2, 3, 4, 5]);
  assert.deepEqual(asked, [[1, 5]]);
});

test("a seq the history does not have is a real gap: skipped, not waited for", async () => {
  const { timeline, delivered } = timelineOver([1, 2, 4, 5]);
  timeline.startAt(1);
  await timeline.receive(message(5));
  await timeline.idle();
  assert.deepEqual(delivered, [2, 4, 5]);
  await timeline.receive(message(6));
  assert.deepEqual(delivered, [2, 4, 5, 6]);
});

test("a gap that closes by itself within the grace costs no history request", async () => {
  const { timeline, delivered, asked } = timelineOver([1, 2, 3]);
  timeline.startAt(0);
  await timeline.receive(message(2)); // e.g. your own ack, overtaking the message before it
  await timeline.receive(message(1));
  await timeline.receive(message(3));
  await timeline.idle();
  assert.deepEqual(delivered, [1, 2, 3]);
  assert.deepEqual(asked, []);
});

test("a room never seen before starts at its first message", async () => {
  const { timeline, delivered, asked } = timelineOver([1, 2, 3, 4]);
  await timeline.receive(message(3));
  await timeline.receive(message(4));
  assert.deepEqual(delivered, [3, 4]);
  assert.deepEqual(asked, []);
});

test("when the history cannot be read, the message waits and resume delivers everything once", async () => {
  const { timeline, delivered, failures, failOnce } = timelineOver([1, 2, 3, 4, 5, 6]);
  timeline.startAt(1);
  failOnce();
  await timeline.receive(message(4));
  await timeline.idle();
  assert.deepEqual(delivered, []);
  assert.equal(failures.length, 1);
  await timeline.resume();
  assert.deepEqual(delivered, [2, 3, 4, 5, 6]);
});

test("resume pages through long histories", async () => {
  const stored = Array.from({ length: 250 }, (_, i) => i + 1);
  const { timeline, delivered, asked } = timelineOver(stored, { pageSize: 100 });
  timeline.startAt(0);
  await timeline.resume();
  assert.deepEqual(delivered, stored);
  assert.deepEqual(asked, [[0, undefined], [100, undefined], [200, undefined]]);
});

test("edits keep the highest version: v3 before v2 ends at v3, and a message posted again is an edit", async () => {
  const { timeline, delivered, changes } = timelineOver([1]);
  timeline.startAt(0);
  await timeline.receive(message(1));
  await timeline.applyEdit(edit(1, 3));
  await timeline.applyEdit(edit(1, 2)); // older than the one held: ignored
  await timeline.receive(message(1)); // version 1 again (a redelivery): ignored
  await timeline.receive(edited(1, 4)); // posted again from the history, newer: an edit
  assert.deepEqual(delivered, [1]);
  assert.deepEqual(changes, ["#1 v3", "#1 v4"]);
  assert.deepEqual(shown(timeline.messages), ["#1 v4"]);
  assert.equal(/** @type {any} */ (timeline.messages[0]).createdAt, message(1).createdAt, "kept from the message");
});

test("a messageDeleted before its message fills the seq; the message after it is ignored", async () => {
  const { timeline, delivered, changes, asked } = timelineOver([1, 2, 3]);
  timeline.startAt(0);
  await timeline.receive(message(1));
  await timeline.applyDelete(tombstone(2)); // in order: it takes seq 2's place, no gap to fill
  await timeline.receive(message(2)); // posted late, with the content it had
  await timeline.applyEdit(edit(2, 2));
  await timeline.receive(message(3));
  await timeline.idle();
  assert.deepEqual(delivered, [1, 3]);
  assert.deepEqual(changes, ["2 deleted"]);
  assert.deepEqual(shown(timeline.messages), ["#1", "2 deleted", "#3"]);
  assert.deepEqual(asked, []);
});

test("a tombstone is final: nothing brings a deleted message back", async () => {
  const { timeline, changes } = timelineOver([1]);
  timeline.startAt(0);
  await timeline.receive(message(1));
  await timeline.applyDelete(tombstone(1));
  await timeline.receive(edited(1, 5));
  await timeline.applyEdit(edit(1, 6));
  await timeline.applyDelete(tombstone(1)); // told again (a repeated delete)
  assert.deepEqual(changes, ["1 deleted"]);
  assert.deepEqual(timeline.messages, [{ ...tombstone(1), senderId: "u", createdAt: message(1).createdAt }]);
});

test("changes of messages held back wait with them, in their place", async () => {
  const { timeline, delivered, changes, asked } = timelineOver([1, 2, 3, 4]);
  timeline.startAt(0);
  await timeline.receive(message(3)); // 1 and 2 still to come
  await timeline.applyEdit(edit(3, 3));
  await timeline.applyEdit(edit(3, 2));
  await timeline.receive(message(4));
  await timeline.applyDelete(tombstone(4));
  await timeline.receive(message(1));
  await timeline.receive(message(2));
  await timeline.idle();
  assert.deepEqual(delivered, [1, 2, 3]);
  assert.deepEqual(changes, ["4 deleted"]);
  assert.deepEqual(shown(timeline.messages), ["#1", "#2", "#3 v3", "4 deleted"]);
  assert.deepEqual(asked, []);
});

test("a messageDeleted after a gap waits in its place while the history fills the gap", async () => {
  const { timeline, delivered, changes, asked } = timelineOver([1, 2, { ...message(3), ...tombstone(3) }]);
  timeline.startAt(1);
  await timeline.applyDelete(tombstone(3));
  await timeline.idle();
  assert.deepEqual(delivered, [2]);
  assert.deepEqual(changes, ["3 deleted"]);
  assert.deepEqual(asked, [[1, 3]]);
});

test("an edit whose message was lost: the history is asked, and the message comes at its newest version", async () => {
  const { timeline, delivered, changes, asked } = timelineOver([1, edited(2, 2), 3]);
  timeline.startAt(0);
  await timeline.receive(message(1));
  await timeline.applyEdit(edit(2, 2)); // message 2's own frame never came
  await timeline.idle();
  assert.deepEqual(asked, [[1, 3]]);
  assert.deepEqual(delivered, [1, 2]);
  assert.deepEqual(changes, []);
  assert.deepEqual(shown(timeline.messages), ["#1", "#2 v2"]);
});

test("an edit that overtook its late message is applied when the message comes", async () => {
  const { timeline, delivered, asked } = timelineOver([1, 2]);
  timeline.startAt(0);
  await timeline.receive(message(1));
  await timeline.applyEdit(edit(2, 2));
  await timeline.receive(message(2)); // within the grace: no history request
  await timeline.idle();
  assert.deepEqual(delivered, [1, 2]);
  assert.deepEqual(shown(timeline.messages), ["#1", "#2 v2"]);
  assert.deepEqual(asked, []);
});

test("resume re-reads the messages it holds: what changed offline arrives as changes, in seq order", async () => {
  const { timeline, history, delivered, changes, asked } = timelineOver([1, 2, 3, 4]);
  timeline.startAt(0);
  for (const seq of [1, 2, 3, 4]) await timeline.receive(message(seq));
  // Offline: message 1 edited, 2 deleted, 3 edited twice, and a new message 5.
  history.splice(0, 3, edited(1, 2), { ...message(2), ...tombstone(2) }, edited(3, 3));
  history.push(message(5));
  await timeline.resume();
  assert.deepEqual(asked, [[0, undefined]]);
  assert.deepEqual(changes, ["#1 v2", "2 deleted", "#3 v3"]);
  assert.deepEqual(delivered, [1, 2, 3, 4, 5]);
  assert.deepEqual(shown(timeline.messages), ["#1 v2", "2 deleted", "#3 v3", "#4", "#5"]);
  await timeline.resume(); // nothing changed since: nothing told again
  assert.equal(changes.length, 3);
});

test("the timeline holds the room's newest TIMELINE_SIZE messages, and re-reads only those", async () => {
  const stored = Array.from({ length: TIMELINE_SIZE + 50 }, (_, i) => i + 1);
  const { timeline, changes, asked } = timelineOver(stored, { pageSize: 100 });
  timeline.startAt(0);
  await timeline.resume();
  assert.equal(timeline.messages.length, TIMELINE_SIZE);
  assert.equal(timeline.messages[0].seq, 51);
  asked.length = 0;
  await timeline.resume();
  assert.deepEqual(asked, [[50, undefined], [150, undefined]]);
  await timeline.applyEdit(edit(10, 2)); // older than it holds: passed on for the app to compare
  await timeline.applyDelete(tombstone(11));
  assert.deepEqual(changes, ["#10 v2", "11 deleted"]);
});

test("history pages the app read are held and re-read on resume", async () => {
  const { timeline, history, changes, asked } = timelineOver([1, 2, 3, 4, 5]);
  timeline.startAt(5); // the newest page's last seq
  await timeline.remember([3, 4, 5].map(message));
  await timeline.remember([message(6)]); // after the cursor: the timeline delivers it in order, not this
  history[3] = edited(4, 2);
  await timeline.resume();
  assert.deepEqual(asked, [[2, undefined]]);
  assert.deepEqual(changes, ["#4 v2"]);
  assert.deepEqual(shown(timeline.messages), ["#3", "#4 v2", "#5"]);
});

test("quoteOf: a parent's quote as the server makes it, the first 100 code points of its content", () => {
  const quote = quoteOf({ ...message(3), content: "😀".repeat(150), displayName: "Bob" });
  const excerpt = "😀".repeat(100); // 100 code points, 200 UTF-16 units
  assert.deepEqual(quote, { seq: 3, messageId: "m3", senderId: "u", displayName: "Bob", excerpt });
  assert.deepEqual(quoteOf(tombstone(3)), { seq: 3, messageId: "m3", deleted: true });
});

test("replyQuote: the parent as the app holds it once edited or deleted, else the quote as it came", () => {
  const sent = quoteOf({ ...message(1), displayName: "Bob" }); // a live frame's quote: "#1"
  assert.equal(replyQuote(sent, undefined), sent, "a parent the app does not hold");
  assert.equal(replyQuote(sent, message(1)), sent, "held as it was");
  assert.deepEqual(replyQuote(sent, edited(1, 2)), { ...sent, excerpt: "#1 v2" }, "held as edited");
  assert.deepEqual(replyQuote(sent, tombstone(1)), { seq: 1, messageId: "m1", deleted: true }, "held as deleted");
  assert.equal(replyQuote(sent, edited(2, 2)), sent, "another message");
  const gone = quoteOf(tombstone(1));
  assert.equal(replyQuote(gone, message(1)), gone, "a deleted quote stays deleted");
});
