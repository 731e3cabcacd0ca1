/**
 * Reading an ID token's claims without verifying it: the client only needs `exp` (when to reauth)
 * and `sub` (the user id, to recognise its own messages). The server verifies the token.
 */
/**
 * @param {string} token a JWT
 * @returns {{exp?: number, sub?: string}} its payload, or `{}` when it cannot be read
 */
export function claimsOf(token: string): {
    exp?: number;
    sub?: string;
};
