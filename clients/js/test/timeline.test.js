import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomTimeline } from "../src/timeline.js";

/** @param {number} seq */
const message = (seq) => ({
  roomId: "r",
  messageId: `m${seq}`,
  seq,
  senderId: "u",
  content: `#${seq}`,
  createdAt: "2026-01-01T00:00:00.000Z",
});

/**
 * A timeline over an in-memory history (the seqs it holds), recording what it delivers and asks.
 * @param {number[]} stored
 */
function timelineOver(stored, { pageSize = 100 } = {}) {
  const delivered = /** @type {number[]} */ ([]);
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
      const matching = stored.filter((seq) => seq > after && (before === undefined || seq < before));
      return { items: matching.slice(0, pageSize).map(message), hasMore: matching.length > pageSize };
    },
    deliver: (m) => delivered.push(m.seq),
    report: (error) => failures.push(error),
  });
  return { timeline, delivered, asked, failures, failOnce: () => (failNext = true) };
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
