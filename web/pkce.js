/** PKCE (RFC 7636) with S256, and the random values the authorization-code flow needs. */

/** @param {Uint8Array} bytes */
export function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random URL-safe string from `size` random bytes (32 bytes: a 43-character code verifier). */
export function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

/**
 * The S256 code challenge of a verifier: BASE64URL(SHA-256(verifier)).
 * @param {string} verifier
 */
export async function codeChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
