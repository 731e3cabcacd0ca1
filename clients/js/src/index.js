/**
 * The chat backend's JavaScript client: `ChatClient`, the `ChatError` it rejects with, `newest`
 * (which of two states of one message to show), and `quoteOf` and `replyQuote` (what to show of a
 * reply's parent).
 */
export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
export { newest, quoteOf, replyQuote } from "./timeline.js";
/** @typedef {import("./client.js").RoomListing} RoomListing */
/** @typedef {import("./client.js").RoomsPage} RoomsPage */
/** @typedef {import("./timeline.js").Message} Message */
/** @typedef {import("./timeline.js").Tombstone} Tombstone */
/** @typedef {import("./timeline.js").Edit} Edit */
/** @typedef {import("./timeline.js").Entry} Entry */
/** @typedef {import("./timeline.js").Quote} Quote */
