/**
 * What the page knows about the user's rooms: messages (each once, in seq order), unread counts,
 * members with their names and presence, and how far each member has read. No DOM here.
 */

/**
 * @typedef {object} Message
 * @property {string} roomId
 * @property {string} messageId
 * @property {number} seq
 * @property {string} senderId
 * @property {string} content
 * @property {string} createdAt
 * @property {string} [clientMessageId]
 * @property {string} [displayName]
 *
 * @typedef {object} Member
 * @property {string} userId
 * @property {boolean | undefined} online undefined until a `presence` frame says
 *
 * @typedef {object} Room
 * @property {string} roomId
 * @property {string} name
 * @property {boolean} open
 * @property {number} unreadCount
 * @property {number} lastReadSeq
 * @property {number} lastSeq
 * @property {Map<string, Message>} messages by messageId
 * @property {boolean} historyLoaded
 * @property {boolean} hasOlder
 * @property {Map<string, Member>} members by userId
 * @property {Map<string, number>} readers userId -> the seq they have read up to
 * @property {number} [memberCount] from `listRooms`, where the backend counts members
 * @property {number} [onlineCount] from `listRooms`, where the backend has presence
 */

export class RoomStore {
  /** @type {Map<string, Room>} */
  rooms = new Map();
  /** @type {Map<string, string>} userId -> display name, from any frame that carried one */
  names = new Map();
  /** @type {string | undefined} */
  me;

  /**
   * A room from `listRooms` items, a `room` frame's room, or a `createRoom` reply.
   * @param {{roomId: string, name: string, open?: boolean, unreadCount?: number, lastReadSeq?: number,
   *   lastMessage?: Message | null, memberIds?: string[], memberCount?: number, onlineCount?: number}} item
   * @returns {Room}
   */
  upsert(item) {
    /** @type {Room} */
    const room = this.rooms.get(item.roomId) ?? {
      roomId: item.roomId,
      name: item.name,
      open: Boolean(item.open),
      unreadCount: 0,
      lastReadSeq: 0,
      lastSeq: 0,
      messages: new Map(),
      historyLoaded: false,
      hasOlder: false,
      members: new Map(),
      readers: new Map(),
    };
    room.name = item.name;
    room.open = Boolean(item.open);
    if (item.unreadCount !== undefined) room.unreadCount = item.unreadCount;
    if (item.lastReadSeq !== undefined) room.lastReadSeq = item.lastReadSeq;
    if (item.lastMessage) room.lastSeq = Math.max(room.lastSeq, item.lastMessage.seq);
    if (typeof item.memberCount === "number") room.memberCount = item.memberCount;
    if (typeof item.onlineCount === "number") room.onlineCount = item.onlineCount;
    for (const userId of item.memberIds ?? []) this.addMember(room, userId);
    this.rooms.set(room.roomId, room);
    return room;
  }

  /** Rooms, most recently active first. */
  ordered() {
    return [...this.rooms.values()].sort((a, b) => b.lastSeq - a.lastSeq || a.name.localeCompare(b.name));
  }

  /**
   * Adds messages (live or from history); returns those that were new.
   * @param {Room} room
   * @param {Message[]} messages
   */
  addMessages(room, messages) {
    const added = [];
    for (const message of messages) {
      if (room.messages.has(message.messageId)) continue;
      room.messages.set(message.messageId, message);
      room.lastSeq = Math.max(room.lastSeq, message.seq);
      this.learnName(message.senderId, message.displayName);
      this.addMember(room, message.senderId);
      // Sending moves the sender's read position to their message, with no `read` frame for it.
      this.markReader(room, message.senderId, message.seq);
      added.push(message);
    }
    return added;
  }

  /**
   * A member has read up to `seq` (positions only move forward).
   * @param {Room} room
   * @param {string} userId
   * @param {number} seq
   */
  markReader(room, userId, seq) {
    room.readers.set(userId, Math.max(seq, room.readers.get(userId) ?? 0));
  }

  /** @param {Room} room @returns {Message[]} ascending seq */
  timeline(room) {
    return [...room.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  /** @param {Room} room */
  firstSeq(room) {
    let first = Infinity;
    for (const message of room.messages.values()) first = Math.min(first, message.seq);
    return first;
  }

  /**
   * @param {Room} room
   * @param {string} userId
   */
  addMember(room, userId) {
    if (!room.members.has(userId)) room.members.set(userId, { userId, online: undefined });
    return /** @type {Member} */ (room.members.get(userId));
  }

  /**
   * @param {string} userId
   * @param {string | undefined} displayName
   */
  learnName(userId, displayName) {
    if (typeof displayName === "string" && displayName !== "") this.names.set(userId, displayName);
  }

  /** The name to show for a user: the display name when known, else the user id. @param {string} userId */
  nameOf(userId) {
    const name = this.names.get(userId) ?? userId;
    return userId === this.me ? `${name} (you)` : name;
  }

  /**
   * For each other member, the last message of someone else's they have read: messageId -> names.
   * @param {Room} room
   * @returns {Map<string, string[]>}
   */
  receipts(room) {
    const messages = this.timeline(room);
    /** @type {Map<string, string[]>} */
    const byMessage = new Map();
    for (const [userId, seq] of room.readers) {
      if (userId === this.me) continue;
      const last = messages.findLast((message) => message.seq <= seq && message.senderId !== userId);
      if (last === undefined) continue;
      byMessage.set(last.messageId, [...(byMessage.get(last.messageId) ?? []), this.nameOf(userId)]);
    }
    return byMessage;
  }
}
