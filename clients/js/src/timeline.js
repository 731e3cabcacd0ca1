/**
 * One room's messages as the app sees them: each once, in `seq` order, with gaps filled from history,
 * and each as it is now (its newest version, or its tombstone once deleted).
 *
 * Messages come from three places (live `message` frames, the sender's own acks, history pages
 * fetched on resume) and may arrive twice or out of order. A timeline keeps the `seq` up to which
 * the app has everything (its cursor), holds back a message whose predecessors are missing, and
 * after a short grace (a frame in flight usually closes the gap by itself: an ack often overtakes
 * the message before it) asks the history for them. The history is authoritative: a `seq` it does
 * not have is a real gap (docs/PROTOCOL.md: "Gaps can happen") and is skipped.
 *
 * Edits and deletes (docs/PROTOCOL.md: "Editing and deleting messages") may arrive out of order too:
 * each seq keeps its highest version, and a tombstone is final. The timeline holds the room's newest
 * TIMELINE_SIZE messages as they are now, and on resume re-reads them from the oldest, so that what
 * changed while the app was offline reaches it as well.
 */

/** How many recent message ids a room remembers to drop duplicates that carry a new seq. */
const REMEMBERED_IDS = 1000;
/** The page size of history requests (the server's maximum). */
export const HISTORY_PAGE = 100;
/** How many of a room's newest messages a timeline holds as they are now (and re-reads on resume). */
export const TIMELINE_SIZE = 2 * HISTORY_PAGE;
/** How many characters (code points) of its parent a quote holds. */
export const EXCERPT_CHARS = 100;

/**
 * @typedef {object} Message
 * @property {string} roomId
 * @property {string} messageId
 * @property {number} seq
 * @property {string} senderId
 * @property {string} content
 * @property {string} createdAt
 * @property {number} version 1 as sent, one more with each edit
 * @property {string} [editedAt] once edited
 * @property {string} [clientMessageId]
 * @property {string} [displayName] the sender's
 * @property {Quote} [replyTo] the message it answers
 * @property {string[]} [mentions] the user ids it names (absent when none)
 *
 * @typedef {QuoteOf | DeletedQuote} Quote the message a reply answers: as it is now in history and
 *   `lastMessage`, as it was when sent in a live `message` frame (see `replyQuote`)
 *
 * @typedef {object} QuoteOf
 * @property {number} seq
 * @property {string} messageId
 * @property {string} senderId
 * @property {string} displayName
 * @property {string} excerpt the first EXCERPT_CHARS characters of the parent's content
 *
 * @typedef {object} DeletedQuote the parent is deleted
 * @property {number} seq
 * @property {string} messageId
 * @property {true} deleted
 *
 * @typedef {object} Tombstone a deleted message: its seq and messageId stay, its content is gone
 * @property {string} roomId
 * @property {string} messageId
 * @property {number} seq
 * @property {true} deleted
 * @property {string} deletedAt
 * @property {string} deletedBy
 * @property {string} [senderId] unknown when the delete is all the app heard of the message
 * @property {string} [displayName]
 * @property {string} [createdAt]
 *
 * @typedef {object} Edit a message's new version: the `messageEdited` frame (without `type`)
 * @property {string} roomId
 * @property {string} messageId
 * @property {number} seq
 * @property {string} senderId
 * @property {string} content
 * @property {number} version
 * @property {string} editedAt
 * @property {string} [displayName]
 *
 * @typedef {Message | Tombstone} Entry what a seq holds: its message as it is now, or its tombstone
 *
 * @typedef {object} HistoryPage
 * @property {Entry[]} items ascending seq
 * @property {boolean} hasMore
 *
 * @typedef {(after: number, before: number | undefined) => Promise<HistoryPage>} FetchHistory
 *   the room's messages with `after < seq < before` (oldest first, at most HISTORY_PAGE)
 */

export class RoomTimeline {
  /** @type {number | undefined} the last seq delivered, or undefined before the app has a starting point */
  #cursor;
  /** @type {Map<number, Entry>} entries held back until their predecessors are known */
  #held = new Map();
  /** @type {Map<number, Edit>} edits of seqs after the cursor whose message has not come yet */
  #early = new Map();
  /** @type {Map<number, Entry>} the newest TIMELINE_SIZE entries the app has, as they are now */
  #kept = new Map();
  /** @type {Set<string>} */
  #seen = new Set();
  /** @type {Promise<void>} every change runs after the previous one, so deliveries never interleave */
  #queue = Promise.resolve();
  /** @type {ReturnType<typeof setTimeout> | undefined} the pending history request for a gap */
  #fillTimer;
  #fetch;
  #deliver;
  #change;
  #report;
  #gapGraceMs;

