/** The page size of history requests (the server's maximum). */
export const HISTORY_PAGE: 100;
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
    /**
     * @param {object} hooks
     * @param {FetchHistory} hooks.fetch
     * @param {(message: Message) => void} hooks.deliver
     * @param {(error: unknown) => void} hooks.report a history request failed
     * @param {number} [hooks.gapGraceMs] how long a gap may close by itself before the history is asked
     */
    constructor({ fetch, deliver, report, gapGraceMs }: {
        fetch: FetchHistory;
        deliver: (message: Message) => void;
        report: (error: unknown) => void;
        gapGraceMs?: number | undefined;
    });
    /** The last seq the app has (undefined until the room has a starting point). */
    get cursor(): number | undefined;
    /**
     * Sets the starting point when there is none yet: messages after `seq` will be delivered.
     * @param {number} seq
     */
    startAt(seq: number): void;
    /**
     * A message from a live frame or an ack: delivered now, or once the messages before it are.
     * @param {Message} message
     * @returns {Promise<void>} settles once it is delivered, dropped as a duplicate, or held back
     */
    receive(message: Message): Promise<void>;
    /**
     * After a reconnect: everything stored after the cursor, page by page, then what was held back.
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
    clientMessageId?: string | undefined;
};
export type HistoryPage = {
    /**
     * ascending seq
     */
    items: Message[];
    hasMore: boolean;
};
/**
 * the room's messages with `after < seq < before` (oldest first, at most HISTORY_PAGE)
 */
export type FetchHistory = (after: number, before: number | undefined) => Promise<HistoryPage>;
