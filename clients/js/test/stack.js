/**
 * The local stack the Python test (tests/e2e/test_js_client.py) started, as the Node tests see it:
 * its outputs from CHAT_TEST_STACK, users and real Cognito sign-in over fetch, tokens with a chosen
 * expiry signed by moto's own key, and the emulator's fault injection.
 */

import { createPrivateKey, sign } from "node:crypto";
import { appendFileSync } from "node:fs";
import WebSocket from "ws";

import { ChatClient } from "../src/index.js";

/**
 * @typedef {object} StackConfig
 * @property {Record<string, string>} outputs the local stack's outputs (.local/outputs.json)
 * @property {string} password the password test users get
 * @property {{kid: string, pem: string}} signingKey moto's Cognito signing key (PKCS#8 PEM)
 */

const raw = process.env.CHAT_TEST_STACK;
/** @type {StackConfig | undefined} */
export const stack = raw ? JSON.parse(raw) : undefined;
/** `node:test`'s skip option for tests that need the stack (the Python test always provides it). */
export const needsStack = stack ? {} : { skip: "CHAT_TEST_STACK is not set: run tests/e2e/test_js_client.py" };

function config() {
  return /** @type {StackConfig} */ (stack);
}

/**
 * One Cognito user pool API call to moto. Admin calls are signed in AWS by the caller's credentials;
 * moto reads only the credential scope (for the region) and checks no signature.
 * @param {string} operation
 * @param {Record<string, unknown>} body
 */
async function cognito(operation, body) {
  const { outputs } = config();
  const response = await fetch(outputs.CognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${outputs.Region}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const reply = await response.json();
  if (!response.ok) throw new Error(`${operation} failed: ${response.status} ${JSON.stringify(reply)}`);
  return reply;
}

/** A new user, created by an administrator, with a real ID token from Cognito (moto). */
export async function takeUser() {
  const { outputs, password } = config();
  const username = `js-${crypto.randomUUID().slice(0, 12)}@example.com`;
  await cognito("AdminCreateUser", {
    UserPoolId: outputs.UserPoolId,
    Username: username,
    MessageAction: "SUPPRESS",
    UserAttributes: [
      { Name: "email", Value: username },
      { Name: "email_verified", Value: "true" },
    ],
  });
  await cognito("AdminSetUserPassword", { UserPoolId: outputs.UserPoolId, Username: username, Password: password, Permanent: true });
  const idToken = await signIn(username);
  return { username, idToken, userId: claims(idToken).sub };
}

/** Cognito InitiateAuth (USER_PASSWORD_AUTH), unsigned as a browser sends it; returns the ID token. */
export async function signIn(/** @type {string} */ username) {
  const { outputs, password } = config();
  const response = await fetch(outputs.CognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: outputs.UserPoolClientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
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
 * The same ID token with another `exp` (and `iat`), re-signed with moto's key: it passes the authorizer as
 * Cognito's own would (the authorizer allows 30 s of clock skew past `exp`).
 * @param {string} token
 * @param {number} exp epoch seconds
 */
export function expiringAt(token, exp) {
  const { signingKey } = config();
  const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT", kid: signingKey.kid })).toString("base64url");
  // Issued an hour before it expires, as Cognito's are (the verifier refuses an iat after exp).
  const payload = Buffer.from(JSON.stringify({ ...claims(token), exp, iat: exp - 3600 })).toString("base64url");
  const key = createPrivateKey(signingKey.pem);
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), key).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

/** The emulator drops the TCP connection: no close frame, and API Gateway's $disconnect is lost. */
export async function vanish(connectionId) {
  const base = config().outputs.ConnectionsEndpoint.replace(/\/[^/]*$/, "");
  const response = await fetch(`${base}/_emulator/connections/${connectionId}/vanish`, { method: "POST" });
  if (response.status !== 204) throw new Error(`vanish: ${response.status} ${await response.text()}`);
}

/**
 * `Base` that also appends every frame it sends and passes on to CHAT_TEST_FRAMES (JSON lines):
 * the Python test validates each against docs/asyncapi.yaml once node is done.
 * @param {any} Base a WebSocket class
 */
function recording(Base) {
  const file = process.env.CHAT_TEST_FRAMES;
  if (!file) return Base;
  /** @param {Record<string, unknown>} entry */
  const record = (entry) => appendFileSync(file, `${JSON.stringify(entry)}\n`);
  return class RecordingWebSocket extends Base {
    /** @param {any} data @param {any[]} rest */
    send(data, ...rest) {
      record({ sent: JSON.parse(String(data)) });
      super.send(data, ...rest);
    }
    /** @param {any} handler */
    set onmessage(handler) {
      super.onmessage = handler && ((/** @type {any} */ event) => {
        record({ received: JSON.parse(String(event.data)) });
        handler(event);
      });
    }
    get onmessage() {
      return super.onmessage;
    }
  };
}

/**
 * A ChatClient on the local stack (Node's WebSocket: `ws`), its frames recorded unless
 * `offContract` (for a test that sends what the contract forbids, to see it refused).
 * @param {() => Promise<string> | string} getToken
 * @param {Partial<import("../src/client.js").ChatClientOptions> & {offContract?: boolean}} [options]
 */
export function clientFor(getToken, { offContract = false, ...options } = {}) {
  const Base = options.WebSocket ?? WebSocket;
  return new ChatClient({
    url: config().outputs.WebSocketUrl,
    getToken,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500, factor: 2, jitter: 0.5 },
    ...options,
    WebSocket: offContract ? Base : recording(Base),
  });
}

/**
 * A WebSocket (`ws`) that shows each frame it receives to `inspect` first; the frame reaches the
 * client only if `inspect` returns true. How tests see the wire and lose frames in transit.
 * @param {(frame: Record<string, any>) => boolean} inspect
 */
export function wireTap(inspect) {
  return class TappedWebSocket extends WebSocket {
    /** @param {any} handler */
    set onmessage(handler) {
      super.onmessage = handler && ((/** @type {any} */ event) => inspect(JSON.parse(String(event.data))) && handler(event));
    }
    get onmessage() {
      return super.onmessage;
    }
  };
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
