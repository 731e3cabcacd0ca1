/**
 * Reading an ID token's claims without verifying it: the client only needs `exp` (when to reauth)
 * and `sub` (the user id, to recognise its own messages). The server verifies the token.
 */

/**
 * @param {string} token a JWT
 * @returns {{exp?: number, sub?: string}} its payload, or `{}` when it cannot be read
 */
export function claimsOf(token) {
  const payload = token.split(".")[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}
