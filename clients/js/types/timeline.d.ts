/**
 * What a seq holds once `change` is known too: a tombstone is final, else the highest version wins.
 * (For an app that keeps messages of its own, e.g. older pages than the timeline holds.)
 * @param {Entry} entry
 * @param {Entry | Edit} change
 * @returns {Entry} `entry` itself when `change` changes nothing
 */
export function newest(entry: Entry, change: Entry | Edit): Entry;
/**
 * The quote of `parent` as it is now, as the server makes it.
 * @param {Entry} parent
 * @returns {Quote}
 */
export function quoteOf(parent: Entry): Quote;
/**
 * What to show of a reply's parent: a live `message` frame quotes it as it was when the reply was
 * sent, so a parent the app holds as edited or deleted is shown as it holds it; otherwise the quote
 * as it came (a history page quotes the parent as it is now).
 * @param {Quote} quote
 * @param {Entry | undefined} parent the app's entry of `quote.messageId`, if it has one
 * @returns {Quote}
 */
export function replyQuote(quote: Quote, parent: Entry | undefined): Quote;
/** The page size of history requests (the server's maximum). */
export const HISTORY_PAGE: 100;
/** How many of a room's newest messages a timeline holds as they are now (and re-reads on resume). */
export const TIMELINE_SIZE: number;
/** How many characters (code points) of its parent a quote holds. */
export const EXCERPT_CHARS: 100;
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
    constructor({ fetch, deliver, change, report, gapGraceMs }: {
        fetch: FetchHistory;
        deliver: (message: Message) => void;
        change: (change: Edit | Tombstone) => void;
        report: (error: unknown) => void;
        gapGraceMs?: number | undefined;
    });
    /** The last seq the app has (undefined until the room has a starting point). */
    get cursor(): number | undefined;
    /** The entries the timeline holds (the room's newest, at most TIMELINE_SIZE), ascending seq. */
    get messages(): Entry[];
    /**
     * Sets the starting point when there is none yet: messages after `seq` will be delivered.
     * @param {number} seq
     */
    startAt(seq: number): void;
    /**
     * A message from a live frame or an ack: delivered now, or once the messages before it are; for a
     * seq the app has, a newer version is a change.
     * @param {Message} message
     * @returns {Promise<void>} settles once it is delivered, dropped as a duplicate, or held back
     */
    receive(message: Message): Promise<void>;
    /**
     * A `messageDeleted` frame: the seq holds its tombstone from now on, in order.
     * @param {Tombstone} tombstone
     * @returns {Promise<void>}
     */
    applyDelete(tombstone: Tombstone): Promise<void>;
    /**
     * A `messageEdited` frame (or the editor's own reply): kept when its version is the highest yet.
     * @param {Edit} edit
     * @returns {Promise<void>}
     */
    applyEdit(edit: Edit): Promise<void>;
    /**
     * A history page the app read itself: its items up to the cursor are kept from now on (within
     * TIMELINE_SIZE), and re-read on resume with the rest.
     * @param {Entry[]} items
     * @returns {Promise<void>}
     */
    remember(items: Entry[]): Promise<void>;
    /**
     * After a reconnect: the history from the oldest entry kept, page by page (the kept ones as they
     * are now, then everything stored after the cursor), then what was held back.
     * @returns {Promise<void>}
     */
    resume(): Promise<void>;
    /** Settles once nothing is queued or due (for tests). @returns {Promise<void>} */
    idle(): Promise<void>;
    #private;
}
export type Message = {
    roomId: string;
    messageId: string;
    seq: number;
    senderId: string;
    content: string;
    createdAt: string;
    /**
     * 1 as sent, one more with each edit
     */
    version: number;
    /**
     * once edited
     */
    editedAt?: string | undefined;
    clientMessageId?: string | undefined;
    /**
     * the sender's
     */
    displayName?: string | undefined;
    /**
     * the message it answers
     */
    replyTo?: Quote | undefined;
    /**
     * the user ids it names (absent when none)
     */
    mentions?: string[] | undefined;
};
/**
 * the message a reply answers: as it is now in history and
 *  `lastMessage`, as it was when sent in a live `message` frame (see `replyQuote`)
 */
export type Quote = QuoteOf | DeletedQuote;
export type QuoteOf = {
    seq: number;
    messageId: string;
    senderId: string;
    displayName: string;
    /**
     * the first EXCERPT_CHARS characters of the parent's content
     */
    excerpt: string;
};
/**
 * the parent is deleted
 */
export type DeletedQuote = {
    seq: number;
    messageId: string;
    deleted: true;
};
/**
 * a deleted message: its seq and messageId stay, its content is gone
 */
export type Tombstone = {
    roomId: string;
    messageId: string;
    seq: number;
    deleted: true;
    deletedAt: string;
    deletedBy: string;
    /**
     * unknown when the delete is all the app heard of the message
     */
    senderId?: string | undefined;
    displayName?: string | undefined;
    createdAt?: string | undefined;
};
/**
 * a message's new version: the `messageEdited` frame (without `type`)
 */
export type Edit = {
    roomId: string;
    messageId: string;
    seq: number;
    senderId: string;
    content: string;
    version: number;
    editedAt: string;
    displayName?: string | undefined;
};
/**
 * what a seq holds: its message as it is now, or its tombstone
 */
export type Entry = Message | Tombstone;
export type HistoryPage = {
    /**
     * ascending seq
     */
    items: Entry[];
    hasMore: boolean;
};
/**
 * the room's messages with `after < seq < before` (oldest first, at most HISTORY_PAGE)
 */
export type FetchHistory = (after: number, before: number | undefined) => Promise<HistoryPage>;
