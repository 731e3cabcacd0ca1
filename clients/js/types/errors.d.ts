/**
 * The error every failed request rejects with, and the payload of the client's `error` event.
 *
 * `code` is one of the server's error codes (docs/PROTOCOL.md#errors) or one of the client's own:
 * `TIMEOUT` (no reply within `requestTimeoutMs`), `CONNECTION_LOST` (the connection dropped before
 * the reply came; the request may or may not have been carried out), `CONNECT_FAILED` (the first
 * connection could not be opened), `CLOSED` (the client was closed), `BAD_FRAME` (the server sent
 * something that is not a JSON object).
 */
export class ChatError extends Error {
    /**
     * The ChatError of a server `error` frame.
     * @param {{code: string, message: string, retryable: boolean, action?: string, requestId?: string}} frame
     */
    static fromFrame(frame: {
        code: string;
        message: string;
        retryable: boolean;
        action?: string;
        requestId?: string;
    }): ChatError;
    /**
     * @param {string} code
     * @param {string} message
     * @param {{retryable?: boolean, action?: string, requestId?: string}} [details]
     */
    constructor(code: string, message: string, details?: {
        retryable?: boolean;
        action?: string;
        requestId?: string;
    });
    /** @type {string} */
    code: string;
    /** @type {boolean} whether the same request may succeed if sent again */
    retryable: boolean;
    /** @type {string | undefined} the action the failed request named */
    action: string | undefined;
    /** @type {string | undefined} */
    requestId: string | undefined;
}
