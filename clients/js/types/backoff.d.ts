/**
 * @param {number} attempt how many attempts failed in a row before this one
 * @param {BackoffOptions} options
 * @param {() => number} [random] a number in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random?: () => number): number;
/**
 * Checks backoff options, so that a typo fails at construction rather than as a reconnect storm.
 * @param {BackoffOptions} options
 */
export function checkBackoff(options: BackoffOptions): void;
/**
 * Jittered exponential backoff: how long to wait before reconnect attempt `attempt` (0-based).
 *
 * The delay grows by `factor` from `initialDelayMs` up to `maxDelayMs`; `jitter` (0 to 1) is the
 * share of it that is random, so that clients dropped together do not reconnect together.
 *
 * @typedef {object} BackoffOptions
 * @property {number} initialDelayMs
 * @property {number} maxDelayMs
 * @property {number} factor
 * @property {number} jitter
 */
/** @type {BackoffOptions} */
export const DEFAULT_BACKOFF: BackoffOptions;
/**
 * Jittered exponential backoff: how long to wait before reconnect attempt `attempt` (0-based).
 *
 * The delay grows by `factor` from `initialDelayMs` up to `maxDelayMs`; `jitter` (0 to 1) is the
 * share of it that is random, so that clients dropped together do not reconnect together.
 */
export type BackoffOptions = {
    initialDelayMs: number;
    maxDelayMs: number;
    factor: number;
    jitter: number;
};
