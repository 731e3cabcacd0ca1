/** Rendering: the rooms list, the message log, members, typing. Text only (never HTML from the network). */

/** @typedef {import("./store.js").RoomStore} RoomStore */
/** @typedef {import("./store.js").Room} Room */
/** @typedef {import("./store.js").Message} Message */
/** @typedef {import("./store.js").Entry} Entry */
/**
 * What the buttons on your own messages do.
 * @typedef {object} MessageActions
 * @property {(message: Message) => void} edit
 * @property {(message: Message) => void} remove
 */

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
 * A message: its content, "(edited)" once edited, and Edit and Delete on your own; a deleted one is
 * a placeholder in its place.
 * @param {Entry} message
 * @param {RoomStore} store
 * @param {MessageActions} actions
 */
function messageNode(message, store, actions) {
  const mine = message.senderId !== undefined && message.senderId === store.me;
  const classes = ["message", ...(mine ? ["mine"] : []), ...("deleted" in message ? ["deleted"] : [])];
  const node = element("article", { class: classes.join(" "), "data-seq": String(message.seq) }, [
    messageHeader(message, store),
  ]);
  if ("deleted" in message) {
    node.append(element("p", { class: "placeholder" }, ["Message deleted"]));
    return node;
  }
  node.append(element("p", { class: "content" }, [message.content]));
  if (mine) node.append(ownActions(message, actions));
  return node;
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
 * @param {MessageActions} actions
 */
function ownActions(message, actions) {
  const edit = element("button", { type: "button" }, ["Edit"]);
  edit.addEventListener("click", () => actions.edit(message));
  const remove = element("button", { type: "button" }, ["Delete"]);
  remove.addEventListener("click", () => actions.remove(message));
  return element("p", { class: "actions" }, [edit, remove]);
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
    const node = messageNode(message, store, actions);
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
