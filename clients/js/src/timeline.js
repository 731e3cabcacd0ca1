/**
 * One room's messages as the app sees them: each once, in `seq` order, with gaps filled from history.
 *
 * Messages come from three places (live `message` frames, the sender's own acks, history pages
 * fetched on resume) and may arrive twice or out of order. A timeline keeps the `seq` up to which
 * the app has everything (its cursor), holds back a message whose predecessors are missing, and
 * after a short grace (a frame in flight usually closes the gap by itself: an ack often overtakes
 * the message before it) asks the history for them. The history is authoritative: a `seq` it does
 * not have is a real gap (docs/PROTOCOL.md: "Gaps can happen") and is skipped.
 */

/** How many recent message ids a room remembers to drop duplicates that carry a new seq. */
const REMEMBERED_IDS = 1000;
/** The page size of history requests (the server's maximum). */
export const HISTORY_PAGE = 100;

/**
 * @typedef {object} Message
 * @property {string} roomId
 * @property {string} messageId
 * @property {number} seq
 * @property {string} senderId
 * @property {string} content
 * @property {string} createdAt
 * @property {string} [clientMessageId]
 *
 * @typedef {object} HistoryPage
 * @property {Message[]} items ascending seq
 * @property {boolean} hasMore
 *
 * @typedef {(after: number, before: number | undefined) => Promise<HistoryPage>} FetchHistory
 *   the room's messages with `after < seq < before` (oldest first, at most HISTORY_PAGE)
 */

export class RoomTimeline {
  /** @type {number | undefined} the last seq delivered, or undefined before the app has a starting point */
  #cursor;
  /** @type {Map<number, Message>} messages held back until their predecessors are known */
  #held = new Map();
  /** @type {Set<string>} */
  #seen = new Set();
  /** @type {Promise<void>} every change runs after the previous one, so deliveries never interleave */
  #queue = Promise.resolve();
  /** @type {ReturnType<typeof setTimeout> | undefined} the pending history request for a gap */
  #fillTimer;
  #fetch;
  #deliver;
  #report;
  #gapGraceMs;

  /**
   * @param {object} hooks
   * @param {FetchHistory} hooks.fetch
   * @param {(message: Message) => void} hooks.deliver
   * @param {(error: unknown) => void} hooks.report a history request failed
   * @param {number} [hooks.gapGraceMs] how long a gap may close by itself before the history is asked
   */
  constructor({ fetch, deliver, report, gapGraceMs = 250 }) {
    this.#fetch = fetch;
    this.#deliver = deliver;
    this.#report = report;
    this.#gapGraceMs = gapGraceMs;
  }

  /** The last seq the app has (undefined until the room has a starting point). */
  get cursor() {
    return this.#cursor;
  }

  /**
   * Sets the starting point when there is none yet: messages after `seq` will be delivered.
   * @param {number} seq
   */
  startAt(seq) {
    if (this.#cursor === undefined) this.#cursor = seq;
  }

  /**
   * A message from a live frame or an ack: delivered now, or once the messages before it are.
   * @param {Message} message
   * @returns {Promise<void>} settles once it is delivered, dropped as a duplicate, or held back
   */
  receive(message) {
    return this.#enqueue(async () => {
      if (this.#isKnown(message)) return;
      this.#cursor ??= message.seq - 1; // the first message of a room the app knew nothing of
      this.#held.set(message.seq, message);
      this.#deliverReady();
      if (this.#held.size > 0) this.#scheduleFill();
    });
  }

  /**
   * After a reconnect: everything stored after the cursor, page by page, then what was held back.
   * @returns {Promise<void>}
   */
  resume() {
    return this.#enqueue(async () => {
      if (this.#cursor === undefined) return;
      if (await this.#fill(undefined)) await this.#fillGaps();
    });
  }

  /** Settles once nothing is queued or due (for tests). @returns {Promise<void>} */
  async idle() {
    for (;;) {
      const queue = this.#queue;
      await queue;
      if (this.#fillTimer === undefined && queue === this.#queue) return;
      await new Promise((resolve) => setTimeout(resolve, this.#gapGraceMs + 1));
    }
  }

  /** @param {() => Promise<void>} step */
  #enqueue(step) {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** @param {Message} message */
  #isKnown(message) {
    return this.#seen.has(message.messageId) || (this.#cursor !== undefined && message.seq <= this.#cursor);
  }

  /** Delivers the held messages that follow the cursor without a gap; drops those behind it. */
  #deliverReady() {
    for (;;) {
      const cursor = /** @type {number} */ (this.#cursor);
      for (const seq of this.#held.keys()) if (seq <= cursor) this.#held.delete(seq);
      const next = this.#held.get(cursor + 1);
      if (next === undefined) return;
      this.#held.delete(cursor + 1);
      this.#emit(next);
    }
  }

  #scheduleFill() {
    if (this.#fillTimer !== undefined) return;
    this.#fillTimer = setTimeout(() => {
      this.#fillTimer = undefined;
      void this.#enqueue(() => this.#fillGaps());
    }, this.#gapGraceMs);
  }

  /** Asks the history for what is missing before each held message, then delivers them. */
  async #fillGaps() {
    this.#deliverReady();
    while (this.#held.size > 0) {
      const lowest = Math.min(...this.#held.keys());
      if (!(await this.#fill(lowest))) return; // retried on resume
      // The history has nothing more below `lowest`: the seqs in between were never stored.
      if (/** @type {number} */ (this.#cursor) < lowest - 1) this.#cursor = lowest - 1;
      this.#deliverReady();
    }
  }

  /**
   * Delivers the stored messages between the cursor and `before` (or the newest).
   * @param {number | undefined} before
   * @returns {Promise<boolean>} false when the history could not be read (the caller retries later)
   */
  async #fill(before) {
    for (;;) {
      let page;
      try {
        page = await this.#fetch(/** @type {number} */ (this.#cursor), before);
      } catch (error) {
        this.#report(error);
        return false;
      }
      for (const message of page.items) {
        if (!this.#isKnown(message)) this.#emit(message);
      }
      if (!page.hasMore || page.items.length === 0) return true;
    }
  }

  /** @param {Message} message */
  #emit(message) {
    this.#cursor = message.seq;
    this.#seen.add(message.messageId);
    if (this.#seen.size > REMEMBERED_IDS) {
      this.#seen.delete(/** @type {string} */ (this.#seen.values().next().value));
    }
    this.#deliver(message);
  }
}
