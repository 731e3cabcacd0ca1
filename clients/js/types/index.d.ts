export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
