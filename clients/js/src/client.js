/**
 * ChatClient: one user's connection to the chat backend, kept alive across the real network.
 *
 * It reconnects with jittered exponential backoff, renews the connection before API Gateway's
 * 2-hour limit, pings inside the 10-minute idle timeout, reauthenticates before the ID token
 * expires, matches replies by `requestId`, keeps unsent messages in an outbox until they are
 * acknowledged (the server de-duplicates them by `clientMessageId`), and after every reconnect
 * catches up each room from its history, so that `message` events arrive once each, in seq order,
 * and `messageEdited` / `messageDeleted` events bring every change to the messages it holds, also
 * the changes made while it was offline.
 */

import { backoffDelay, checkBackoff, DEFAULT_BACKOFF } from "./backoff.js";
import { ChatError } from "./errors.js";
import { HISTORY_PAGE, quoteOf, RoomTimeline } from "./timeline.js";
import { claimsOf } from "./token.js";

/** @typedef {import("./timeline.js").Message} Message */
/** @typedef {import("./timeline.js").Tombstone} Tombstone */
/** @typedef {import("./timeline.js").Edit} Edit */
/** @typedef {import("./timeline.js").Entry} Entry */
/** @typedef {import("./timeline.js").Quote} Quote */
/** @typedef {import("./backoff.js").BackoffOptions} BackoffOptions */
/** @typedef {"connecting" | "open" | "reconnecting" | "closed"} ConnectionState */
/** @typedef {Record<string, any>} Frame a decoded server frame */
/**
 * A `rooms` item.
 * @typedef {object} RoomListing
 * @property {string} roomId
 * @property {string} name
 * @property {boolean} open
 * @property {Entry | null} lastMessage
 * @property {number} lastReadSeq
 * @property {number} unreadCount
 * @property {number} mentionCount messages after your read position that mention you (at most 100:
 *   show "99+")
 * @property {number} memberCount
 * @property {number} onlineCount
 */
/**
 * A page of `listRooms`.
 * @typedef {object} RoomsPage
 * @property {RoomListing[]} items most recently active first within the page
 * @property {string | null} cursor pass it back for the next page; `null` on the last one
 */

/**
 * @typedef {object} ChatClientOptions
 * @property {string} url the `WebSocketUrl` stack output
 * @property {() => Promise<string> | string} getToken returns a current Cognito ID token; called on
 *   every (re)connect and before the token expires
 * @property {new (url: string) => WebSocket} [WebSocket] a WebSocket constructor (default
 *   `globalThis.WebSocket`; in Node < 22 pass `ws`)
 * @property {number} [requestTimeoutMs] how long a request waits for its reply (default 10 000)
 * @property {number} [pingIntervalMs] how often to ping while open (default 240 000, well inside the
 *   10-minute idle timeout)
 * @property {Partial<BackoffOptions>} [reconnect] reconnect delays (defaults: 500 ms doubling up to
 *   30 s, half of each delay random)
 * @property {number} [maxConnectionAgeMs] when to replace a connection by a new one (default 6 600 000
 *   = 110 minutes, before API Gateway's 2-hour limit)
 * @property {number} [reauthBeforeExpiryMs] how long before the token's `exp` to send `reauth` with a
 *   fresh token (default 120 000)
 */

/**
 * @typedef {object} ChatEvents
 * @property {ConnectionState} state
 * @property {Message} message
 * @property {Edit} messageEdited a message the client holds has a new version (with `createdAt` when
 *   the client held it; an edit of an older message is passed on as it came: compare `version`)
 * @property {Tombstone} messageDeleted a message was deleted, or a deleted one takes its seq's place
 * @property {Frame} room
 * @property {Frame} memberJoined
 * @property {Frame} memberLeft
 * @property {Frame} read
 * @property {Frame} typing
 * @property {Frame} presence
 * @property {Frame} sessionExpired the server stopped this connection's room traffic (the token
 *   expired without a reauth); the client reauths at once and catches every room up
 * @property {ChatError} error
 */

/**
 * @typedef {object} OutboxEntry
 * @property {string} roomId
 * @property {string} content
 * @property {string} clientMessageId
 * @property {number} [replyTo]
 * @property {string[]} [mentions]
 * @property {(ack: Frame) => void} resolve
 * @property {(error: ChatError) => void} reject
 */

