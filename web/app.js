/**
 * The chat page: sign in, then one ChatClient connection; the client keeps it alive, resumes and
 * de-duplicates, and the page renders what it reports.
 */

import { ChatClient, quoteOf } from "@serverless-chat/client";
import { completeManagedLogin, resumeSession, signInWithPassword, startManagedLogin } from "./auth.js";
import { loadConfig } from "./config.js";
import { RoomStore } from "./store.js";
import { renderLog, renderMembers, renderRooms, renderTyping } from "./view.js";

/** @typedef {import("./auth.js").Session} Session */
/** @typedef {import("./config.js").ChatConfig} ChatConfig */
/** @typedef {import("./store.js").Room} Room */
/** @typedef {import("./store.js").Message} Message */
/** @typedef {import("./store.js").Edit} Edit */
/** @typedef {import("./store.js").Tombstone} Tombstone */

const HISTORY_PAGE = 50;
/**
 * Send `typing` at most this often while the user types (the server drops more than one per room every
 * 2 s): at once, or at the end of the window when one was sent within it.
 */
const TYPING_EVERY_MS = 2_500;
/** Show "… is typing" this long after the last `typing` frame. */
const TYPING_SHOWN_MS = 4_000;
const STATES = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", closed: "Disconnected" };

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  return /** @type {T} */ (document.getElementById(id));
}

const ui = {
  status: byId("status"),
  me: byId("me"),
  signOut: /** @type {HTMLButtonElement} */ (byId("sign-out")),
  signIn: byId("sign-in"),
  passwordForm: /** @type {HTMLFormElement} */ (byId("password-form")),
  managed: byId("managed"),
  managedLogin: byId("managed-login"),
  signInError: byId("sign-in-error"),
  chat: byId("chat"),
  rooms: /** @type {HTMLUListElement} */ (byId("rooms")),
  newRoom: byId("new-room"),
  createRoom: /** @type {HTMLFormElement} */ (byId("create-room")),
  joinRoom: /** @type {HTMLFormElement} */ (byId("join-room")),
  roomError: byId("room-error"),
  roomTitle: byId("room-title"),
  roomIdLine: byId("room-id-line"),
  roomId: byId("room-id"),
  older: /** @type {HTMLButtonElement} */ (byId("older")),
  log: byId("log"),
  typing: byId("typing"),
  editing: byId("editing"),
  cancelEdit: byId("cancel-edit"),
  replying: byId("replying"),
  replyQuote: byId("reply-quote"),
  cancelReply: byId("cancel-reply"),
  compose: /** @type {HTMLFormElement} */ (byId("compose")),
  content: /** @type {HTMLInputElement} */ (byId("content")),
  send: /** @type {HTMLButtonElement} */ (byId("send")),
  members: /** @type {HTMLUListElement} */ (byId("members")),
};

