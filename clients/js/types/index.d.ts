export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
export { newest } from "./timeline.js";
export type RoomListing = import("./client.js").RoomListing;
export type RoomsPage = import("./client.js").RoomsPage;
export type Message = import("./timeline.js").Message;
export type Tombstone = import("./timeline.js").Tombstone;
export type Edit = import("./timeline.js").Edit;
export type Entry = import("./timeline.js").Entry;
