export class ChatClient {
    /** @param {ChatClientOptions} options */
    constructor(options: ChatClientOptions);
    /** @returns {ConnectionState} */
    get state(): ConnectionState;
    /** The signed-in user's id (the ID token's `sub`), known once a token was fetched. */
    get userId(): string | undefined;
    /** Messages sent but not acknowledged yet, oldest first. */
    get pendingMessages(): {
        roomId: string;
        content: string;
        clientMessageId: string;
    }[];
    /**
     * Listen to an event; returns the function that stops listening.
     * @template {keyof ChatEvents} K
     * @param {K} type
     * @param {(payload: ChatEvents[K]) => void} listener
     * @returns {() => void}
     */
    on<K extends keyof ChatEvents>(type: K, listener: (payload: ChatEvents[K]) => void): () => void;
    /**
     * Opens the connection; resolves once it is open. If this first attempt fails it rejects with
     * `CONNECT_FAILED` (call it again to retry); once open, every later drop is reconnected by itself.
     * @returns {Promise<void>}
     */
    connect(): Promise<void>;
    /** Closes the connection for good: pending requests and unsent messages reject with `CLOSED`. */
    close(): void;
    /**
     * Sends any action and resolves with its reply (an `error` reply rejects with its ChatError).
     * Waits for the connection when it is (re)connecting; a `TOKEN_EXPIRED` reply is answered by a
     * `reauth` with a fresh token and one retry.
     * @param {string} action
     * @param {Record<string, unknown>} [fields]
     * @returns {Promise<Frame>}
     */
    request(action: string, fields?: Record<string, unknown>): Promise<Frame>;
    /**
     * Every room of the user, most recently active first (rooms with no message yet last): reads
     * every `listRooms` page, so a user in hundreds of rooms, or in rooms with long last messages, gets
     * them all.
     * @returns {Promise<RoomListing[]>}
     */
    listRooms(): Promise<RoomListing[]>;
    /**
     * One page of the user's rooms: the `rooms` frame's `items` (most recently active first within
     * the page) and the `cursor` of the next page (`null` on the last one).
     * @param {{cursor?: string, limit?: number}} [page]
     * @returns {Promise<RoomsPage>}
     */
    listRoomsPage(page?: {
        cursor?: string;
        limit?: number;
    }): Promise<RoomsPage>;
    /**
     * A page of a room's history (the `messages` frame). Without `after` and `before` it is the newest
     * page, which also becomes the room's starting point for `message` events if it had none.
     * @param {string} roomId
     * @param {{after?: number, before?: number, limit?: number}} [page]
     */
    getMessages(roomId: string, page?: {
        after?: number;
        before?: number;
        limit?: number;
    }): Promise<Frame>;
    /**
     * Sends a message through the outbox: it is retried across reconnects with the same
     * `clientMessageId` until acknowledged, so it is stored once. Resolves with the `ack`; rejects only
     * on a refusal that retrying cannot fix (e.g. `NOT_A_MEMBER`, `MESSAGE_NOT_FOUND` for a `replyTo`
     * naming no message or a deleted one, `BAD_REQUEST` for over 20 mentions) or on `close()`.
     * @param {string} roomId
     * @param {string} content
     * @param {{clientMessageId?: string, replyTo?: number, mentions?: string[]}} [options] `replyTo`:
     *   the seq of the message it answers; `mentions`: the user ids it names
     * @returns {Promise<Frame>}
     */
    sendMessage(roomId: string, content: string, options?: {
        clientMessageId?: string;
        replyTo?: number;
        mentions?: string[];
    }): Promise<Frame>;
    /**
     * Creates a room; resolves with the room (`{roomId, name, open, createdBy, createdAt, memberIds}`).
     * It is sent with a `clientRoomId` (yours, or a new one), so a retry never makes a second room:
     * retryable failures (`RATE_LIMITED`, `INTERNAL_ERROR`, `TIMEOUT`, `CONNECTION_LOST`) are retried
     * with `CREATE_ROOM_BACKOFF`, at most `CREATE_ROOM_ATTEMPTS` times in all; a refusal retrying
     * cannot fix (`LIMIT_EXCEEDED`, `BAD_REQUEST`, ...) rejects at once.
     * @param {{name: string, memberIds?: string[], open?: boolean, clientRoomId?: string}} room
     */
    createRoom(room: {
        name: string;
        memberIds?: string[];
        open?: boolean;
        clientRoomId?: string;
    }): Promise<any>;
    /** @param {string} roomId */
    joinRoom(roomId: string): Promise<Frame>;
    /** @param {string} roomId */
    leaveRoom(roomId: string): Promise<Frame>;
    /**
     * Edits one of your messages; resolves with the `edited` frame. The server tells your other
     * connections, not this one: the client applies the edit itself (a `messageEdited` event).
     * @param {string} roomId
     * @param {number} seq
     * @param {string} content
     * @returns {Promise<Frame>}
     */
    editMessage(roomId: string, seq: number, content: string): Promise<Frame>;
    /**
     * Deletes one of your messages; resolves with the `deleted` frame. The `messageDeleted` event
     * follows when the server's notice arrives (it tells every connection, this one included).
     * @param {string} roomId
     * @param {number} seq
     */
    deleteMessage(roomId: string, seq: number): Promise<Frame>;
    /**
     * The room's messages the client holds (its newest, at most TIMELINE_SIZE), each as it is now: its
     * newest version, or its tombstone. Ascending seq.
     * @param {string} roomId
     * @returns {Entry[]}
     */
    messages(roomId: string): Entry[];
    /**
     * Moves your read position forward; resolves with the `readMarked` frame.
     * @param {string} roomId
     * @param {number} seq
     */
    markRead(roomId: string, seq: number): Promise<Frame>;
    /**
     * Tells the room's other members you are typing. Fire and forget: nothing is sent while not
     * connected, and a refusal arrives as an `error` event.
     * @param {string} roomId
     */
    typing(roomId: string): void;
    /** Who the server thinks you are: the `identity` frame. */
    whoami(): Promise<Frame>;
    /**
     * A page of a room's members: the `members` frame.
     * @param {string} roomId
     * @param {{cursor?: string, limit?: number}} [page]
     */
    getMembers(roomId: string, page?: {
        cursor?: string;
        limit?: number;
    }): Promise<Frame>;
    #private;
}
export type Message = import("./timeline.js").Message;
export type Tombstone = import("./timeline.js").Tombstone;
export type Edit = import("./timeline.js").Edit;
export type Entry = import("./timeline.js").Entry;
export type Quote = import("./timeline.js").Quote;
export type BackoffOptions = import("./backoff.js").BackoffOptions;
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";
/**
 * a decoded server frame
 */
