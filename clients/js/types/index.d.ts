export { ChatClient } from "./client.js";
export { ChatError } from "./errors.js";
export { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