/**
 * @typedef {object} PendingRequest
 * @property {WebSocket} socket the connection the request was sent on
 * @property {string} action
 * @property {(frame: Frame) => void} resolve
 * @property {(error: ChatError) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */

const DEFAULTS = Object.freeze({
  requestTimeoutMs: 10_000,
  pingIntervalMs: 240_000,
  maxConnectionAgeMs: 110 * 60_000,
  reauthBeforeExpiryMs: 120_000,
});
/** Never reauth more often than this, even when the provider returns short-lived tokens. */
const MIN_REAUTH_DELAY_MS = 1_000;
/** How long a replaced connection stays open for the replies still due on it. */
const HANDOVER_GRACE_MS = 2_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often `createRoom` is sent (with one `clientRoomId`) before a retryable failure rejects. */
const CREATE_ROOM_ATTEMPTS = 5;
/** Between those attempts: 0.25-0.5 s, then doubling, ≥ 3.75 s in all (the server refills 1 createRoom per 2 s). */
const CREATE_ROOM_BACKOFF = Object.freeze({ initialDelayMs: 500, maxDelayMs: 8_000, factor: 2, jitter: 0.5 });
/** Replies to these never trigger a reauth-and-retry. */
const EXPIRY_EXEMPT = new Set(["ping", "reauth"]);
/** The frames the room timelines take in. */
const TIMELINE_FRAMES = new Set(["message", "messageEdited", "messageDeleted"]);

export class ChatClient {
  /** @type {Required<Omit<ChatClientOptions, "reconnect" | "WebSocket">> & {reconnect: BackoffOptions}} */
  #options;
  /** @type {new (url: string) => WebSocket} */
  #WebSocket;
  /** @type {ConnectionState} */
  #state = "closed";
  #disposed = false;
  /** @type {WebSocket | null} the connection requests go to */
  #socket = null;
  /** @type {Promise<void> | null} */
  #connecting = null;
  #everOpened = false;
  #failedAttempts = 0;
  /** @type {string | undefined} */
  #userId;
  /** @type {number | undefined} the current token's exp, epoch seconds */
  #tokenExpiry;
  /** @type {Promise<Frame> | null} */
  #reauthing = null;
  /** @type {Map<string, Set<(payload: any) => void>>} */
  #listeners = new Map();
  /** @type {Map<string, PendingRequest>} */
  #pending = new Map();
  /** @type {Set<{resolve: () => void, reject: (error: ChatError) => void}>} */
  #openWaiters = new Set();
  /** @type {Map<string, RoomTimeline>} */
  #timelines = new Map();
  /** @type {OutboxEntry[]} */
  #outbox = [];
  #pumping = false;
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */
  #timers = new Map();

