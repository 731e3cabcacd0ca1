/**
 * The chat backend's JavaScript client: `ChatClient`, the `ChatError` it rejects with, and `newest`
 * (which of two states of one message to show).
 */
export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
export { newest } from "./timeline.js";
/** @typedef {import("./client.js").RoomListing} RoomListing */
/** @typedef {import("./client.js").RoomsPage} RoomsPage */
/** @typedef {import("./timeline.js").Message} Message */
/** @typedef {import("./timeline.js").Tombstone} Tombstone */
/** @typedef {import("./timeline.js").Edit} Edit */
/** @typedef {import("./timeline.js").Entry} Entry */
