import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, checkBackoff, DEFAULT_BACKOFF } from "../src/backoff.js";

const options = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 };

test("delays grow by the factor up to the ceiling", () => {
  const top = (/** @type {number} */ attempt) => backoffDelay(attempt, options, () => 0.999999);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((attempt) => Math.round(top(attempt))), [100, 200, 400, 800, 1000, 1000]);
});

test("jitter takes up to its share off each delay, never more", () => {
  assert.equal(backoffDelay(2, options, () => 0), 200);
  const delays = Array.from({ length: 500 }, () => backoffDelay(2, options));
  assert.ok(delays.every((delay) => delay >= 200 && delay < 400));
  assert.ok(new Set(delays.map(Math.round)).size > 50, "delays are spread, so clients do not reconnect together");
  assert.equal(backoffDelay(3, { ...options, jitter: 0 }), 800);
});

test("the defaults are sane and bad options are refused", () => {
  checkBackoff(DEFAULT_BACKOFF);
  for (const bad of [{ factor: 0.5 }, { jitter: 2 }, { maxDelayMs: 10 }, { initialDelayMs: -1 }]) {
    assert.throws(() => checkBackoff({ ...options, ...bad }), RangeError);
  }
});