  /** @param {ChatClientOptions} options */
  constructor(options) {
    if (typeof options?.url !== "string" || typeof options.getToken !== "function") {
      throw new TypeError("ChatClient needs { url: string, getToken: () => Promise<string> }");
    }
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== "function") {
      throw new TypeError("no WebSocket implementation: pass one as the WebSocket option (e.g. `ws` in Node)");
    }
    this.#WebSocket = WebSocketClass;
    const reconnect = { ...DEFAULT_BACKOFF, ...options.reconnect };
    checkBackoff(reconnect);
    this.#options = {
      url: options.url,
      getToken: options.getToken,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
      maxConnectionAgeMs: options.maxConnectionAgeMs ?? DEFAULTS.maxConnectionAgeMs,
      reauthBeforeExpiryMs: options.reauthBeforeExpiryMs ?? DEFAULTS.reauthBeforeExpiryMs,
      reconnect,
    };
    for (const name of /** @type {const} */ (["requestTimeoutMs", "pingIntervalMs", "maxConnectionAgeMs"])) {
      if (!(this.#options[name] > 0)) throw new RangeError(`${name} must be a positive number of milliseconds`);
    }
    if (!(this.#options.reauthBeforeExpiryMs >= 0)) throw new RangeError("reauthBeforeExpiryMs must be >= 0");
  }

  /** @returns {ConnectionState} */
  get state() {
    return this.#state;
  }

  /** The signed-in user's id (the ID token's `sub`), known once a token was fetched. */
  get userId() {
    return this.#userId;
  }

  /** Messages sent but not acknowledged yet, oldest first. */
  get pendingMessages() {
    return this.#outbox.map(({ roomId, content, clientMessageId }) => ({ roomId, content, clientMessageId }));
  }

  /**
   * Listen to an event; returns the function that stops listening.
   * @template {keyof ChatEvents} K
   * @param {K} type
   * @param {(payload: ChatEvents[K]) => void} listener
   * @returns {() => void}
   */
  on(type, listener) {
    let listeners = this.#listeners.get(type);
    if (listeners === undefined) this.#listeners.set(type, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Opens the connection; resolves once it is open. If this first attempt fails it rejects with
   * `CONNECT_FAILED` (call it again to retry); once open, every later drop is reconnected by itself.
   * @returns {Promise<void>}
   */
  connect() {
    if (this.#disposed) return Promise.reject(closedError());
    if (this.#state === "open") return Promise.resolve();
    if (this.#connecting !== null) return this.#connecting;
    if (this.#state === "reconnecting") return this.#whenOpen(Infinity);
    this.#setState("connecting");
    this.#connecting = this.#openSocket()
      .then((socket) => {
        this.#adopt(socket);
        if (this.#disposed) throw closedError(); // close() was called while it opened
      })
      .catch((error) => {
        const failure = asChatError(error, "CONNECT_FAILED");
        if (!this.#disposed) this.#setState("closed");
        this.#failOpenWaiters(failure);
        throw failure;
      })
      .finally(() => {
        this.#connecting = null;
      });
    return this.#connecting;
  }

  /** Closes the connection for good: pending requests and unsent messages reject with `CLOSED`. */
  close() {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) {
      detach(socket);
      socket.close(1000, "closed by the client");
    }
    const error = closedError();
    for (const [requestId, request] of this.#pending) this.#settle(requestId, request, () => request.reject(error));
    for (const entry of this.#outbox.splice(0)) entry.reject(error);
    this.#failOpenWaiters(error);
    this.#setState("closed");
  }

  /**
   * Sends any action and resolves with its reply (an `error` reply rejects with its ChatError).
   * Waits for the connection when it is (re)connecting; a `TOKEN_EXPIRED` reply is answered by a
   * `reauth` with a fresh token and one retry.
   * @param {string} action
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<Frame>}
   */
  async request(action, fields = {}) {
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    try {
      return await this.#exchange(action, fields, deadline);
    } catch (error) {
      if (!(error instanceof ChatError) || error.code !== "TOKEN_EXPIRED" || EXPIRY_EXEMPT.has(action)) throw error;
      await this.#reauth();
      return this.#exchange(action, fields, Date.now() + this.#options.requestTimeoutMs);
    }
  }

  /**
   * Every room of the user, most recently active first (rooms with no message yet last): reads
   * every `listRooms` page, so a user in hundreds of rooms, or in rooms with long last messages, gets
   * them all.
   * @returns {Promise<RoomListing[]>}
   */
  async listRooms() {
    /** @type {Map<string, RoomListing>} */
    const rooms = new Map();
    /** @type {string | null} */
    let cursor = null;
    do {
      const page = await this.listRoomsPage(cursor === null ? {} : { cursor });
      for (const item of page.items) rooms.set(item.roomId, item);
      cursor = page.cursor;
    } while (cursor !== null);
    return [...rooms.values()].sort(byRecency);
  }

  /**
   * One page of the user's rooms: the `rooms` frame's `items` (most recently active first within
   * the page) and the `cursor` of the next page (`null` on the last one).
   * @param {{cursor?: string, limit?: number}} [page]
   * @returns {Promise<RoomsPage>}
   */
  async listRoomsPage(page = {}) {
    const { items, cursor } = await this.request("listRooms", page);
    for (const item of items) this.#timeline(item.roomId).startAt(item.lastMessage?.seq ?? 0);
    return { items, cursor };
  }

  /**
   * A page of a room's history (the `messages` frame). Without `after` and `before` it is the newest
   * page, which also becomes the room's starting point for `message` events if it had none.
   * @param {string} roomId
   * @param {{after?: number, before?: number, limit?: number}} [page]
   */
  async getMessages(roomId, page = {}) {
    const reply = await this.request("getMessages", { roomId, ...page });
    const { items } = reply;
    const timeline = this.#timeline(roomId);
    if (page.after === undefined && page.before === undefined) {
      timeline.startAt(items.length > 0 ? items[items.length - 1].seq : 0);
    }
    void timeline.remember(items); // kept up to date from now on, and re-read on resume
    return reply;
  }

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
  sendMessage(roomId, content, options = {}) {
    if (this.#disposed) return Promise.reject(closedError());
    const { replyTo, mentions } = options;
    return new Promise((resolve, reject) => {
      const clientMessageId = options.clientMessageId ?? newId();
      this.#outbox.push({ roomId, content, clientMessageId, replyTo, mentions, resolve, reject });
      void this.#pumpOutbox();
    });
  }

  /**
   * Creates a room; resolves with the room (`{roomId, name, open, createdBy, createdAt, memberIds}`).
   * It is sent with a `clientRoomId` (yours, or a new one), so a retry never makes a second room:
   * retryable failures (`RATE_LIMITED`, `INTERNAL_ERROR`, `TIMEOUT`, `CONNECTION_LOST`) are retried
   * with `CREATE_ROOM_BACKOFF`, at most `CREATE_ROOM_ATTEMPTS` times in all; a refusal retrying
   * cannot fix (`LIMIT_EXCEEDED`, `BAD_REQUEST`, ...) rejects at once.
   * @param {{name: string, memberIds?: string[], open?: boolean, clientRoomId?: string}} room
   */
  async createRoom(room) {
    const fields = { ...room, clientRoomId: room.clientRoomId ?? newId() };
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await this.request("createRoom", fields);
        this.#timeline(reply.room.roomId).startAt(0);
        return reply.room;
      } catch (error) {
        const failure = asChatError(error, "INTERNAL_ERROR");
        if (!failure.retryable || attempt >= CREATE_ROOM_ATTEMPTS || this.#disposed) throw failure;
        if (failure.code !== "CONNECTION_LOST") await sleep(backoffDelay(attempt - 1, CREATE_ROOM_BACKOFF));
      }
    }
  }

  /** @param {string} roomId */
  joinRoom(roomId) {
    return this.request("joinRoom", { roomId });
  }

  /** @param {string} roomId */
  async leaveRoom(roomId) {
    const reply = await this.request("leaveRoom", { roomId });
    this.#timelines.delete(roomId); // no more messages, and nothing to resume
    return reply;
  }

  /**
   * Edits one of your messages; resolves with the `edited` frame. The server tells your other
   * connections, not this one: the client applies the edit itself (a `messageEdited` event).
   * @param {string} roomId
   * @param {number} seq
   * @param {string} content
   * @returns {Promise<Frame>}
   */
  async editMessage(roomId, seq, content) {
    const reply = await this.request("editMessage", { roomId, seq, content });
    const { messageId, version, editedAt } = reply;
    const senderId = this.#userId ?? "";
    void this.#timeline(roomId).applyEdit({ roomId, messageId, seq, senderId, content, version, editedAt });
    return reply;
  }

  /**
   * Deletes one of your messages; resolves with the `deleted` frame. The `messageDeleted` event
   * follows when the server's notice arrives (it tells every connection, this one included).
   * @param {string} roomId
   * @param {number} seq
   */
  deleteMessage(roomId, seq) {
    return this.request("deleteMessage", { roomId, seq });
  }

  /**
   * The room's messages the client holds (its newest, at most TIMELINE_SIZE), each as it is now: its
   * newest version, or its tombstone. Ascending seq.
   * @param {string} roomId
   * @returns {Entry[]}
   */
  messages(roomId) {
    return this.#timelines.get(roomId)?.messages ?? [];
  }

  /**
   * Moves your read position forward; resolves with the `readMarked` frame.
   * @param {string} roomId
   * @param {number} seq
   */
  markRead(roomId, seq) {
    return this.request("markRead", { roomId, seq });
  }

  /**
   * Tells the room's other members you are typing. Fire and forget: nothing is sent while not
   * connected, and a refusal arrives as an `error` event.
   * @param {string} roomId
   */
  typing(roomId) {
    if (this.#state === "open" && this.#socket !== null) this.#socket.send(JSON.stringify({ action: "typing", roomId }));
  }

  /** Who the server thinks you are: the `identity` frame. */
  whoami() {
    return this.request("whoami");
  }

  /**
   * A page of a room's members: the `members` frame.
   * @param {string} roomId
   * @param {{cursor?: string, limit?: number}} [page]
   */
  getMembers(roomId, page = {}) {
    return this.request("getMembers", { roomId, ...page });
  }

  // --- connections -------------------------------------------------------------------------

  /** One attempt: a fresh token, a socket, resolved once open. @returns {Promise<WebSocket>} */
  async #openSocket() {
    const token = await this.#options.getToken();
    if (this.#disposed) throw closedError();
    if (typeof token !== "string" || token === "") {
      throw new ChatError("CONNECT_FAILED", "getToken returned no token", { retryable: true });
    }
    this.#useToken(token);
    const url = new URL(this.#options.url);
    url.searchParams.set("idToken", token);
    const socket = new this.#WebSocket(url.toString());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        detach(socket);
        socket.close();
        reject(new ChatError("CONNECT_FAILED", "the connection did not open in time", { retryable: true }));
      }, this.#options.requestTimeoutMs);
      socket.onmessage = (event) => this.#onMessage(socket, event.data);
      socket.onerror = () => {}; // a close event follows, with the code (and `ws` throws unheard errors)
      socket.onclose = (event) => {
        clearTimeout(timer);
        reject(
          new ChatError("CONNECT_FAILED", `the connection was refused or lost while opening (code ${event.code})`, {
            retryable: true,
          }),
        );
      };
      socket.onopen = () => {
        clearTimeout(timer);
        socket.onclose = () => this.#onDrop(socket);
        resolve(socket);
      };
    });
  }

  /** @param {WebSocket} socket a socket that just opened */
  #adopt(socket) {
    if (this.#disposed) {
      detach(socket);
      socket.close(1000, "closed by the client");
      return;
    }
    const previous = this.#socket;
    this.#socket = socket;
    this.#failedAttempts = 0;
    this.#clearTimer("reconnect"); // a renewal that finished after a drop: this is the reconnect
    const resumed = this.#everOpened;
    this.#everOpened = true;
    this.#setTimer("ping", this.#options.pingIntervalMs, () => this.#ping(socket));
    this.#setTimer("renew", this.#options.maxConnectionAgeMs, () => this.#renew());
    this.#scheduleReauth();
    this.#setState("open");
    for (const waiter of this.#openWaiters) waiter.resolve();
    this.#openWaiters.clear();
    if (previous !== null) setTimeout(() => previous.close(1000, "replaced by a new connection"), HANDOVER_GRACE_MS);
    if (resumed) for (const timeline of this.#timelines.values()) void timeline.resume();
    void this.#pumpOutbox();
  }

  /** @param {WebSocket} socket a socket that closed (or was given up) */
  #onDrop(socket) {
    detach(socket);
    for (const [requestId, request] of this.#pending) {
      if (request.socket !== socket) continue;
      const lost = new ChatError("CONNECTION_LOST", `the connection dropped before the ${request.action} reply`, {
        retryable: true,
        action: request.action,
      });
      this.#settle(requestId, request, () => request.reject(lost));
    }
    if (socket !== this.#socket || this.#disposed) return;
    this.#socket = null;
    for (const name of ["ping", "renew", "reauth"]) this.#clearTimer(name);
    this.#setState("reconnecting");
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const delay = backoffDelay(this.#failedAttempts, this.#options.reconnect);
    this.#setTimer("reconnect", delay, async () => {
      try {
        this.#adopt(await this.#openSocket());
      } catch (error) {
        if (this.#disposed) return;
        this.#failedAttempts += 1;
        this.#emit("error", asChatError(error, "CONNECT_FAILED"));
        this.#scheduleReconnect();
      }
    });
  }

  /** The planned reconnect before API Gateway's 2-hour limit: open the new connection, then swap. */
  async #renew() {
    try {
      this.#adopt(await this.#openSocket());
    } catch (error) {
      if (this.#disposed || this.#socket === null) return;
      this.#failedAttempts += 1;
      this.#emit("error", asChatError(error, "CONNECT_FAILED"));
      this.#setTimer("renew", backoffDelay(this.#failedAttempts, this.#options.reconnect), () => this.#renew());
    }
  }

  /** @param {WebSocket} socket */
  async #ping(socket) {
    try {
      await this.#exchange("ping", {}, Date.now() + this.#options.requestTimeoutMs);
    } catch (error) {
      // No pong in time: the connection is dead even if the socket has not noticed (a half-open TCP).
      if (error instanceof ChatError && error.code === "TIMEOUT" && socket === this.#socket) {
        socket.close(4000, "no pong");
        this.#onDrop(socket);
        return;
      }
    }
    if (socket === this.#socket) this.#setTimer("ping", this.#options.pingIntervalMs, () => this.#ping(socket));
  }

  // --- tokens ------------------------------------------------------------------------------

  /** @param {string} token */
  #useToken(token) {
    const { exp, sub } = claimsOf(token);
    this.#tokenExpiry = typeof exp === "number" ? exp : undefined;
    if (typeof sub === "string") this.#userId = sub;
  }

  #scheduleReauth() {
    if (this.#tokenExpiry === undefined) return;
    const due = this.#tokenExpiry * 1000 - this.#options.reauthBeforeExpiryMs - Date.now();
    this.#setTimer("reauth", Math.max(MIN_REAUTH_DELAY_MS, due), () => {
      this.#reauth().catch((error) => {
        this.#emit("error", asChatError(error, "TOKEN_INVALID"));
        if (this.#state === "open") this.#setTimer("reauth", MIN_REAUTH_DELAY_MS * 5, () => this.#scheduleReauth());
      });
    });
  }

  /** Sends `reauth` with a fresh token (one at a time); resolves with the `reauthenticated` frame. */
  #reauth() {
    this.#reauthing ??= (async () => {
      const token = await this.#options.getToken();
      const reply = await this.#exchange("reauth", { idToken: token }, Date.now() + this.#options.requestTimeoutMs);
      this.#useToken(token);
      this.#scheduleReauth();
      return reply;
    })().finally(() => {
      this.#reauthing = null;
    });
    return this.#reauthing;
  }

  // --- requests ----------------------------------------------------------------------------

  /**
   * @param {string} action
   * @param {Record<string, unknown>} fields
   * @param {number} deadline epoch milliseconds
   * @returns {Promise<Frame>}
   */
  async #exchange(action, fields, deadline) {
    await this.#whenOpen(deadline, action);
    const socket = /** @type {WebSocket} */ (this.#socket);
    const requestId = newId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const timeout = new ChatError("TIMEOUT", `no reply to ${action} in time`, { retryable: true, action, requestId });
          this.#settle(requestId, request, () => reject(timeout));
        },
        Math.max(0, deadline - Date.now()),
      );
      /** @type {PendingRequest} */
      const request = { socket, action, resolve, reject, timer };
      this.#pending.set(requestId, request);
      socket.send(JSON.stringify({ ...fields, action, requestId }));
    });
  }

  /**
   * @param {number} deadline
   * @param {string} [action]
   * @returns {Promise<void>}
   */
  #whenOpen(deadline, action) {
    if (this.#disposed) return Promise.reject(closedError());
    if (this.#state === "open") return Promise.resolve();
    if (this.#state === "closed" && this.#connecting === null) {
      return Promise.reject(new ChatError("NOT_CONNECTED", "call connect() first", { action }));
    }
    return new Promise((resolve, reject) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        /** @param {ChatError} error */
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (Number.isFinite(deadline)) {
        timer = setTimeout(
          () => {
            this.#openWaiters.delete(waiter);
            reject(new ChatError("TIMEOUT", `not connected in time for ${action}`, { retryable: true, action }));
          },
          Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())),
        );
      }
      this.#openWaiters.add(waiter);
    });
  }

  /** @param {ChatError} error */
  #failOpenWaiters(error) {
    for (const waiter of this.#openWaiters) waiter.reject(error);
    this.#openWaiters.clear();
  }

  /**
   * @param {string} requestId
   * @param {PendingRequest} request
   * @param {() => void} outcome
   */
  #settle(requestId, request, outcome) {
    if (this.#pending.get(requestId) !== request) return;
    this.#pending.delete(requestId);
    clearTimeout(request.timer);
    outcome();
  }

  // --- frames ------------------------------------------------------------------------------

  /**
   * @param {WebSocket} socket
   * @param {unknown} data
   */
  #onMessage(socket, data) {
    let frame;
    try {
      frame = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(/** @type {ArrayBuffer} */ (data)));
    } catch {
      frame = undefined;
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame) || typeof frame.type !== "string") {
      this.#emit("error", new ChatError("BAD_FRAME", "the server sent a frame that is not a typed JSON object"));
      return;
    }
    if (typeof frame.requestId === "string") {
      const request = this.#pending.get(frame.requestId);
      if (request !== undefined) {
        const reply = frame;
        this.#settle(frame.requestId, request, () =>
          reply.type === "error" ? request.reject(ChatError.fromFrame(reply)) : request.resolve(reply),
        );
      }
      return; // a reply nobody waits for any more (it timed out)
    }
    // The replaced connection's events are doubles, except those of the timelines (which drop doubles).
    if (socket !== this.#socket && !TIMELINE_FRAMES.has(frame.type)) return;
    this.#onEvent(frame);
  }

  /** @param {Frame} frame a server frame that is not a reply */
  #onEvent(frame) {
    switch (frame.type) {
      case "message": {
        const { type: _type, ...message } = frame;
        void this.#timeline(frame.roomId).receive(/** @type {Message} */ (message));
        return;
      }
      case "messageEdited": {
        const { type: _type, ...edit } = frame;
        void this.#timeline(frame.roomId).applyEdit(/** @type {Edit} */ (edit));
        return;
      }
      case "messageDeleted": {
        const { type: _type, ...tombstone } = frame;
        void this.#timeline(frame.roomId).applyDelete(/** @type {Tombstone} */ ({ ...tombstone, deleted: true }));
        return;
      }
      case "room":
        this.#timeline(frame.room.roomId).startAt(0);
        break;
      case "memberLeft":
        if (frame.userId === this.#userId) this.#timelines.delete(frame.roomId); // left on another device
        break;
      case "sessionExpired":
        // No room traffic reaches this connection until a reauth, and it closes at `closesAt`: reauth
        // now (the renewal path), then fetch what the rooms said meanwhile.
        this.#reauth().then(
          () => {
            for (const timeline of this.#timelines.values()) void timeline.resume();
          },
          (error) => this.#emit("error", asChatError(error, "TOKEN_INVALID")),
        );
        break;
      case "error":
        this.#emit("error", ChatError.fromFrame(/** @type {any} */ (frame)));
        return;
    }
    this.#emit(/** @type {keyof ChatEvents} */ (frame.type), frame);
  }

  /**
   * The quote of the message at `seq`, when the room's timeline holds it.
   * @param {string} roomId
   * @param {number | undefined} seq
   */
  #quote(roomId, seq) {
    const parent = seq === undefined ? undefined : this.messages(roomId).find((entry) => entry.seq === seq);
    return parent === undefined ? undefined : quoteOf(parent);
  }

  /** @param {string} roomId */
  #timeline(roomId) {
    let timeline = this.#timelines.get(roomId);
    if (timeline === undefined) {
      timeline = new RoomTimeline({
        fetch: async (after, before) => {
          const reply = await this.request("getMessages", { roomId, after, before, limit: HISTORY_PAGE });
          return { items: reply.items, hasMore: reply.hasMore };
        },
        deliver: (message) => this.#emit("message", message),
        change: (change) => {
          if ("deleted" in change) this.#emit("messageDeleted", change);
          else this.#emit("messageEdited", change);
        },
        report: (error) => {
          const failure = asChatError(error, "INTERNAL_ERROR");
          // Removed from the room (left elsewhere, or the room is gone): stop following it.
          if (failure.code === "NOT_A_MEMBER" || failure.code === "ROOM_NOT_FOUND") this.#timelines.delete(roomId);
          else this.#emit("error", failure);
        },
      });
      this.#timelines.set(roomId, timeline);
    }
    return timeline;
  }

  // --- the outbox --------------------------------------------------------------------------

  /** Sends the outbox's messages one at a time, in order, until it is empty. */
  async #pumpOutbox() {
    if (this.#pumping) return;
    this.#pumping = true;
    let retries = 0;
    try {
      while (this.#outbox.length > 0 && !this.#disposed) {
        const entry = this.#outbox[0];
        try {
          await this.#whenOpen(Infinity, "sendMessage");
          const { roomId, content, clientMessageId, replyTo, mentions } = entry;
          const ack = await this.request("sendMessage", { roomId, content, clientMessageId, replyTo, mentions });
          this.#outbox.shift();
          retries = 0;
          entry.resolve(ack);
          void this.#timeline(roomId).receive(ownMessage(ack, this.#userId ?? "", entry, this.#quote(roomId, replyTo)));
        } catch (error) {
          if (this.#disposed) return;
          const failure = asChatError(error, "INTERNAL_ERROR");
          if (failure.code === "NOT_CONNECTED") return; // resumed by connect()
          if (!failure.retryable) {
            this.#outbox.shift();
            entry.reject(failure);
            continue;
          }
          if (failure.code !== "CONNECTION_LOST") {
            await sleep(backoffDelay(retries, this.#options.reconnect));
            retries += 1;
          }
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  // --- plumbing ----------------------------------------------------------------------------

  /** @param {ConnectionState} state */
  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.#emit("state", state);
  }

  /**
   * @template {keyof ChatEvents} K
   * @param {K} type
   * @param {ChatEvents[K]} payload
   */
  #emit(type, payload) {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`a ChatClient ${type} listener threw`, error);
      }
    }
  }

  /**
   * @param {string} name
   * @param {number} delay
   * @param {() => void} run
   */
  #setTimer(name, delay, run) {
    this.#clearTimer(name);
    if (this.#disposed) return;
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        run();
      }, Math.min(MAX_TIMER_MS, delay)),
    );
  }

  /** @param {string} name */
  #clearTimer(name) {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }
}

