export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
export type RoomListing = import("./client.js").RoomListing;
export type RoomsPage = import("./client.js").RoomsPage;
