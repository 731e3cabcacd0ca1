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
export const DEFAULT_BACKOFF = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
});

/**
 * @param {number} attempt how many attempts failed in a row before this one
 * @param {BackoffOptions} options
 * @param {() => number} [random] a number in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, options, random = Math.random) {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
  return ceiling * (1 - options.jitter + options.jitter * random());
}

/**
 * Checks backoff options, so that a typo fails at construction rather than as a reconnect storm.
 * @param {BackoffOptions} options
 */
export function checkBackoff(options) {
  const { initialDelayMs, maxDelayMs, factor, jitter } = options;
  if (!(initialDelayMs >= 0 && maxDelayMs >= initialDelayMs && factor >= 1 && jitter >= 0 && jitter <= 1)) {
    throw new RangeError(
      "reconnect needs 0 <= initialDelayMs <= maxDelayMs, factor >= 1 and 0 <= jitter <= 1",
    );
  }
}