/**
 * The message an ack stands for: the sender's connection is not sent its own `message` frame. Its
 * quote is the parent as the client holds it (none when it holds none: the history has it), its
 * mentions those sent (the server drops non-members' silently: the history has those it kept).
 * @param {Frame} ack
 * @param {string} senderId
 * @param {OutboxEntry} sent
 * @param {Quote | undefined} replyTo
 * @returns {Message}
 */
function ownMessage(ack, senderId, { content, mentions }, replyTo) {
  const { roomId, messageId, seq, createdAt, clientMessageId } = ack;
  const named = [...new Set(mentions)];
  return {
    roomId,
    messageId,
    seq,
    senderId,
    content,
    createdAt,
    version: 1,
    ...(clientMessageId ? { clientMessageId } : {}),
    ...(replyTo ? { replyTo } : {}),
    ...(named.length > 0 ? { mentions: named } : {}),
  };
}

/**
 * Newest last message first; rooms with none keep their order, after the others (sort is stable).
 * @param {RoomListing} a
 * @param {RoomListing} b
 */
function byRecency(a, b) {
  const at = (/** @type {RoomListing} */ room) => room.lastMessage?.createdAt ?? "";
  return at(b).localeCompare(at(a));
}

/** @param {WebSocket} socket */
function detach(socket) {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => {};
}

function closedError() {
  return new ChatError("CLOSED", "the client was closed");
}

/**
 * @param {unknown} error
 * @param {string} code the code to give anything that is not a ChatError yet
 */
function asChatError(error, code) {
  if (error instanceof ChatError) return error;
  return new ChatError(code, error instanceof Error ? error.message : String(error), { retryable: true });
}

/** A random id of 32 hex characters (works outside secure contexts, unlike crypto.randomUUID). */
function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