/** One signed-in user's chat: the client, what it has told us, and the open room. */
class ChatPage {
  store = new RoomStore();
  /** @type {string | undefined} */
  currentId;
  /** @type {Map<string, {roomId: string, content: string, error?: string}>} by clientMessageId */
  pending = new Map();
  /** @type {Map<string, ReturnType<typeof setTimeout>>} userId -> when their typing line goes */
  typists = new Map();
  lastTypingSent = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} the `typing` due at the end of the window */
  trailingTyping;
  /** @type {{roomId: string, seq: number, draft: string} | undefined} the message in the compose box, and what it replaced */
  editing;
  /** @type {{messageId: string, seq: number} | undefined} the message of the open room the next send answers */
  replying;
  /** @type {import("./view.js").MessageActions} */
  actions = {
    reply: (message) => this.startReplying(message),
    edit: (message) => this.startEditing(message),
    remove: (message) => this.remove(message),
  };
  /** Removes the page's form listeners when it is given up (a failed start). */
  #listeners = new AbortController();

  /**
   * @param {ChatConfig} config
   * @param {Session} session
   */
  constructor(config, session) {
    this.session = session;
    this.client = new ChatClient({ url: config.websocketUrl, getToken: () => session.getToken() });
  }

  async start() {
    this.listen();
    this.bindForms();
    await this.client.connect();
    const identity = await this.client.whoami();
    this.store.me = identity.userId;
    this.store.learnName(identity.userId, identity.displayName ?? identity.email ?? identity.username);
    ui.me.textContent = `Signed in as ${identity.displayName ?? identity.email ?? identity.username}`;
    ui.me.hidden = false;
    ui.signOut.hidden = false;
    ui.signIn.hidden = true;
    ui.chat.hidden = false;
    await this.refreshRooms();
    const linked = new URLSearchParams(location.hash.slice(1)).get("room");
    if (linked) await this.guard(ui.roomError, () => this.join(linked)); // e.g. FORBIDDEN: a closed room
  }

  listen() {
    const { client, store } = this;
    client.on("state", (state) => {
      ui.status.textContent = STATES[state];
      this.renderMembers(); // you are online while connected
    });
    client.on("error", (error) => {
      if (client.state !== "open") ui.status.textContent = `${STATES[client.state]} (${error.message})`;
    });
    client.on("message", (message) => this.onMessage(message));
    client.on("messageEdited", (edit) => this.onChange(edit));
    client.on("messageDeleted", (tombstone) => this.onChange(tombstone));
    client.on("room", ({ room }) => {
      store.upsert(room);
      this.renderRooms();
    });
    client.on("typing", ({ roomId, userId, displayName }) => {
      store.learnName(userId, displayName);
      const room = store.rooms.get(roomId);
      if (room !== undefined) store.addMember(room, userId).online = true; // typing takes a connection
      if (roomId !== this.currentId) return;
      clearTimeout(this.typists.get(userId));
      this.typists.set(
        userId,
        setTimeout(() => this.stopTyping(userId), TYPING_SHOWN_MS),
      );
      this.renderTyping();
    });
    client.on("read", ({ roomId, userId, seq, displayName }) => {
      store.learnName(userId, displayName);
      const room = store.rooms.get(roomId);
      if (room === undefined) return;
      store.markReader(room, userId, seq);
      if (roomId === this.currentId) this.renderLog();
    });
    client.on("memberJoined", ({ roomId, userId, displayName }) => this.onMembership(roomId, userId, displayName, true));
    client.on("memberLeft", ({ roomId, userId, displayName }) => this.onMembership(roomId, userId, displayName, false));
    client.on("presence", ({ roomId, userId, displayName, online }) => {
      store.learnName(userId, displayName);
      const room = store.rooms.get(roomId);
      if (room === undefined) return;
      store.addMember(room, userId).online = Boolean(online);
      if (roomId === this.currentId) this.renderMembers();
    });
  }

  /** Stops everything this page started. */
  dispose() {
    this.#listeners.abort();
    this.cancelTyping();
    this.client.close();
  }

  bindForms() {
    const options = { signal: this.#listeners.signal };
    ui.newRoom.addEventListener("click", () => {
      ui.createRoom.hidden = !ui.createRoom.hidden;
      ui.newRoom.setAttribute("aria-expanded", String(!ui.createRoom.hidden));
      if (!ui.createRoom.hidden) /** @type {HTMLInputElement} */ (ui.createRoom.elements.namedItem("name")).focus();
    }, options);
    ui.createRoom.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(ui.createRoom);
      const memberIds = String(form.get("members") ?? "")
        .split(/[\s,]+/)
        .filter(Boolean);
      const request = { name: String(form.get("name")), open: form.get("open") === "on", ...(memberIds.length ? { memberIds } : {}) };
      this.guard(ui.roomError, async () => {
        const room = this.store.upsert(await this.client.createRoom(request));
        ui.createRoom.reset();
        ui.createRoom.hidden = true;
        ui.newRoom.setAttribute("aria-expanded", "false");
        await this.open(room.roomId);
      });
    }, options);
    ui.joinRoom.addEventListener("submit", (event) => {
      event.preventDefault();
      const roomId = String(new FormData(ui.joinRoom).get("roomId")).trim();
      this.guard(ui.roomError, async () => {
        await this.join(roomId);
        ui.joinRoom.reset();
      });
    }, options);
    ui.older.addEventListener("click", () => this.guard(ui.roomError, () => this.loadOlder()), options);
    const { content } = ui;
    content.addEventListener("input", () => this.onTyping(), options);
    content.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      this.stopEditing();
      this.stopReplying();
    }, options);
    ui.cancelEdit.addEventListener("click", () => this.stopEditing(), options);
    ui.cancelReply.addEventListener("click", () => this.stopReplying(), options);
    ui.compose.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.currentId === undefined || content.value.trim() === "") return;
      this.cancelTyping(); // what was typed goes now: no `typing` after it
      if (this.editing !== undefined) {
        void this.saveEdit(this.editing, content.value);
        return;
      }
      this.send(this.currentId, content.value, this.replying?.seq);
      content.value = "";
      this.stopReplying();
    }, options);
    ui.signOut.addEventListener("click", () => {
      this.client.close();
      const logout = this.session.signOut();
      history.replaceState(null, "", location.pathname);
      if (logout) location.assign(logout);
      else location.reload();
    }, options);
  }

  /**
   * Runs a user action; a failure is shown in `where` instead of being lost.
   * @param {HTMLElement} where
   * @param {() => Promise<void>} action
   */
  async guard(where, action) {
    where.textContent = "";
    try {
      await action();
    } catch (error) {
      where.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  async refreshRooms() {
    for (const item of await this.client.listRooms()) this.store.upsert(item);
    this.renderRooms();
  }

  /** Joins a room (a no-op for a room one is a member of) and opens it. @param {string} roomId */
  async join(roomId) {
    if (!this.store.rooms.has(roomId)) {
      await this.client.joinRoom(roomId);
      await this.refreshRooms();
    }
    await this.open(roomId);
  }

  /** @param {string} roomId */
  async open(roomId) {
    const room = this.store.rooms.get(roomId);
    if (room === undefined) return;
    this.stopEditing();
    this.stopReplying();
    this.cancelTyping();
    this.currentId = roomId;
    history.replaceState(null, "", `#room=${encodeURIComponent(roomId)}`);
    for (const timer of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    ui.roomTitle.textContent = room.name;
    ui.roomId.textContent = roomId;
    ui.roomIdLine.hidden = false;
    for (const control of ui.compose.querySelectorAll("input, button")) {
      /** @type {HTMLInputElement} */ (control).disabled = false;
    }
    this.renderAll();
    if (!room.historyLoaded) {
      const page = await this.client.getMessages(roomId, { limit: HISTORY_PAGE });
      this.store.addMessages(room, page.items);
      room.hasOlder = page.hasMore;
      room.historyLoaded = true;
    }
    await this.loadMembers(room);
    this.markRead(room);
    this.renderAll();
  }

  /** The room's members with names and presence, where the backend has `getMembers`. @param {Room} room */
  async loadMembers(room) {
    try {
      const page = await this.client.getMembers(room.roomId);
      for (const member of page.items ?? page.members ?? []) {
        this.store.learnName(member.userId, member.displayName);
        const known = this.store.addMember(room, member.userId);
        if (typeof member.online === "boolean") known.online = member.online;
      }
    } catch (error) {
      // A backend without getMembers: members are learned from messages and events instead.
      if (/** @type {{code?: string}} */ (error).code !== "UNKNOWN_ACTION") throw error;
    }
  }

  async loadOlder() {
    const room = this.currentRoom();
    if (room === undefined) return;
    const page = await this.client.getMessages(room.roomId, { before: this.store.firstSeq(room), limit: HISTORY_PAGE });
    this.store.addMessages(room, page.items);
    room.hasOlder = page.hasMore;
    const firstBefore = ui.log.firstElementChild;
    this.renderLog();
    firstBefore?.scrollIntoView?.();
  }

  /**
   * Sends through the client's outbox; shown as "Sending…" until acknowledged. The members named by
   * an `@name` in it are its mentions.
   * @param {string} roomId
   * @param {string} content
   * @param {number} [replyTo] the seq of the message it answers
   */
  send(roomId, content, replyTo) {
    const room = this.store.rooms.get(roomId);
    const parent = room && this.store.timeline(room).find((message) => message.seq === replyTo);
    const mentions = room ? this.store.mentionsIn(room, content) : [];
    const clientMessageId = crypto.getRandomValues(new Uint32Array(4)).join("-");
    this.pending.set(clientMessageId, { roomId, content });
    this.renderLog();
    const options = { clientMessageId, ...(replyTo ? { replyTo } : {}), ...(mentions.length ? { mentions } : {}) };
    this.client.sendMessage(roomId, content, options).then(
      (ack) => {
        this.pending.delete(clientMessageId);
        this.onMessage({
          roomId,
          messageId: ack.messageId,
          seq: ack.seq,
          senderId: this.store.me ?? "",
          content,
          createdAt: ack.createdAt,
          version: 1,
          clientMessageId,
          ...(parent ? { replyTo: quoteOf(parent) } : {}),
          ...(mentions.length ? { mentions } : {}),
        });
      },
      (error) => {
        const entry = this.pending.get(clientMessageId);
        if (entry) entry.error = error.message;
        this.renderLog();
      },
    );
  }

  /** @param {import("./store.js").Message} message */
  onMessage(message) {
    const room = this.store.rooms.get(message.roomId);
    if (room === undefined) {
      void this.refreshRooms();
      return;
    }
    if (this.store.addMessages(room, [message]).length === 0) return;
    if (message.senderId === this.store.me) {
      room.lastReadSeq = Math.max(room.lastReadSeq, message.seq);
    } else if (room.roomId === this.currentId) {
      this.stopTyping(message.senderId);
      this.markRead(room);
    } else {
      room.unreadCount += 1;
      if (this.store.me !== undefined && message.mentions?.includes(this.store.me)) room.mentionCount += 1;
    }
    this.renderRooms();
    if (room.roomId === this.currentId) {
      this.renderLog();
      this.renderMembers();
    }
  }

  /**
   * A message's new version or its tombstone; the one being edited, or replied to, stops being so
   * once deleted (a reply to a deleted message is refused).
   * @param {Edit | Tombstone} change
   */
  onChange(change) {
    const room = this.store.rooms.get(change.roomId);
    if (room === undefined || !this.store.change(room, change)) return;
    if ("deleted" in change && this.editing?.roomId === change.roomId && this.editing.seq === change.seq) {
      this.stopEditing();
    }
    if (this.replying?.messageId === change.messageId) {
      if ("deleted" in change) this.stopReplying();
      else this.renderCompose();
    }
    if (room.roomId === this.currentId) this.renderLog();
  }

  /**
   * The next send answers `message`: a bar above the Message box says which (× or Escape cancels).
   * @param {Message} message
   */
  startReplying(message) {
    this.stopEditing();
    this.replying = { messageId: message.messageId, seq: message.seq };
    this.renderCompose();
    ui.content.focus();
  }

  stopReplying() {
    if (this.replying === undefined) return;
    this.replying = undefined;
    this.renderCompose();
  }

  /**
   * Puts one of your messages in the compose box: Enter saves it, Escape cancels.
   * @param {Message} message
   */
  startEditing(message) {
    this.stopReplying();
    this.cancelTyping();
    this.editing = { roomId: message.roomId, seq: message.seq, draft: this.editing?.draft ?? ui.content.value };
    ui.content.value = message.content;
    this.renderCompose();
    ui.content.focus();
  }

  /** Leaves editing: the compose box gets back what was typed before. */
  stopEditing() {
    if (this.editing === undefined) return;
    ui.content.value = this.editing.draft;
    this.editing = undefined;
    this.renderCompose();
  }

  /**
   * Saves an edit; on a refusal (e.g. the message was deleted meanwhile) it stays in the compose box.
   * @param {{roomId: string, seq: number}} editing
   * @param {string} content
   */
  async saveEdit(editing, content) {
    await this.guard(ui.roomError, async () => {
      await this.client.editMessage(editing.roomId, editing.seq, content);
      if (this.editing === editing) this.stopEditing();
    });
  }

  /** @param {Message} message */
  async remove(message) {
    await this.guard(ui.roomError, async () => {
      await this.client.deleteMessage(message.roomId, message.seq);
    });
  }

  /** The user typed in the compose box: `typing` now, or once the server's interval allows it. */
  onTyping() {
    if (this.currentId === undefined || this.editing !== undefined || this.trailingTyping !== undefined) return;
    const wait = this.lastTypingSent + TYPING_EVERY_MS - Date.now();
    if (wait <= 0) {
      this.sendTyping(this.currentId);
      return;
    }
    this.trailingTyping = setTimeout(() => {
      this.trailingTyping = undefined;
      if (this.currentId !== undefined && ui.content.value.trim() !== "") this.sendTyping(this.currentId);
    }, wait);
  }

  /** @param {string} roomId */
  sendTyping(roomId) {
    this.lastTypingSent = Date.now();
    this.client.typing(roomId);
  }

  cancelTyping() {
    clearTimeout(this.trailingTyping);
    this.trailingTyping = undefined;
  }

  /**
   * @param {string} roomId
   * @param {string} userId
   * @param {string | undefined} displayName
   * @param {boolean} joined
   */
  onMembership(roomId, userId, displayName, joined) {
    this.store.learnName(userId, displayName);
    const room = this.store.rooms.get(roomId);
    if (room === undefined) return;
    if (joined) this.store.addMember(room, userId).online = true; // joining takes a connection
    else room.members.delete(userId);
    if (roomId === this.currentId) this.renderMembers();
  }

  /** Everything up to the room's last message is read: tell the server, clear the counts. @param {Room} room */
  markRead(room) {
    room.unreadCount = 0;
    room.mentionCount = 0;
    if (room.lastSeq <= room.lastReadSeq) return;
    room.lastReadSeq = room.lastSeq;
    this.client.markRead(room.roomId, room.lastSeq).catch((error) => (ui.roomError.textContent = error.message));
  }

  /** @param {string} userId */
  stopTyping(userId) {
    clearTimeout(this.typists.get(userId));
    if (this.typists.delete(userId)) this.renderTyping();
  }

  currentRoom() {
    return this.currentId === undefined ? undefined : this.store.rooms.get(this.currentId);
  }

  renderAll() {
    this.renderRooms();
    this.renderLog();
    this.renderMembers();
    this.renderTyping();
  }

  renderRooms() {
    renderRooms(ui.rooms, this.store, this.currentId, (roomId) => this.guard(ui.roomError, () => this.open(roomId)));
  }

  renderLog() {
    const room = this.currentRoom();
    if (room === undefined) return;
    ui.older.hidden = !room.hasOlder;
    renderLog(ui.log, this.store, room, this.pending, this.actions);
  }

  renderCompose() {
    ui.editing.hidden = this.editing === undefined;
    ui.send.textContent = this.editing === undefined ? "Send" : "Save";
    const room = this.currentRoom();
    const parent = this.replying && room?.messages.get(this.replying.messageId);
    ui.replying.hidden = parent === undefined;
    if (parent === undefined) return;
    const quote = quoteOf(parent);
    ui.replyQuote.textContent = "deleted" in quote ? "" : `${this.store.nameOf(quote.senderId)}: ${quote.excerpt}`;
  }

  renderMembers() {
    const room = this.currentRoom();
    if (room !== undefined && this.store.me !== undefined) {
      this.store.addMember(room, this.store.me).online = this.client.state === "open";
    }
    renderMembers(ui.members, this.store, room);
  }

  renderTyping() {
    renderTyping(ui.typing, this.store, this.typists.keys());
  }
}

/**
 * @param {ChatConfig} config
 * @param {string} [problem]
 */
function showSignIn(config, problem = "") {
  ui.status.textContent = "Signed out";
  ui.signIn.hidden = false;
  ui.chat.hidden = true;
  ui.managed.hidden = config.managedLoginUrl === undefined;
  ui.signInError.textContent = problem;
}

/**
 * @param {ChatConfig} config
 * @param {Session} session
 */
async function begin(config, session) {
  const page = new ChatPage(config, session);
  try {
    await page.start();
  } catch (error) {
    page.dispose();
    session.signOut();
    showSignIn(config, `Could not connect: ${error instanceof Error ? error.message : error}`);
  }
}

async function main() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    ui.status.textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  const ready = /** @type {ChatConfig} */ (config);
  ui.passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(ui.passwordForm);
    ui.signInError.textContent = "";
    ui.status.textContent = "Signing in…";
    try {
      const session = await signInWithPassword(ready, String(form.get("email")), String(form.get("password")));
      ui.passwordForm.reset();
      await begin(ready, session);
    } catch (error) {
      showSignIn(ready, error instanceof Error ? error.message : String(error));
    }
  });
  ui.managedLogin.addEventListener("click", () => {
    startManagedLogin(ready).catch((error) => showSignIn(ready, error.message));
  });
  let session = null;
  try {
    session = (await completeManagedLogin(ready)) ?? (await resumeSession(ready));
  } catch (error) {
    showSignIn(ready, error instanceof Error ? error.message : String(error));
    return;
  }
  if (session === null) showSignIn(ready);
  else await begin(ready, session);
}

void main();
