/** The chat backend's JavaScript client: `ChatClient` and the `ChatError` it rejects with. */
export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
/** @typedef {import("./client.js").RoomListing} RoomListing */
/** @typedef {import("./client.js").RoomsPage} RoomsPage */
