/** Rendering: the rooms list, the message log, members, typing. Text only (never HTML from the network). */

import { replyQuote } from "@serverless-chat/client";

/** @typedef {import("./store.js").RoomStore} RoomStore */
/** @typedef {import("./store.js").Room} Room */
/** @typedef {import("./store.js").Message} Message */
/** @typedef {import("./store.js").Entry} Entry */
/**
 * What the buttons on messages do (Reply on every one, Edit and Delete on your own).
 * @typedef {object} MessageActions
 * @property {(message: Message) => void} reply
 * @property {(message: Message) => void} edit
 * @property {(message: Message) => void} remove
 */

/** The server counts at most this many mentions of you in a room: show "99+". */
const MENTIONS_SHOWN = 99;

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** @param {string} iso */
function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * @param {HTMLUListElement} list
 * @param {RoomStore} store
 * @param {string | undefined} currentId
 * @param {(roomId: string) => void} open
 */
export function renderRooms(list, store, currentId, open) {
  list.replaceChildren(
    ...store.ordered().map((room) => {
      const button = element("button", { type: "button" }, [room.name]);
      if (room.roomId === currentId) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => open(room.roomId));
      const item = element("li", {}, [button]);
      const count = memberCount(room);
      if (count !== undefined) {
        item.append(element("span", { class: "count", "aria-label": count.label, title: count.label }, [count.text]));
      }
      if (room.unreadCount > 0) {
        const label = `${room.unreadCount} unread`;
        item.append(element("span", { class: "unread", "aria-label": label, title: label }, [String(room.unreadCount)]));
      }
      if (room.mentionCount > 0) {
        const count = room.mentionCount > MENTIONS_SHOWN ? `${MENTIONS_SHOWN}+` : String(room.mentionCount);
        const label = `${count} ${room.mentionCount === 1 ? "mention" : "mentions"} of you`;
        item.append(element("span", { class: "mentions", "aria-label": label, title: label }, [`@${count}`]));
      }
      return item;
    }),
  );
}

/**
 * "online/members" where the backend counts them in `listRooms` (presence), else nothing.
 * @param {Room} room
 */
function memberCount(room) {
  if (room.memberCount === undefined) return undefined;
  if (room.onlineCount === undefined) return { text: String(room.memberCount), label: `${room.memberCount} members` };
  return { text: `${room.onlineCount}/${room.memberCount}`, label: `${room.onlineCount} of ${room.memberCount} online` };
}

/**
 * A message: the quote of the one it answers, its content (`@name`s marked), "(edited)" once
 * edited, Reply, and Edit and Delete on your own; one that mentions you is marked; a deleted one is
 * a placeholder in its place.
 * @param {Entry} message
 * @param {RoomStore} store
 * @param {Room} room
 * @param {MessageActions} actions
 */
function messageNode(message, store, room, actions) {
  const mine = message.senderId !== undefined && message.senderId === store.me;
  const named = !("deleted" in message) && store.me !== undefined && Boolean(message.mentions?.includes(store.me));
  const classes = ["message", ...(mine ? ["mine"] : []), ...(named ? ["mentions-you"] : []), ...("deleted" in message ? ["deleted"] : [])];
  const node = element("article", { class: classes.join(" "), "data-seq": String(message.seq) }, [
    messageHeader(message, store),
  ]);
  if ("deleted" in message) {
    node.append(element("p", { class: "placeholder" }, ["Message deleted"]));
    return node;
  }
  if (message.replyTo !== undefined) node.append(quoteNode(message.replyTo, store, room));
  node.append(element("p", { class: "content" }, contentOf(message, store)), messageActions(message, mine, actions));
  return node;
}

/**
 * The message a reply answers, as the page holds it when it holds it (a live frame's quote may be older).
 * @param {import("./store.js").Quote} quote
 * @param {RoomStore} store
 * @param {Room} room
 */
function quoteNode(quote, store, room) {
  const shown = replyQuote(quote, room.messages.get(quote.messageId));
  const text = "deleted" in shown ? "Original message deleted" : `${store.nameOf(shown.senderId)}: ${shown.excerpt}`;
  return element("blockquote", { class: "quote", "data-seq": String(shown.seq) }, [text]);
}

