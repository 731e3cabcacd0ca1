/**
 * What the page knows about the user's rooms: messages (each once, in seq order, each as it is now:
 * its newest version or its tombstone), unread and mention counts, members with their names and
 * presence, how far each member has read, and who an `@name` names. No DOM here.
 */

import { newest } from "@serverless-chat/client";

/** @typedef {import("@serverless-chat/client").Message} Message */
/** @typedef {import("@serverless-chat/client").Tombstone} Tombstone */
/** @typedef {import("@serverless-chat/client").Edit} Edit */
/** @typedef {import("@serverless-chat/client").Entry} Entry */
/** @typedef {import("@serverless-chat/client").Quote} Quote */

/**
 * @typedef {object} Member
 * @property {string} userId
 * @property {boolean | undefined} online undefined until a `presence` frame says
 *
 * @typedef {object} Room
 * @property {string} roomId
 * @property {string} name
 * @property {boolean} open
 * @property {number} unreadCount
 * @property {number} mentionCount messages after your read position that mention you (the server
 *   stops at 100)
 * @property {number} lastReadSeq
 * @property {number} lastSeq
 * @property {Map<string, Entry>} messages by messageId
 * @property {boolean} historyLoaded
 * @property {boolean} hasOlder
 * @property {Map<string, Member>} members by userId
 * @property {Map<string, number>} readers userId -> the seq they have read up to
 * @property {number} [memberCount] from `listRooms`, where the backend counts members
 * @property {number} [onlineCount] from `listRooms`, where the backend has presence
 */

/** The server keeps at most this many mentions of a message. */
export const MAX_MENTIONS = 20;

export class RoomStore {
  /** @type {Map<string, Room>} */
  rooms = new Map();
  /** @type {Map<string, string>} userId -> display name, from any frame that carried one */
  names = new Map();
  /** @type {string | undefined} */
  me;

  /**
   * A room from `listRooms` items, a `room` frame's room, or a `createRoom` reply.
   * @param {{roomId: string, name: string, open?: boolean, unreadCount?: number, mentionCount?: number,
   *   lastReadSeq?: number, lastMessage?: Entry | null, memberIds?: string[], memberCount?: number,
   *   onlineCount?: number}} item
   * @returns {Room}
   */
  upsert(item) {
    /** @type {Room} */
    const room = this.rooms.get(item.roomId) ?? {
      roomId: item.roomId,
      name: item.name,
      open: Boolean(item.open),
      unreadCount: 0,
      mentionCount: 0,
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
    if (item.mentionCount !== undefined) room.mentionCount = item.mentionCount;
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
   * Adds messages (live or from history; a page may hold newer versions of known ones, or their
   * tombstones); returns those that were new.
   * @param {Room} room
   * @param {Entry[]} messages
   */
  addMessages(room, messages) {
    const added = [];
    for (const message of messages) {
      const known = room.messages.get(message.messageId);
      if (known !== undefined) {
        room.messages.set(message.messageId, newest(known, message));
        continue;
      }
      room.messages.set(message.messageId, message);
      room.lastSeq = Math.max(room.lastSeq, message.seq);
      if (message.senderId !== undefined) {
        this.learnName(message.senderId, message.displayName);
        const quote = "deleted" in message ? undefined : message.replyTo;
        if (quote !== undefined && "senderId" in quote) this.learnName(quote.senderId, quote.displayName);
        this.addMember(room, message.senderId);
        // Sending moves the sender's read position to their message, with no `read` frame for it.
        this.markReader(room, message.senderId, message.seq);
      }
      added.push(message);
    }
    return added;
  }

  /**
   * A message's new version or its tombstone (the client's `messageEdited` and `messageDeleted`);
   * a tombstone of a message not shown takes its place when that is within what is shown, or new.
   * @param {Room} room
   * @param {Edit | Tombstone} change
   * @returns {boolean} whether the log changed
   */
  change(room, change) {
    const known = room.messages.get(change.messageId);
    if (known !== undefined) {
      const next = newest(known, change);
      room.messages.set(change.messageId, next);
      return next !== known;
    }
    if (!("deleted" in change)) return false; // a message not shown: its history page has the new version
    if (change.seq < this.firstSeq(room) && change.seq <= room.lastSeq) return false; // older than shown
    room.messages.set(change.messageId, change);
    room.lastSeq = Math.max(room.lastSeq, change.seq);
    return true;
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

  /** @param {Room} room @returns {Entry[]} ascending seq */
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
   * The members an `@name` in `content` names (by their display names; at most MAX_MENTIONS).
   * @param {Room} room
   * @param {string} content
   * @returns {string[]} user ids
   */
  mentionsIn(room, content) {
    const named = this.mentionsOf(room.members.keys(), content).flatMap((mention) => mention.userIds);
    return [...new Set(named)].slice(0, MAX_MENTIONS);
  }

  /**
   * Where `content` says `@name` for one of `userIds` (the longest name where several start there),
   * in order.
   * @param {Iterable<string>} userIds
   * @param {string} content
   * @returns {{index: number, length: number, userIds: string[]}[]}
   */
  mentionsOf(userIds, content) {
    /** @type {Map<string, string[]>} display name -> user ids */
    const byName = new Map();
    for (const userId of userIds) {
      const name = this.names.get(userId);
      if (name !== undefined) byName.set(name, [...(byName.get(name) ?? []), userId]);
    }
    if (byName.size === 0) return [];
    const names = [...byName.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    const pattern = new RegExp(`@(${names.join("|")})(?![\\p{L}\\p{N}_])`, "gu");
    return [...content.matchAll(pattern)].map((match) => ({
      index: match.index,
      length: match[0].length,
      userIds: /** @type {string[]} */ (byName.get(match[1])),
    }));
  }

  /**
   * For each other member, the last message of someone else's they have read (not a deleted one):
   * messageId -> names.
   * @param {Room} room
   * @returns {Map<string, string[]>}
   */
  receipts(room) {
    const messages = this.timeline(room);
    /** @type {Map<string, string[]>} */
    const byMessage = new Map();
    for (const [userId, seq] of room.readers) {
      if (userId === this.me) continue;
      const last = messages.findLast(
        (message) => message.seq <= seq && message.senderId !== userId && !("deleted" in message),
      );
      if (last === undefined) continue;
      byMessage.set(last.messageId, [...(byMessage.get(last.messageId) ?? []), this.nameOf(userId)]);
    }
    return byMessage;
  }
}

/** @param {string} text @returns {string} `text` matching itself in a RegExp */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
