/**
 * The local stack the Python test (tests/e2e/test_js_client.py) started, as the Node tests see it:
 * its outputs and pre-made users from CHAT_TEST_STACK, real Cognito sign-in over fetch, tokens with
 * a chosen expiry signed by moto's own key, and the emulator's fault injection.
 */

import { createPrivateKey, sign } from "node:crypto";
import WebSocket from "ws";

import { ChatClient } from "../src/index.js";

/**
 * @typedef {object} StackConfig
 * @property {Record<string, string>} outputs the local stack's outputs (.local/outputs.json)
 * @property {string[]} usernames users created for the Node tests, each used by one test
 * @property {string} password their password
 * @property {Record<string, string>} signingJwk moto's Cognito signing key (a JWK)
 */

const raw = process.env.CHAT_TEST_STACK;
/** @type {StackConfig | undefined} */
export const stack = raw ? JSON.parse(raw) : undefined;
/** `node:test`'s skip option for files run without the stack (the Python test always sets it). */
export const needsStack = stack ? {} : { skip: "CHAT_TEST_STACK is not set: run tests/e2e/test_js_client.py" };

let nextUser = 0;

/** A user of its own for one test: its username and a real ID token from Cognito (moto). */
export async function takeUser() {
  const config = /** @type {StackConfig} */ (stack);
  const username = config.usernames[nextUser++];
  if (username === undefined) throw new Error("the Python test made too few users for the Node tests");
  const idToken = await signIn(username);
  return { username, idToken, userId: claims(idToken).sub };
}

/** Cognito InitiateAuth (USER_PASSWORD_AUTH) over fetch, as a browser would; returns the ID token. */
export async function signIn(username) {
  const config = /** @type {StackConfig} */ (stack);
  const response = await fetch(config.outputs.CognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.outputs.UserPoolClientId,
      AuthParameters: { USERNAME: username, PASSWORD: config.password },
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${JSON.stringify(body)}`);
  return body.AuthenticationResult.IdToken;
}

/** @param {string} token */
export function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

/**
 * The same ID token with another `exp`, re-signed with moto's key: it passes the authorizer as
 * Cognito's own would (the authorizer allows 30 s of clock skew past `exp`).
 * @param {string} token
 * @param {number} exp epoch seconds
 */
export function expiringAt(token, exp) {
  const config = /** @type {StackConfig} */ (stack);
  const [header] = token.split(".");
  const payload = Buffer.from(JSON.stringify({ ...claims(token), exp })).toString("base64url");
  const key = createPrivateKey({ key: config.signingJwk, format: "jwk" });
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), key).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

/** The emulator drops the TCP connection: no close frame, and API Gateway's $disconnect is lost. */
export async function vanish(connectionId) {
  const config = /** @type {StackConfig} */ (stack);
  const base = config.outputs.ConnectionsEndpoint.replace(/\/[^/]*$/, "");
  const response = await fetch(`${base}/_emulator/connections/${connectionId}/vanish`, { method: "POST" });
  if (response.status !== 204) throw new Error(`vanish: ${response.status} ${await response.text()}`);
}

/**
 * A ChatClient on the local stack (Node's WebSocket: `ws`).
 * @param {() => Promise<string> | string} getToken
 * @param {Partial<import("../src/client.js").ChatClientOptions>} [options]
 */
export function clientFor(getToken, options = {}) {
  const config = /** @type {StackConfig} */ (stack);
  return new ChatClient({
    url: config.outputs.WebSocketUrl,
    getToken,
    WebSocket: /** @type {any} */ (WebSocket),
    reconnect: { initialDelayMs: 50, maxDelayMs: 500, factor: 2, jitter: 0.5 },
    ...options,
  });
}

/**
 * Resolves once `predicate()` holds (checked on every event loop turn), or rejects after `timeoutMs`.
 * @param {() => boolean} predicate
 * @param {string} what
 */
export async function until(predicate, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