/**
 * A message's text with each `@name` of someone it mentions marked.
 * @param {Message} message
 * @param {RoomStore} store
 * @returns {(Node | string)[]}
 */
function contentOf(message, store) {
  const { content } = message;
  /** @type {(Node | string)[]} */
  const parts = [];
  let at = 0;
  for (const { index, length } of store.mentionsOf(message.mentions ?? [], content)) {
    parts.push(content.slice(at, index), element("mark", { class: "mention" }, [content.slice(index, index + length)]));
    at = index + length;
  }
  parts.push(content.slice(at));
  return parts;
}

/**
 * Who sent it and when (what is known of a deleted one), and the edited mark.
 * @param {Entry} message
 * @param {RoomStore} store
 */
function messageHeader(message, store) {
  const header = element("header");
  if (message.senderId !== undefined) header.append(element("span", { class: "sender" }, [store.nameOf(message.senderId)]));
  if (message.createdAt !== undefined) {
    header.append(" ", element("time", { datetime: message.createdAt }, [clock(message.createdAt)]));
  }
  if (!("deleted" in message) && message.editedAt !== undefined) {
    header.append(" ", element("span", { class: "edited", title: `Edited at ${clock(message.editedAt)}` }, ["(edited)"]));
  }
  return header;
}

/**
 * @param {Message} message
 * @param {boolean} mine
 * @param {MessageActions} actions
 */
function messageActions(message, mine, actions) {
  const buttons = [actionButton("Reply", () => actions.reply(message))];
  if (mine) buttons.push(actionButton("Edit", () => actions.edit(message)), actionButton("Delete", () => actions.remove(message)));
  return element("p", { class: "actions" }, buttons);
}

/**
 * @param {string} label
 * @param {() => void} click
 */
function actionButton(label, click) {
  const node = element("button", { type: "button" }, [label]);
  node.addEventListener("click", click);
  return node;
}

/**
 * The log of one room: its messages in seq order, read receipts, then messages still being sent.
 * @param {HTMLElement} log
 * @param {RoomStore} store
 * @param {Room} room
 * @param {Map<string, {roomId: string, content: string, error?: string}>} pending by clientMessageId
 * @param {MessageActions} actions
 */
export function renderLog(log, store, room, pending, actions) {
  const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const receipts = store.receipts(room);
  const nodes = store.timeline(room).map((message) => {
    const node = messageNode(message, store, room, actions);
    const readers = receipts.get(message.messageId);
    if (readers) node.append(element("p", { class: "receipt" }, [`Read by ${readers.join(", ")}`]));
    return node;
  });
  for (const [clientMessageId, entry] of pending) {
    if (entry.roomId !== room.roomId) continue;
    const state = entry.error ? `Not sent: ${entry.error}` : "Sending…";
    nodes.push(
      element("article", { class: "message mine pending", "data-client-message-id": clientMessageId }, [
        element("header", {}, [element("span", { class: "sender" }, [store.nameOf(store.me ?? "")])]),
        element("p", { class: "content" }, [entry.content]),
        element("p", { class: entry.error ? "receipt error" : "receipt" }, [state]),
      ]),
    );
  }
  log.replaceChildren(...nodes);
  if (stick) log.scrollTop = log.scrollHeight;
}

/**
 * @param {HTMLUListElement} list
 * @param {RoomStore} store
 * @param {Room | undefined} room
 */
export function renderMembers(list, store, room) {
  const members = room ? [...room.members.values()] : [];
  members.sort((a, b) => store.nameOf(a.userId).localeCompare(store.nameOf(b.userId)));
  list.replaceChildren(
    ...members.map((member) => {
      const presence = member.online === undefined ? "" : member.online ? "online" : "offline";
      const item = element("li", presence ? { class: presence } : {}, [store.nameOf(member.userId)]);
      if (presence) item.append(" ", element("span", { class: "presence" }, [presence]));
      return item;
    }),
  );
}

/**
 * @param {HTMLElement} line
 * @param {RoomStore} store
 * @param {Iterable<string>} typists user ids typing in the open room
 */
export function renderTyping(line, store, typists) {
  const names = [...typists].map((userId) => store.nameOf(userId));
  line.textContent =
    names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}