export type Frame = Record<string, any>;
/**
 * A `rooms` item.
 */
export type RoomListing = {
    roomId: string;
    name: string;
    open: boolean;
    lastMessage: Entry | null;
    lastReadSeq: number;
    unreadCount: number;
    /**
     * messages after your read position that mention you (at most 100:
     * show "99+")
     */
    mentionCount: number;
    memberCount: number;
    onlineCount: number;
};
/**
 * A page of `listRooms`.
 */
export type RoomsPage = {
    /**
     * most recently active first within the page
     */
    items: RoomListing[];
    /**
     * pass it back for the next page; `null` on the last one
     */
    cursor: string | null;
};
export type ChatClientOptions = {
    /**
     * the `WebSocketUrl` stack output
     */
    url: string;
    /**
     * returns a current Cognito ID token; called on
     * every (re)connect and before the token expires
     */
    getToken: () => Promise<string> | string;
    /**
     * a WebSocket constructor (default
     * `globalThis.WebSocket`; in Node < 22 pass `ws`)
     */
    WebSocket?: (new (url: string) => WebSocket) | undefined;
    /**
     * how long a request waits for its reply (default 10 000)
     */
    requestTimeoutMs?: number | undefined;
    /**
     * how often to ping while open (default 240 000, well inside the
     * 10-minute idle timeout)
     */
    pingIntervalMs?: number | undefined;
    /**
     * reconnect delays (defaults: 500 ms doubling up to
     * 30 s, half of each delay random)
     */
    reconnect?: Partial<import("./backoff.js").BackoffOptions> | undefined;
    /**
     * when to replace a connection by a new one (default 6 600 000
     * = 110 minutes, before API Gateway's 2-hour limit)
     */
    maxConnectionAgeMs?: number | undefined;
    /**
     * how long before the token's `exp` to send `reauth` with a
     * fresh token (default 120 000)
     */
    reauthBeforeExpiryMs?: number | undefined;
};
export type ChatEvents = {
    state: ConnectionState;
    message: Message;
    /**
     * a message the client holds has a new version (with `createdAt` when
     * the client held it; an edit of an older message is passed on as it came: compare `version`)
     */
    messageEdited: Edit;
    /**
     * a message was deleted, or a deleted one takes its seq's place
     */
    messageDeleted: Tombstone;
    room: Frame;
    memberJoined: Frame;
    memberLeft: Frame;
    read: Frame;
    typing: Frame;
    presence: Frame;
    /**
     * the server stopped this connection's room traffic (the token
     * expired without a reauth); the client reauths at once and catches every room up
     */
    sessionExpired: Frame;
    error: ChatError;
};
export type OutboxEntry = {
    roomId: string;
    content: string;
    clientMessageId: string;
    replyTo?: number | undefined;
    mentions?: string[] | undefined;
    resolve: (ack: Frame) => void;
    reject: (error: ChatError) => void;
};
export type PendingRequest = {
    /**
     * the connection the request was sent on
     */
    socket: WebSocket;
    action: string;
    resolve: (frame: Frame) => void;
    reject: (error: ChatError) => void;
    timer: ReturnType<typeof setTimeout>;
};
import { ChatError } from "./errors.js";