  /**
   * @param {object} hooks
   * @param {FetchHistory} hooks.fetch
   * @param {(message: Message) => void} hooks.deliver a new message, in seq order
   * @param {(change: Edit | Tombstone) => void} hooks.change a message the app has changed (its new
   *   version, or its tombstone), or a deleted one takes its seq's place in order; a change of a
   *   message older than the timeline holds is passed on as it came
   * @param {(error: unknown) => void} hooks.report a history request failed
   * @param {number} [hooks.gapGraceMs] how long a gap may close by itself before the history is asked
   */
  constructor({ fetch, deliver, change, report, gapGraceMs = 250 }) {
    this.#fetch = fetch;
    this.#deliver = deliver;
    this.#change = change;
    this.#report = report;
    this.#gapGraceMs = gapGraceMs;
  }

  /** The last seq the app has (undefined until the room has a starting point). */
  get cursor() {
    return this.#cursor;
  }

  /** The entries the timeline holds (the room's newest, at most TIMELINE_SIZE), ascending seq. */
  get messages() {
    return [...this.#kept.values()].sort((a, b) => a.seq - b.seq);
  }

  /**
   * Sets the starting point when there is none yet: messages after `seq` will be delivered.
   * @param {number} seq
   */
  startAt(seq) {
    if (this.#cursor === undefined) this.#cursor = seq;
  }

  /**
   * A message from a live frame or an ack: delivered now, or once the messages before it are; for a
   * seq the app has, a newer version is a change.
   * @param {Message} message
   * @returns {Promise<void>} settles once it is delivered, dropped as a duplicate, or held back
   */
  receive(message) {
    return this.#enqueue(async () => this.#take(message));
  }

  /**
   * A `messageDeleted` frame: the seq holds its tombstone from now on, in order.
   * @param {Tombstone} tombstone
   * @returns {Promise<void>}
   */
  applyDelete(tombstone) {
    return this.#enqueue(async () => this.#take(tombstone));
  }

  /**
   * A `messageEdited` frame (or the editor's own reply): kept when its version is the highest yet.
   * @param {Edit} edit
   * @returns {Promise<void>}
   */
  applyEdit(edit) {
    return this.#enqueue(async () => {
      const { seq } = edit;
      if (this.#kept.has(seq)) return this.#revise(edit);
      if (this.#cursor === undefined || seq <= this.#cursor) return this.#change(edit);
      const held = this.#held.get(seq);
      if (held !== undefined) {
        this.#held.set(seq, newest(held, edit));
        return;
      }
      // Its message has not come: its frame was lost, or is late. Kept for it; the history has it.
      const early = this.#early.get(seq);
      if (early === undefined || edit.version > early.version) this.#early.set(seq, edit);
      this.#scheduleFill();
    });
  }

  /**
   * A history page the app read itself: its items up to the cursor are kept from now on (within
   * TIMELINE_SIZE), and re-read on resume with the rest.
   * @param {Entry[]} items
   * @returns {Promise<void>}
   */
  remember(items) {
    return this.#enqueue(async () => {
      for (const entry of items) {
        if (this.#cursor === undefined || entry.seq > this.#cursor) continue; // delivered in order instead
        if (this.#kept.has(entry.seq)) this.#revise(entry);
        else this.#keep(entry);
      }
    });
  }

  /**
   * After a reconnect: the history from the oldest entry kept, page by page (the kept ones as they
   * are now, then everything stored after the cursor), then what was held back.
   * @returns {Promise<void>}
   */
  resume() {
    return this.#enqueue(async () => {
      if (this.#cursor === undefined) return;
      const oldest = Math.min(this.#cursor + 1, ...this.#kept.keys());
      if (await this.#fill(oldest - 1, undefined)) await this.#fillGaps();
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

  /**
   * A live message or tombstone.
   * @param {Entry} entry
   */
  #take(entry) {
    const { seq } = entry;
    if (this.#kept.has(seq)) return this.#revise(entry);
    if (this.#cursor !== undefined && seq <= this.#cursor) {
      if ("deleted" in entry) this.#change(entry); // older than the timeline holds: the app may show it
      return;
    }
    if (this.#seen.has(entry.messageId)) return;
    this.#cursor ??= seq - 1; // the first message of a room the app knew nothing of
    this.#held.set(seq, this.#claim(entry));
    this.#deliverReady();
    if (this.#held.size > 0) this.#scheduleFill();
  }

  /**
   * A held seq learns of `change`: a change for the app unless it is older than what it has.
   * @param {Entry | Edit} change
   */
  #revise(change) {
    const kept = /** @type {Entry} */ (this.#kept.get(change.seq));
    if ("deleted" in kept) return; // a tombstone is final
    const next = newest(kept, change);
    if (next === kept) return;
    this.#kept.set(change.seq, next);
    this.#change(/** @type {Edit | Tombstone} */ (next));
  }

  /**
   * `entry` with what was held back for its seq (a live frame may be newer than a history page),
   * which is no longer held.
   * @param {Entry} entry
   */
  #claim(entry) {
    const { seq } = entry;
    const held = this.#held.get(seq);
    const early = this.#early.get(seq);
    this.#held.delete(seq);
    this.#early.delete(seq);
    const next = held === undefined ? entry : newest(held, entry);
    return early === undefined ? next : newest(next, early);
  }

  /** Delivers the held entries that follow the cursor without a gap; drops those behind it. */
  #deliverReady() {
    for (;;) {
      const cursor = /** @type {number} */ (this.#cursor);
      for (const held of [this.#held, this.#early]) {
        for (const seq of held.keys()) if (seq <= cursor) held.delete(seq);
      }
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

  /** Asks the history for what is missing before each held entry (and for early edits' messages). */
  async #fillGaps() {
    this.#deliverReady();
    while (this.#held.size > 0 || this.#early.size > 0) {
      const lowest = Math.min(...this.#held.keys(), ...[...this.#early.keys()].map((seq) => seq + 1));
      if (!(await this.#fill(/** @type {number} */ (this.#cursor), lowest))) return; // retried on resume
      // The history has nothing more below `lowest`: the seqs in between were never stored.
      if (/** @type {number} */ (this.#cursor) < lowest - 1) this.#cursor = lowest - 1;
      this.#deliverReady();
    }
  }

  /**
   * Reads the stored entries between `after` and `before` (or the newest): those the app has are
   * revised, those after the cursor delivered.
   * @param {number} after
   * @param {number | undefined} before
   * @returns {Promise<boolean>} false when the history could not be read (the caller retries later)
   */
  async #fill(after, before) {
    for (;;) {
      let page;
      try {
        page = await this.#fetch(after, before);
      } catch (error) {
        this.#report(error);
        return false;
      }
      for (const entry of page.items) {
        if (this.#kept.has(entry.seq)) this.#revise(entry);
        else if (entry.seq > /** @type {number} */ (this.#cursor) && !this.#seen.has(entry.messageId)) {
          this.#emit(this.#claim(entry));
        }
      }
      if (!page.hasMore || page.items.length === 0) return true;
      after = page.items[page.items.length - 1].seq;
    }
  }

  /** @param {Entry} entry the next one in seq order */
  #emit(entry) {
    this.#cursor = entry.seq;
    this.#seen.add(entry.messageId);
    if (this.#seen.size > REMEMBERED_IDS) {
      this.#seen.delete(/** @type {string} */ (this.#seen.values().next().value));
    }
    this.#keep(entry);
    if ("deleted" in entry) this.#change(entry);
    else this.#deliver(entry);
  }

  /** @param {Entry} entry */
  #keep(entry) {
    this.#kept.set(entry.seq, entry);
    if (this.#kept.size > TIMELINE_SIZE) this.#kept.delete(Math.min(...this.#kept.keys()));
  }
}

/**
 * What a seq holds once `change` is known too: a tombstone is final, else the highest version wins.
 * (For an app that keeps messages of its own, e.g. older pages than the timeline holds.)
 * @param {Entry} entry
 * @param {Entry | Edit} change
 * @returns {Entry} `entry` itself when `change` changes nothing
 */
export function newest(entry, change) {
  if ("deleted" in entry) return entry;
  if ("deleted" in change) {
    // The message's sender and time, which a `messageDeleted` lacks; nothing of its content.
    const { senderId, createdAt, displayName } = entry;
    return { senderId, createdAt, ...(displayName ? { displayName } : {}), ...change };
  }
  return change.version > entry.version ? { ...entry, ...change } : entry;
}

/**
 * The quote of `parent` as it is now, as the server makes it.
 * @param {Entry} parent
 * @returns {Quote}
 */
export function quoteOf(parent) {
  const { seq, messageId } = parent;
  if ("deleted" in parent) return { seq, messageId, deleted: true };
  return { seq, messageId, senderId: parent.senderId, displayName: parent.displayName ?? "", excerpt: excerptOf(parent.content) };
}

/**
 * What to show of a reply's parent: a live `message` frame quotes it as it was when the reply was
 * sent, so a parent the app holds as edited or deleted is shown as it holds it; otherwise the quote
 * as it came (a history page quotes the parent as it is now).
 * @param {Quote} quote
 * @param {Entry | undefined} parent the app's entry of `quote.messageId`, if it has one
 * @returns {Quote}
 */
export function replyQuote(quote, parent) {
  if (parent === undefined || parent.messageId !== quote.messageId || "deleted" in quote) return quote;
  if ("deleted" in parent) return quoteOf(parent);
  return parent.version > 1 ? { ...quote, excerpt: excerptOf(parent.content) } : quote;
}

/** The first EXCERPT_CHARS code points of `content` (as the server counts them). @param {string} content */
function excerptOf(content) {
  return Array.from(content).slice(0, EXCERPT_CHARS).join("");
}
